// Reading a network's raw outputs (O, N) as predictions: the predicted class and class
// probabilities by the loss's link, and the confusion matrix with per-class precision, recall
// and F1 that evaluation reports.
#pragma once

#include <vector>

#include "core/tensor.h"
#include "proto/config.pb.h"

namespace mlp {

// The class of column n: 1 when the single output is positive (logistic, perceptron), else the
// row of the largest output (its first, as the training accuracy counts it).
int predicted_class(pb::LossKind loss, const Matrix<float>& outputs, Eigen::Index n);

// True for the losses whose outputs read as class probabilities: softmax cross-entropy and
// logistic.
bool has_probabilities(pb::LossKind loss);

// OVERWRITES probs (C, N): the softmax of each column, or (1 - sigmoid(a), sigmoid(a)) for the
// logistic loss's single output a. Only for has_probabilities(loss).
void class_probabilities(pb::LossKind loss, const Matrix<float>& outputs, Matrix<float>* probs);

// Counts of (label, predicted) pairs. Counts are doubles so that ranks sum them in one allreduce.
class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);
  int classes() const { return classes_; }
  void add(int label, int predicted) {
    counts_[static_cast<size_t>(label * classes_ + predicted)] += 1;
  }
  double count(int label, int predicted) const {
    return counts_[static_cast<size_t>(label * classes_ + predicted)];
  }
  // Row-major [label][predicted], to sum over ranks in place.
  std::vector<double>& counts() { return counts_; }
  double support(int k) const;  // samples labelled k
  // Of the samples predicted k, the fraction labelled k; 0 when none is predicted k.
  double precision(int k) const;
  // Of the samples labelled k, the fraction predicted k; 0 when none is labelled k.
  double recall(int k) const;
  // Harmonic mean of precision and recall; 0 when both are 0.
  double f1(int k) const;

 private:
  int classes_;
  std::vector<double> counts_;
};

}  // namespace mlp
