// The confusion matrix with per-class precision, recall and F1 that evaluation reports. The
// predicted class and class probabilities of outputs are the loss's (core/loss.h).
#pragma once

#include <cstddef>
#include <vector>


namespace mlp {

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
