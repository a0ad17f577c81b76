// Between a running training and a checkpoint: what to save, where a run stands, whether a
// checkpoint fits the run that wants to resume from it, and getting rank 0's checkpoint to every
// rank. The file format itself lives in core/checkpoint_file.h.
#pragma once

#include <cstdint>
#include <string>

#include "core/optimizer.h"
#include "core/param_store.h"
#include "dist/communicator.h"
#include "proto/checkpoint.pb.h"
#include "proto/config.pb.h"

namespace mlp {

// Where a run stands: the next step to run is step_in_epoch of epoch (0-based).
struct TrainingPosition {
  int epoch = 0;
  int64_t step_in_epoch = 0;
  int64_t global_step = 0;
  int64_t samples_consumed = 0;
  pb::PartialEpoch partial;  // sums of the interrupted epoch's steps, over all ranks
};

// Everything resume needs, with provenance (program version, command line, data fingerprint).
pb::Checkpoint make_checkpoint(const pb::TrainConfig& config, const ParamStore<float>& store,
                               const Optimizer& optimizer, const TrainingPosition& position,
                               int world_size, uint64_t data_fingerprint,
                               const std::string& command_line);

// Throws Error(kCheckpoint) naming the first difference that makes exact resume impossible:
// the model, optimizer, data, seed or batch size of the config, the parameter layout, or the
// data fingerprint. The run's length (epochs, max_steps), outputs, checkpoint settings and the
// rank count may differ.
void check_resumable(const pb::Checkpoint& checkpoint, const pb::TrainConfig& config,
                     const ParamStore<float>& store, uint64_t data_fingerprint,
                     const std::string& source);

// Copies parameters, optimizer state and position out of a checked checkpoint.
void restore_checkpoint(const pb::Checkpoint& checkpoint, ParamStore<float>* store,
                        Optimizer* optimizer, TrainingPosition* position);

// Rank 0 reads `path` (resume "auto": the newest valid checkpoint in dir, warning on stderr
// about each newer one that fails to verify); every rank receives the same message. Returns
// false on every rank when there is nothing to resume from (auto with an empty folder).
// Read errors are raised on every rank together.
bool load_checkpoint_everywhere(Communicator& comm, const std::string& resume,
                                const std::string& dir, pb::Checkpoint* checkpoint,
                                std::string* source);

// The folder checkpoints go to: checkpoint_dir, or <out_dir>/checkpoints.
std::string checkpoint_folder(const pb::TrainConfig& config);

}  // namespace mlp
