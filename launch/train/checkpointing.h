// Checkpoints in a run of many ranks: where they go, rank 0 writing one while the others wait,
// and getting rank 0's checkpoint to every rank. What a checkpoint holds is launch/train/run_state.h;
// the file format is core/checkpoint_file.h.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "dist/communicator.h"
#include "launch/train/console.h"
#include "launch/train/run_state.h"
#include "proto/checkpoint.pb.h"
#include "proto/config.pb.h"

namespace mlp {

// Rank 0 writes the checkpoint of global_step with `write` to its path in dir, verifies the
// file's frame and CRCs (a piece at a time), then prunes all but the newest keep_last; the other
// ranks wait for its verdict, so nobody goes on past a checkpoint that is not complete. Returns
// the path. Collective; a failure is raised on every rank together.
std::string save_checkpoint_everywhere(Communicator& comm, const std::string& dir,
                                       int64_t global_step, int keep_last,
                                       const std::function<void(const std::string& path)>& write);

// Prepares dir (rank 0 creates it and removes temp files a dead writer left), then resumes
// when run.config.resume() asks: every rank gets rank 0's checkpoint, from_checkpoint checks it
// and restores it into state, store and optimizer, and the console says where the run goes on,
// warning when the learning-rate schedule bends (another length or rate). Returns false when
// the run starts fresh. Collective.
bool resume_if_asked(Communicator& comm, const RunIdentity& run, const std::string& dir,
                     const Console& console, ParamStore<float>* store, Optimizer* optimizer,
                     RunState* state);

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
