// OUT/model.pb, the model a run keeps (the restored best weights where early stopping restored
// them): architecture, parameters, standardization, CSV column names, the resolved config,
// provenance and the run's metrics, written by rank 0 at the end of every run.
#pragma once

#include <string>

#include "core/model.h"
#include "launch/train/data_loading.h"
#include "launch/train/train_loop.h"
#include "proto/checkpoint.pb.h"
#include "proto/model.pb.h"

namespace mlp {

// Writes model_path(config), the model of a finished run: the parameters of `model` (streamed
// from its store, not copied), the data's standardization and names, the config with the backend
// the model's products ran on and provenance, and the run's metrics (pb::RunMetrics: the kept
// epoch's record, the test metrics, best epoch, epochs run, whether the best weights were
// restored). Throws Error(kCheckpoint) naming the path.
void write_run_model(const pb::TrainConfig& config, const Model<float>& model,
                     const TrainingData& data, const pb::Provenance& provenance,
                     const TrainingResult& result);

// <out_dir>/model.pb.
std::string model_path(const pb::TrainConfig& config);

}  // namespace mlp
