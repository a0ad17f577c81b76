// Data preparation for a run; see data_loading.h.
#include "launch/data_loading.h"

#include "core/csv_reader.h"
#include "core/errors.h"
#include "core/idx_reader.h"
#include "core/loss.h"

namespace mlp {

TrainingData load_training_data(pb::TrainConfig* config) {
  const pb::DataConfig& d = config->data();
  const pb::LossKind loss = config->model().loss();
  TrainingData data;
  if (!d.train_csv().empty()) {
    CsvOptions options;
    options.header = d.csv_header();
    options.targets = d.csv_targets();
    // Squared error regresses on real targets; every other loss classifies.
    options.classify = loss != pb::SQUARED_ERROR;
    if (options.classify && d.csv_targets() != 1)
      throw UsageError("--csv-targets: a classification loss takes one label column, got " +
                       std::to_string(d.csv_targets()));
    data.train = read_csv(d.train_csv(), options);
    if (!d.test_csv().empty()) data.test = read_csv(d.test_csv(), options);
  } else {
    TrainTest both = read_idx_folder(d.data_dir());
    data.train = std::move(both.train);
    data.test = std::move(both.test);
  }
  truncate(data.train, d.train_limit());
  truncate(data.test, d.test_limit());
  if (data.test.size() > 0 && data.test.features() != data.train.features())
    throw DataError("the test set has " + std::to_string(data.test.features()) +
                    " features but the training set has " + std::to_string(data.train.features()));

  data.val = split_validation(data.train, d.val_fraction(), config->seed());
  if (data.train.size() == 0)
    throw UsageError("--val-fraction: " + std::to_string(d.val_fraction()) +
                     " leaves no training samples");
  if (d.standardize()) {
    const Standardizer standardizer = Standardizer::fit(data.train);
    standardizer.apply(data.train);
    if (data.val.size() > 0) standardizer.apply(data.val);
    if (data.test.size() > 0) standardizer.apply(data.test);
  }

  const int classes = std::max(data.train.num_classes, data.test.num_classes);
  int outputs = 0;
  switch (loss) {
    case pb::SOFTMAX_CROSS_ENTROPY:
      outputs = classes;
      if (classes < 2)
        throw DataError("softmax cross-entropy needs at least 2 classes in the labels");
      break;
    case pb::SQUARED_ERROR:
      outputs = data.train.labels.empty() ? static_cast<int>(data.train.targets.rows()) : classes;
      break;
    case pb::LOGISTIC:
    case pb::PERCEPTRON:
      if (classes > 2)
        throw DataError(std::string("the ") + (loss == pb::LOGISTIC ? "logistic" : "perceptron") +
                        " loss needs labels 0 and 1, but the labels go up to " +
                        std::to_string(classes - 1));
      outputs = 1;
      break;
  }
  for (Dataset* set : {&data.train, &data.val, &data.test}) set->num_classes = classes;
  config->mutable_model()->set_inputs(data.train.features());
  config->mutable_model()->set_outputs(outputs);
  return data;
}

}  // namespace mlp
