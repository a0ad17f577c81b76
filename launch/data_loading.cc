// Data preparation for a run; see data_loading.h.
#include "launch/data_loading.h"

#include <memory>

#include "core/csv_reader.h"
#include "core/errors.h"
#include "core/idx_reader.h"
#include "core/loss.h"

namespace mlp {

TrainingData load_training_data(pb::TrainConfig* config) {
  const pb::DataConfig& d = config->data();
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(config->model().loss());
  TrainingData data;
  if (!d.train_csv().empty()) {
    CsvOptions options;
    options.header = d.csv_header();
    options.targets = d.csv_targets();
    // A loss that does not classify regresses on real targets.
    options.classify = loss->classifies();
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
  const int outputs = loss->outputs_for(
      {!data.train.labels.empty(), classes, static_cast<int>(data.train.targets.rows())});
  for (Dataset* set : {&data.train, &data.val, &data.test}) set->num_classes = classes;
  config->mutable_model()->set_inputs(data.train.features());
  config->mutable_model()->set_outputs(outputs);
  return data;
}

}  // namespace mlp
