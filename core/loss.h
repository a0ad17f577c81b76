// Losses: a separate small interface from layers. Each returns the SUM of per-sample losses and
// writes the gradient already multiplied by the caller's scale, which is 1/B for the global
// batch B, so that ranks holding parts of one batch sum to the same gradient as one process.
#pragma once

#include <cstdint>
#include <memory>

#include "core/tensor.h"
#include "proto/config.pb.h"

namespace mlp {

// The targets of N samples: class labels for classifying losses, (K, N) values for regression.
template <typename T>
struct Targets {
  const int32_t* labels = nullptr;    // N class indices (LOGISTIC, PERCEPTRON: 0 or 1)
  const Matrix<T>* values = nullptr;  // (K, N); SQUARED_ERROR uses one-hot labels when null
};

template <typename T>
class Loss {
 public:
  virtual ~Loss() = default;
  // Reads outputs (O, N). Returns the sum over the N samples of the per-sample loss. When
  // doutputs is non-null, OVERWRITES it (O, N) with scale * d(sum)/d(outputs).
  virtual double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                          Matrix<T>* doutputs) const = 0;
  // Samples whose predicted class equals the label (argmax, or the sign / 0.5 threshold of a
  // single output); 0 when the targets have no labels.
  virtual int64_t count_correct(const Matrix<T>& outputs, const Targets<T>& targets) const = 0;
};

template <typename T>
std::unique_ptr<Loss<T>> make_loss(pb::LossKind kind);

// True for the losses whose targets are class labels and whose accuracy is meaningful.
bool loss_classifies(pb::LossKind kind);

}  // namespace mlp
