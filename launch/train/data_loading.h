// From a config to the three datasets a run uses: read (IDX folder or CSV files), truncate,
// split off validation, standardize with training statistics, and check the labels suit the
// loss. Resolves the model's input and output sizes into the config.
#pragma once

#include "core/csv_reader.h"
#include "core/dataset.h"
#include "proto/config.pb.h"

namespace mlp {

struct TrainingData {
  Dataset train;
  Dataset val;   // empty when val_fraction is 0
  Dataset test;  // empty when there is no test file
  bool standardized = false;
  Standardizer standardizer;  // the training split's statistics, when standardized
  CsvHeader header;           // column names of the training CSV's header line, if any
};

// Reads config->data(), sets config->model().inputs() and outputs(). Throws DataError for bad
// files and UsageError when the data does not fit the loss.
TrainingData load_training_data(pb::TrainConfig* config);

// How a run's CSV files are read for a loss, as the loss asks: one label column when it
// classifies (-1/+1 labels too when it reads signed labels), else csv_targets real targets.
CsvOptions csv_options(const pb::DataConfig& data, pb::LossKind loss_kind);

// A labelled set to evaluate a model on, read as a run reads its test set: the test CSV, or the
// t10k pair of the IDX folder, truncated to test_limit, not standardized. Labels must index
// fewer than num_classes classes (0: regression targets, as many as outputs). Throws DataError.
Dataset load_labelled_set(const pb::DataConfig& data, pb::LossKind loss, int num_classes,
                          int outputs);

}  // namespace mlp
