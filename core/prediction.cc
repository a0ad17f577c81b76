// Predictions from raw outputs; see prediction.h. The links match the losses' own arithmetic
// (core/loss.cc), so a prediction agrees with what training counted as correct.
#include "core/prediction.h"

#include <cmath>
#include <stdexcept>

namespace mlp {

int predicted_class(pb::LossKind loss, const Matrix<float>& outputs, Eigen::Index n) {
  if (loss == pb::LOGISTIC || loss == pb::PERCEPTRON) return outputs(0, n) > 0.0f ? 1 : 0;
  Eigen::Index best = 0;
  outputs.col(n).maxCoeff(&best);
  return static_cast<int>(best);
}

bool has_probabilities(pb::LossKind loss) {
  return loss == pb::SOFTMAX_CROSS_ENTROPY || loss == pb::LOGISTIC;
}

void class_probabilities(pb::LossKind loss, const Matrix<float>& outputs, Matrix<float>* probs) {
  if (!has_probabilities(loss)) throw std::invalid_argument("the loss gives no probabilities");
  const Eigen::Index n = outputs.cols();
  if (loss == pb::LOGISTIC) {
    probs->resize(2, n);
    for (Eigen::Index j = 0; j < n; ++j) {
      // Only ever exponentiates a non-positive number, as the loss does.
      const float a = outputs(0, j);
      const float e = std::exp(-std::abs(a));
      const float p1 = a >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
      (*probs)(0, j) = 1.0f - p1;
      (*probs)(1, j) = p1;
    }
    return;
  }
  probs->resize(outputs.rows(), n);
  for (Eigen::Index j = 0; j < n; ++j) {
    auto p = probs->col(j);
    p.array() = (outputs.col(j).array() - outputs.col(j).maxCoeff()).exp();
    p /= p.sum();
  }
}

ConfusionMatrix::ConfusionMatrix(int classes)
    : classes_(classes), counts_(static_cast<size_t>(classes) * static_cast<size_t>(classes)) {}

double ConfusionMatrix::support(int k) const {
  double sum = 0;
  for (int p = 0; p < classes_; ++p) sum += count(k, p);
  return sum;
}

double ConfusionMatrix::precision(int k) const {
  double predicted = 0;
  for (int label = 0; label < classes_; ++label) predicted += count(label, k);
  return predicted > 0 ? count(k, k) / predicted : 0.0;
}

double ConfusionMatrix::recall(int k) const {
  const double labelled = support(k);
  return labelled > 0 ? count(k, k) / labelled : 0.0;
}

double ConfusionMatrix::f1(int k) const {
  const double p = precision(k), r = recall(k);
  return p + r > 0 ? 2 * p * r / (p + r) : 0.0;
}

}  // namespace mlp
