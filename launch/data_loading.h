// From a config to the three datasets a run uses: read (IDX folder or CSV files), truncate,
// split off validation, standardize with training statistics, and check the labels suit the
// loss. Resolves the model's input and output sizes into the config.
#pragma once

#include "core/dataset.h"
#include "proto/config.pb.h"

namespace mlp {

struct TrainingData {
  Dataset train;
  Dataset val;   // empty when val_fraction is 0
  Dataset test;  // empty when there is no test file
};

// Reads config->data(), sets config->model().inputs() and outputs(). Throws DataError for bad
// files and UsageError when the data does not fit the loss.
TrainingData load_training_data(pb::TrainConfig* config);

}  // namespace mlp
