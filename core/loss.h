// Losses: a separate small interface from layers. Each returns the SUM of per-sample losses and
// writes the gradient already multiplied by the caller's scale, which is 1/B for the global
// batch B, so that ranks holding parts of one batch sum to the same gradient as one process.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/tensor.h"
#include "proto/config.pb.h"

namespace mlp {

// The targets of N samples: class labels for classifying losses, (K, N) values for regression.
template <typename T>
struct Targets {
  const int32_t* labels = nullptr;    // N class indices (LOGISTIC, PERCEPTRON: 0 or 1)
  const Matrix<T>* values = nullptr;  // (K, N); SQUARED_ERROR uses one-hot labels when null
};

// What the training data offers a loss: class labels 0..classes-1, or (no labels) real-valued
// targets of target_rows rows per sample.
struct TargetShape {
  bool has_labels = true;
  int classes = 0;
  int target_rows = 0;
};

// How a loss turns a column of outputs into class probabilities.
enum class ProbabilityLink {
  kNone,         // the outputs are not probabilities (squared error, the perceptron)
  kSoftmax,      // softmax over the column's C outputs
  kSigmoidPair,  // one output a: (1 - sigmoid(a), sigmoid(a)) for classes 0 and 1
};

// One class per loss kind, made by make_loss; adding a loss is its class and a line in
// make_loss. Everything that depends on the kind (data it reads, outputs it needs, whether
// accuracy means anything, how its outputs read as probabilities) is asked of the loss, not
// switched on elsewhere.
template <typename T>
class Loss {
 public:
  virtual ~Loss() = default;
  // True when the targets are class labels and accuracy is meaningful; false for regression on
  // real-valued targets (a CSV's target columns are read as values then).
  virtual bool classifies() const = 0;
  // The model outputs this loss needs for data of that shape. Throws DataError (one line) when
  // the labels do not suit the loss.
  virtual int outputs_for(const TargetShape& data) const = 0;
  // Reads outputs (O, N). Returns the sum over the N samples of the per-sample loss. When
  // doutputs is non-null, OVERWRITES it (O, N) with scale * d(sum)/d(outputs).
  virtual double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                          Matrix<T>* doutputs) const = 0;
  // The class of column n: the row of the largest output (its first), or for the single-output
  // losses 1 when the output is positive.
  virtual int predicted_class(const Matrix<T>& outputs, Eigen::Index n) const {
    Eigen::Index best = 0;
    outputs.col(n).maxCoeff(&best);
    return static_cast<int>(best);
  }
  // Samples whose predicted class equals the label; 0 when the targets have no labels.
  virtual int64_t count_correct(const Matrix<T>& outputs, const Targets<T>& targets) const {
    if (targets.labels == nullptr) return 0;
    int64_t correct = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n)
      correct += predicted_class(outputs, n) == targets.labels[n];
    return correct;
  }
  // The link through which the outputs read as class probabilities (kNone: they do not), for
  // whoever must rebuild it outside this code (the ONNX export).
  virtual ProbabilityLink link() const { return ProbabilityLink::kNone; }
  bool gives_probabilities() const { return link() != ProbabilityLink::kNone; }
  // OVERWRITES probs (C, N) with each column's class probabilities, by the arithmetic the loss
  // itself uses. Only when gives_probabilities(); throws std::logic_error otherwise.
  virtual void probabilities(const Matrix<T>& outputs, Matrix<T>* probs) const;
  // Whether a data file's labels may be written -1/+1 for classes 0/1 (the perceptron's targets
  // t are -1/+1 in the lecture). Read by the CSV options of a run and of evaluate.
  virtual bool reads_signed_labels() const { return false; }
  // Empty when a network of `outputs` output units suits this loss (one for the single-output
  // losses, at least two for softmax); else why not, a phrase for the caller's error line such
  // as "LOGISTIC needs 1 output, the model has 3". Asked of model files, which are outside input.
  virtual std::string outputs_problem(int outputs) const {
    (void)outputs;
    return "";
  }
};

// Throws UsageError "--loss: ..." for a value no loss is built for.
template <typename T>
std::unique_ptr<Loss<T>> make_loss(pb::LossKind kind);

// make_loss<float>(kind)->classifies().
bool loss_classifies(pb::LossKind kind);

}  // namespace mlp
