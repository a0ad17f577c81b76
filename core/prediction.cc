// The confusion matrix's metrics; see prediction.h.
#include "core/prediction.h"


namespace mlp {

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
