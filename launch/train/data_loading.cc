// Data preparation for a run; see data_loading.h.
#include "launch/train/data_loading.h"

#include <cstdio>
#include <functional>
#include <memory>

#include "core/csv_reader.h"
#include "core/data_cache.h"
#include "core/errors.h"
#include "core/idx_reader.h"
#include "core/loss.h"

namespace mlp {

namespace {

constexpr char kNoCache[] = "off";

// One source's table: from the host's cache, or decoded into floats held by this process.
Dataset load_source(const pb::DataConfig& d, const std::vector<std::string>& paths,
                    const std::string& reader, const std::function<Dataset()>& read) {
  if (d.cache_dir() == kNoCache) return whole_table(read().table->to_floats());
  const std::string dir = d.cache_dir().empty() ? default_data_cache_dir() : d.cache_dir();
  std::vector<std::string> notes;
  Dataset data = whole_table(
      cached_table(dir, source_key(paths, reader), [&read] { return read().table; }, &notes));
  for (const std::string& note : notes) std::fprintf(stderr, "trainer: warning: %s\n", note.c_str());
  return data;
}

Dataset load_idx_pair(const pb::DataConfig& d, const std::string& images, const std::string& labels) {
  const std::string images_path = find_idx_file(d.data_dir(), images);
  const std::string labels_path = find_idx_file(d.data_dir(), labels);
  return load_source(d, {images_path, labels_path}, "idx classes=10",
                     [&] { return read_idx_pair(images_path, labels_path); });
}

Dataset load_csv(const pb::DataConfig& d, const std::string& path, const CsvOptions& options) {
  const std::string reader = "csv header=" + std::to_string(options.header) +
                             " targets=" + std::to_string(options.targets) +
                             " classify=" + std::to_string(options.classify) +
                             " signed=" + std::to_string(options.signed_labels);
  return load_source(d, {path}, reader, [&] { return read_csv(path, options); });
}

}  // namespace

CsvOptions csv_options(const pb::DataConfig& d, pb::LossKind loss_kind) {
  CsvOptions options;
  options.header = d.csv_header();
  options.targets = d.csv_targets();
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(loss_kind);
  // A loss that does not classify regresses on real targets.
  options.classify = loss->classifies();
  options.signed_labels = loss->reads_signed_labels();
  if (options.classify && d.csv_targets() != 1)
    throw UsageError("--csv-targets: a classification loss takes one label column, got " +
                     std::to_string(d.csv_targets()));
  return options;
}

Dataset load_labelled_set(const pb::DataConfig& d, pb::LossKind loss, int num_classes,
                          int outputs) {
  Dataset set;
  std::string source = d.test_csv();
  if (!d.test_csv().empty()) {
    pb::DataConfig csv = d;
    // A regression model's targets are its outputs, whatever the flag says.
    if (num_classes == 0) csv.set_csv_targets(outputs);
    set = read_csv(d.test_csv(), csv_options(csv, loss));
  } else {
    set = read_idx_set(d.data_dir(), "t10k", std::max(num_classes, 1));
    source = d.data_dir();
  }
  truncate(set, d.test_limit());
  if (num_classes == 0 && set.classification())
    throw DataError(source + ": the model regresses on " + std::to_string(outputs) +
                    " real targets, but the data holds class labels");
  if (num_classes > 0 && set.num_classes > num_classes)
    throw DataError(source + ": labels go up to " + std::to_string(set.num_classes - 1) +
                    " but the model knows " + std::to_string(num_classes) + " classes (0.." +
                    std::to_string(num_classes - 1) + ")");
  set.num_classes = num_classes;
  return set;
}

TrainingData load_training_data(pb::TrainConfig* config) {
  const pb::DataConfig& d = config->data();
  const std::unique_ptr<Loss<float>> loss = make_loss<float>(config->model().loss());
  TrainingData data;
  if (!d.train_csv().empty()) {
    const CsvOptions options = csv_options(d, config->model().loss());
    data.train = load_csv(d, d.train_csv(), options);
    if (options.header) data.header = read_csv_header(d.train_csv(), options.targets);
    if (!d.test_csv().empty()) data.test = load_csv(d, d.test_csv(), options);
  } else {
    data.train = load_idx_pair(d, "train-images-idx3-ubyte", "train-labels-idx1-ubyte");
    data.test = load_idx_pair(d, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte");
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
    data.standardized = true;
    data.standardizer = Standardizer::fit(data.train);
    data.standardizer.apply(data.train);
    if (data.val.size() > 0) data.standardizer.apply(data.val);
    if (data.test.size() > 0) data.standardizer.apply(data.test);
  }

  const int classes = std::max(data.train.num_classes, data.test.num_classes);
  const int outputs = loss->outputs_for(
      {data.train.classification(), classes, data.train.target_rows()});
  for (Dataset* set : {&data.train, &data.val, &data.test}) set->num_classes = classes;
  config->mutable_model()->set_inputs(data.train.features());
  config->mutable_model()->set_outputs(outputs);
  return data;
}

}  // namespace mlp
