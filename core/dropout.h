// Inverted dropout: in training each unit is kept with probability 1-p and scaled by 1/(1-p),
// so the expected activation is unchanged and evaluation is the identity. Each decision is a
// pure function of (seed, step, global sample index, dropout layer, unit) (core/keep_bits.h), so
// masks do not depend on how samples are spread over ranks, and a resumed run draws the same
// masks. A training forward draws them as bits, which its backward reads again.
#pragma once

#include <cstdint>
#include <vector>

#include "core/layer.h"

namespace mlp {

template <typename T>
class DropoutLayer : public Layer<T> {
 public:
  // rate: drop probability in [0, 1). layer: ordinal of this dropout layer in the model (the
  // input dropout is 0), part of the RNG key.
  DropoutLayer(float rate, int size, int layer);
  int inputs() const override { return size_; }
  int outputs() const override { return size_; }
  // Training needs ctx.sample_ids; evaluation copies x.
  void forward(const Matrix<T>& x, Matrix<T>& y, const ForwardContext& ctx) override;
  // dx = dy * mask / (1 - rate) with the mask of the last forward (identity after evaluation).
  void backward(const Matrix<T>& x, const Matrix<T>& y, const Matrix<T>& dy,
                Matrix<T>* dx) override;
  // Whether unit u of sample column j was kept in the last training forward.
  bool kept(int u, Eigen::Index j) const;
  // Fixes the keep decisions for gradient checks, keeps (size, N): forward and backward use them
  // instead of drawing.
  void set_fixed_keeps(const Eigen::Array<bool, Eigen::Dynamic, Eigen::Dynamic>& keeps);

  // For a layer that applies this dropout in its own pass over n samples: records the mode and,
  // in training, draws the keep decisions of all n columns (unless fixed); returns whether a
  // mask applies.
  bool begin_forward(Eigen::Index n, const ForwardContext& ctx);
  // out = in * mask for sample column j of the last training forward: in and out hold size()
  // values, and may be the same. Forward applies it to the activations, backward to their
  // gradient.
  void apply_mask(Eigen::Index j, const T* in, T* out) const;
  // Whether the last forward applied a mask.
  bool masked() const { return last_training_; }

 private:
  float rate_;
  int size_;
  int layer_;
  int words_;  // of keep bits per column
  T scale_;    // of a kept unit, 1 / (1 - rate)
  bool fixed_ = false;
  bool last_training_ = false;
  std::vector<uint64_t> keeps_;  // words_ per sample column, N columns
};

}  // namespace mlp
