// Inverted dropout: in training each unit is kept with probability 1-p and scaled by 1/(1-p),
// so the expected activation is unchanged and evaluation is the identity. Each decision is a
// pure function of (seed, step, global sample index, dropout layer, unit), so masks do not
// depend on how samples are spread over ranks, and a resumed run draws the same masks.
#pragma once

#include <cstdint>

#include "core/layer.h"

namespace mlp {

// The keep decision of one unit of one sample; exposed for tests.
bool dropout_keeps(uint64_t seed, int64_t step, int64_t sample, int layer, int unit, float rate);

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
  // The scale (0 or 1/(1-rate)) of each unit in the last training forward, (size, N).
  const Matrix<T>& mask() const { return mask_; }
  // Fixes the mask for gradient checks: forward and backward use it instead of drawing.
  void set_fixed_mask(const Matrix<T>& mask);

  // For a layer that applies this dropout in its own pass over n samples: records the mode and
  // sizes the mask; returns whether a mask applies (training).
  bool begin_forward(Eigen::Index n, const ForwardContext& ctx);
  // The mask of sample column j, drawn now unless fixed (after begin_forward returned true).
  typename Matrix<T>::ColXpr mask_column(Eigen::Index j, const ForwardContext& ctx);
  // Whether the last forward applied a mask.
  bool masked() const { return last_training_; }

 private:
  float rate_;
  int size_;
  int layer_;
  bool fixed_ = false;
  bool last_training_ = false;
  Matrix<T> mask_;  // (size, N)
};

}  // namespace mlp
