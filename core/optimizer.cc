// SGD, momentum (plain and Nesterov) and Adam over the flat buffers. Each step is one pass per
// layout block that brings every parameter, gradient and state value from memory once; the
// block's roles only decide whether weight decay applies. The bf16 copy of the parameters, when
// asked for, is written chunk by chunk while the chunk is in L1.
#include "core/optimizer.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/errors.h"

namespace mlp {
namespace {

class OptimizerBase : public Optimizer {
 public:
  OptimizerBase(const pb::OptimizerConfig& cfg, const std::vector<ParamBlock>& layout,
                int slot_count)
      : Optimizer(layout_size(layout)), layout_(layout), weight_decay_(cfg.weight_decay()) {
    slots_.assign(static_cast<size_t>(slot_count), std::vector<float>(parameter_count_, 0.0f));
  }

  using Optimizer::step;
  void step(float* params, const float* grads, float lr, FlatRange range,
            Bf16* params_bf16) override {
    if (range.begin > range.end || range.end > parameter_count_)
      throw std::logic_error("Optimizer::step: range outside the parameters");
    ++step_count_;
    begin_step(lr);
    for (const ParamBlock& block : layout_) {
      const size_t begin = std::max(block.offset, range.begin);
      const size_t end = std::min(block.offset + block.size(), range.end);
      // A decay of zero leaves an undecayed block's gradient exactly as it was, and keeps one
      // loop body.
      const float decay = block.roles.decayed ? weight_decay_ : 0.0f;
      // Chunks on the fixed grid, so that a range's update is bitwise the whole buffer's.
      for (size_t chunk = begin; chunk < end;) {
        const size_t next = std::min(end, (chunk / kOptimizerGrid + 1) * kOptimizerGrid);
        update(chunk, next - chunk, params + chunk, grads + chunk, decay);
        if (params_bf16 != nullptr) to_bf16(params + chunk, params_bf16 + chunk, next - chunk);
        chunk = next;
      }
    }
  }

 protected:
  // Per-step scalars (learning rate, bias corrections) computed once, not per element; by
  // default just the rate.
  virtual void begin_step(float lr) { lr_ = lr; }
  // Updates the count parameters at w (element `offset` of the buffer) from their gradient g,
  // and the state at the same offset. count <= kOptimizerGrid: the chunk stays in L1 between
  // passes.
  virtual void update(size_t offset, size_t count, float* w, const float* g, float decay) = 0;

  float lr_ = 0;

 private:
  std::vector<ParamBlock> layout_;
  float weight_decay_;
};

class Sgd : public OptimizerBase {
 public:
  Sgd(const pb::OptimizerConfig& cfg, const std::vector<ParamBlock>& layout)
      : OptimizerBase(cfg, layout, 0) {}
  std::vector<std::string> slot_names() const override { return {}; }

 protected:
  void update(size_t /*offset*/, size_t count, float* __restrict w, const float* __restrict g,
              float decay) override {
    for (size_t i = 0; i < count; ++i) w[i] -= lr_ * (g[i] + decay * w[i]);
  }
};

class Momentum : public OptimizerBase {
 public:
  Momentum(const pb::OptimizerConfig& cfg, const std::vector<ParamBlock>& layout)
      : OptimizerBase(cfg, layout, 1), mu_(cfg.momentum()), nesterov_(cfg.nesterov()) {}
  std::vector<std::string> slot_names() const override { return {"velocity"}; }

 protected:
  void update(size_t offset, size_t count, float* __restrict w, const float* __restrict g,
              float decay) override {
    float* __restrict v = slots_[0].data() + offset;
    // nesterov_ is loop-invariant, so the compiler hoists the branch out of the loop.
    for (size_t i = 0; i < count; ++i) {
      const float gi = g[i] + decay * w[i];
      const float vi = mu_ * v[i] + gi;
      v[i] = vi;
      w[i] -= lr_ * (nesterov_ ? gi + mu_ * vi : vi);
    }
  }

 private:
  float mu_;
  bool nesterov_;
};

class Adam : public OptimizerBase {
 public:
  Adam(const pb::OptimizerConfig& cfg, const std::vector<ParamBlock>& layout)
      : OptimizerBase(cfg, layout, 2),
        beta1_(cfg.beta1()),
        beta2_(cfg.beta2()),
        epsilon_(cfg.epsilon()) {}
  std::vector<std::string> slot_names() const override { return {"m", "v"}; }

 protected:
  void begin_step(float lr) override {
    const double t = static_cast<double>(step_count_);
    step_size_ = static_cast<float>(lr / (1.0 - std::pow(static_cast<double>(beta1_), t)));
    inv_correction2_ = static_cast<float>(1.0 / (1.0 - std::pow(static_cast<double>(beta2_), t)));
  }
  // std::sqrt may set errno, which keeps the compiler from vectorizing a loop that calls it;
  // Eigen's packet sqrt does not. The chunk stays in L1 between the moment pass and the
  // parameter pass: memory sees each value once, as in a single loop.
  void update(size_t offset, size_t count, float* w_ptr, const float* g_ptr,
              float decay) override {
    const auto n = static_cast<Eigen::Index>(count);
    Eigen::Map<Eigen::ArrayXf> w(w_ptr, n);
    Eigen::Map<const Eigen::ArrayXf> g(g_ptr, n);
    Eigen::Map<Eigen::ArrayXf> m(slots_[0].data() + offset, n);
    Eigen::Map<Eigen::ArrayXf> v(slots_[1].data() + offset, n);
    m = beta1_ * m + (1.0f - beta1_) * (g + decay * w);
    v = beta2_ * v + (1.0f - beta2_) * (g + decay * w).square();
    w -= step_size_ * m / ((v * inv_correction2_).sqrt() + epsilon_);
  }

 private:
  float beta1_, beta2_, epsilon_;
  float step_size_ = 0;        // lr / (1 - beta1^t)
  float inv_correction2_ = 1;  // 1 / (1 - beta2^t)
};

}  // namespace

std::unique_ptr<Optimizer> make_optimizer(const pb::OptimizerConfig& cfg,
                                          const std::vector<ParamBlock>& layout) {
  switch (cfg.kind()) {
    case pb::SGD:
      return std::make_unique<Sgd>(cfg, layout);
    case pb::MOMENTUM:
      return std::make_unique<Momentum>(cfg, layout);
    case pb::ADAM:
      return std::make_unique<Adam>(cfg, layout);
  }
  throw UsageError("--optimizer: no optimizer is built for " +
                   std::to_string(static_cast<int>(cfg.kind())));
}

}  // namespace mlp
