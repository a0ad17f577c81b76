// The four losses of the lecture: softmax cross-entropy, squared error, logistic (sigmoid with
// binary cross-entropy) and the perceptron criterion. Sums and gradients are computed per
// column in one pass and accumulated in double, so a float batch loses no precision in the sum.
#include "core/loss.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "core/errors.h"

namespace mlp {
namespace {

void require(bool ok, const char* what) {
  if (!ok) throw std::invalid_argument(what);
}

// exp(z - max z), elementwise over the column: the unnormalized softmax, never overflowing.
template <typename Column>
auto shifted_exp(const Column& z) {
  return (z.array() - z.maxCoeff()).exp();
}

// The sigmoid of a from e = exp(-|a|): only ever exponentiates a non-positive number.
template <typename T>
T sigmoid_from(T a, T e) {
  return a >= T(0) ? T(1) / (T(1) + e) : e / (T(1) + e);
}

template <typename T>
class SoftmaxCrossEntropy : public Loss<T> {
 public:
  bool classifies() const override { return true; }
  int outputs_for(const TargetShape& data) const override {
    if (data.classes < 2)
      throw DataError("softmax cross-entropy needs at least 2 classes in the labels");
    return data.classes;
  }
  std::string outputs_problem(int outputs) const override {
    return outputs < 2 ? "softmax cross-entropy needs at least 2 outputs, the model has " +
                             std::to_string(outputs)
                       : "";
  }

  double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                  Matrix<T>* doutputs) const override {
    require(targets.labels != nullptr, "softmax cross-entropy needs class labels");
    if (doutputs != nullptr) doutputs->resize(outputs.rows(), outputs.cols());
    double total = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      const auto z = outputs.col(n);  // (O, 1)
      const int32_t label = targets.labels[n];
      // Shifting by the maximum keeps exp from overflowing; the loss is log-sum-exp minus the
      // label's logit, which never forms the probability's logarithm directly.
      T sum;
      if (doutputs != nullptr) {
        auto dz = doutputs->col(n);
        dz.array() = shifted_exp(z);
        sum = dz.sum();
        dz *= scale / sum;
        dz(label) -= scale;
      } else {
        sum = shifted_exp(z).sum();
      }
      total += static_cast<double>(std::log(sum) + z.maxCoeff() - z(label));
    }
    return total;
  }

  ProbabilityLink link() const override { return ProbabilityLink::kSoftmax; }
  void probabilities(const Matrix<T>& outputs, Matrix<T>* probs) const override {
    probs->resize(outputs.rows(), outputs.cols());
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      auto p = probs->col(n);
      p.array() = shifted_exp(outputs.col(n));
      p /= p.sum();
    }
  }
};

template <typename T>
class SquaredError : public Loss<T> {
 public:
  bool classifies() const override { return false; }
  // Real-valued targets, or one-hot class labels.
  int outputs_for(const TargetShape& data) const override {
    return data.has_labels ? data.classes : data.target_rows;
  }

  double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                  Matrix<T>* doutputs) const override {
    require(targets.values != nullptr || targets.labels != nullptr,
            "squared error needs target values or class labels");
    if (targets.values != nullptr) {
      require(targets.values->rows() == outputs.rows() && targets.values->cols() == outputs.cols(),
              "squared error: targets and outputs differ in shape");
    }
    if (doutputs != nullptr) doutputs->resize(outputs.rows(), outputs.cols());
    double total = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      for (Eigen::Index o = 0; o < outputs.rows(); ++o) {
        const T target =
            targets.values != nullptr ? (*targets.values)(o, n) : T(o == targets.labels[n] ? 1 : 0);
        const T r = outputs(o, n) - target;
        total += 0.5 * static_cast<double>(r) * static_cast<double>(r);
        if (doutputs != nullptr) (*doutputs)(o, n) = scale * r;
      }
    }
    return total;
  }
};

// Both single-output losses read labels 0/1 and one output row.
template <typename T>
void require_binary(const Matrix<T>& outputs, const Targets<T>& targets, const char* name) {
  if (targets.labels == nullptr || outputs.rows() != 1) {
    throw std::invalid_argument(std::string(name) + " needs one output and 0/1 labels");
  }
}

int binary_outputs(const TargetShape& data, const char* name) {
  if (data.classes > 2)
    throw DataError(std::string("the ") + name +
                    " loss needs labels 0 and 1, but the labels go up to " +
                    std::to_string(data.classes - 1));
  return 1;
}

std::string single_output_problem(int outputs, pb::LossKind kind) {
  return outputs == 1 ? ""
                      : pb::LossKind_Name(kind) + " needs 1 output, the model has " +
                            std::to_string(outputs);
}

