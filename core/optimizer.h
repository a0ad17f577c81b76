// Optimizers over the flat parameter and gradient buffers. The layout is used only to apply
// weight decay to the blocks whose roles say so. State is flat vectors of the parameters' length,
// so a checkpoint saves it as it is.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/bf16.h"
#include "core/param_store.h"
#include "proto/config.pb.h"

namespace mlp {

// Updates of a range that starts (and, unless it ends the buffer, ends) at a multiple of this
// many elements are bitwise those of the same elements in an update of the whole buffer: the
// optimizers work in chunks on this fixed grid.
constexpr size_t kOptimizerGrid = 1024;

class Optimizer {
 public:
  virtual ~Optimizer() = default;
  // One update of params from grads (both of the layout's total length) at learning rate lr.
  // Weight decay adds weight_decay * w to the gradient of a decayed block before the rule:
  //   SGD:      w -= lr * g
  //   MOMENTUM: v = mu * v + g;  w -= lr * v            (Nesterov: w -= lr * (g + mu * v))
  //   ADAM:     m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; t += 1;
  //             w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
  // Reads grads, updates params and the state; increments step_count().
  void step(float* params, const float* grads, float lr) {
    step(params, grads, lr, FlatRange{0, parameter_count_});
  }
  // The same update of params[range] and of the state there only, from grads[range].
  void step(float* params, const float* grads, float lr, FlatRange range) {
    step(params, grads, lr, range, nullptr);
  }
  // And, unless params_bf16 is null, writes the bf16 copy of the updated params[range] into
  // params_bf16[range] in the same pass (bf16 products read it).
  virtual void step(float* params, const float* grads, float lr, FlatRange range,
                    Bf16* params_bf16) = 0;

  int64_t step_count() const { return step_count_; }
  void set_step_count(int64_t steps) { step_count_ = steps; }
  // State vectors, each of the parameters' length: MOMENTUM {velocity}, ADAM {m, v}, SGD {}.
  std::vector<std::vector<float>>& slots() { return slots_; }
  const std::vector<std::vector<float>>& slots() const { return slots_; }
  virtual std::vector<std::string> slot_names() const = 0;

 protected:
  explicit Optimizer(size_t parameter_count) : parameter_count_(parameter_count) {}

  size_t parameter_count_;
  int64_t step_count_ = 0;
  std::vector<std::vector<float>> slots_;
};

// One class per kind in optimizer.cc; adding one is its class and a line in this factory.
// Throws UsageError "--optimizer: ..." for a value no optimizer is built for.
std::unique_ptr<Optimizer> make_optimizer(const pb::OptimizerConfig& cfg,
                                          const std::vector<ParamBlock>& layout);

}  // namespace mlp