template <typename T>
class Logistic : public Loss<T> {
 public:
  bool classifies() const override { return true; }
  int outputs_for(const TargetShape& data) const override {
    return binary_outputs(data, "logistic");
  }
  std::string outputs_problem(int outputs) const override {
    return single_output_problem(outputs, pb::LOGISTIC);
  }

  double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                  Matrix<T>* doutputs) const override {
    require_binary(outputs, targets, "logistic loss");
    if (doutputs != nullptr) doutputs->resize(1, outputs.cols());
    double total = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      const T a = outputs(0, n);
      const T y = T(targets.labels[n]);
      // -log p(y | a) = softplus(a) - y a, with softplus(a) = max(a, 0) + log1p(exp(-|a|))
      // finite for any a; the sigmoid likewise only ever exponentiates a non-positive number.
      const T e = std::exp(-std::abs(a));
      total += static_cast<double>(std::max(a, T(0)) + std::log1p(e) - y * a);
      if (doutputs != nullptr) (*doutputs)(0, n) = scale * (sigmoid_from(a, e) - y);
    }
    return total;
  }

  // sigmoid(a) > 1/2 exactly when a > 0.
  int predicted_class(const Matrix<T>& outputs, Eigen::Index n) const override {
    return outputs(0, n) > T(0) ? 1 : 0;
  }

  ProbabilityLink link() const override { return ProbabilityLink::kSigmoidPair; }
  void probabilities(const Matrix<T>& outputs, Matrix<T>* probs) const override {
    probs->resize(2, outputs.cols());
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      const T a = outputs(0, n);
      const T p1 = sigmoid_from(a, std::exp(-std::abs(a)));
      (*probs)(0, n) = T(1) - p1;
      (*probs)(1, n) = p1;
    }
  }
};

template <typename T>
class Perceptron : public Loss<T> {
 public:
  bool classifies() const override { return true; }
  int outputs_for(const TargetShape& data) const override {
    return binary_outputs(data, "perceptron");
  }
  std::string outputs_problem(int outputs) const override {
    return single_output_problem(outputs, pb::PERCEPTRON);
  }
  bool reads_signed_labels() const override { return true; }

  double evaluate(const Matrix<T>& outputs, const Targets<T>& targets, T scale,
                  Matrix<T>* doutputs) const override {
    require_binary(outputs, targets, "perceptron criterion");
    if (doutputs != nullptr) doutputs->resize(1, outputs.cols());
    double total = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      const T a = outputs(0, n);
      const T t = T(2 * targets.labels[n] - 1);
      total += static_cast<double>(std::max(T(0), -a * t));
      // A sample exactly on the boundary counts as a mistake, so a perceptron starting from
      // zero weights still moves.
      if (doutputs != nullptr) (*doutputs)(0, n) = a * t <= T(0) ? -scale * t : T(0);
    }
    return total;
  }

  int predicted_class(const Matrix<T>& outputs, Eigen::Index n) const override {
    return outputs(0, n) > T(0) ? 1 : 0;
  }

  // Correct only strictly on the label's side, the same boundary the update rule uses (a zero
  // output is predicted class 0 but counts as a mistake for label 0 too).
  int64_t count_correct(const Matrix<T>& outputs, const Targets<T>& targets) const override {
    if (targets.labels == nullptr) return 0;
    int64_t correct = 0;
    for (Eigen::Index n = 0; n < outputs.cols(); ++n) {
      correct += outputs(0, n) * T(2 * targets.labels[n] - 1) > T(0);
    }
    return correct;
  }
};

}  // namespace

template <typename T>
void Loss<T>::probabilities(const Matrix<T>&, Matrix<T>*) const {
  throw std::logic_error("this loss gives no class probabilities");
}

template <typename T>
std::unique_ptr<Loss<T>> make_loss(pb::LossKind kind) {
  switch (kind) {
    case pb::SOFTMAX_CROSS_ENTROPY:
      return std::make_unique<SoftmaxCrossEntropy<T>>();
    case pb::SQUARED_ERROR:
      return std::make_unique<SquaredError<T>>();
    case pb::LOGISTIC:
      return std::make_unique<Logistic<T>>();
    case pb::PERCEPTRON:
      return std::make_unique<Perceptron<T>>();
  }
  throw UsageError("--loss: no loss is built for " + std::to_string(static_cast<int>(kind)));
}

bool loss_classifies(pb::LossKind kind) { return make_loss<float>(kind)->classifies(); }

template class Loss<float>;
template class Loss<double>;
template std::unique_ptr<Loss<float>> make_loss<float>(pb::LossKind kind);
template std::unique_ptr<Loss<double>> make_loss<double>(pb::LossKind kind);

}  // namespace mlp
