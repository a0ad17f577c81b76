// Checkpoints across ranks; see checkpointing.h.
#include "launch/train/checkpointing.h"

#include <cstdio>
#include <filesystem>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "core/lr_schedule.h"
#include "core/model_file.h"
#include "dist/agreement.h"
#include "launch/train/run_setup.h"

namespace mlp {

std::string checkpoint_folder(const pb::TrainConfig& config) {
  return config.checkpoint_dir().empty() ? config.out_dir() + "/checkpoints"
                                         : config.checkpoint_dir();
}

std::string save_checkpoint_everywhere(Communicator& comm, const std::string& dir,
                                       int64_t global_step, int keep_last,
                                       const std::function<void(const std::string& path)>& write) {
  const std::string path = checkpoint_path(dir, global_step);
  comm.set_activity({"waiting for rank 0 to write a checkpoint"});
  run_on_all_or_fail_together(comm, [&] {
    if (comm.rank() != 0) return;
    write(path);
    verify_record_file(path, "checkpoint");
    prune_checkpoints(dir, keep_last);
  });
  return path;
}

namespace {

// A model file read as a checkpoint parses (protobuf keeps the fields it does not know) but fails
// on some field. It is told apart only after that failure, so a valid checkpoint is never
// refused by the test: no parameter layout or optimizer state, and a valid Model message.
bool reads_as_model_file(const pb::Checkpoint& checkpoint) {
  if (checkpoint.layout_size() > 0 || checkpoint.has_optimizer()) return false;
  pb::Model model;
  if (!model.ParseFromString(checkpoint.SerializeAsString())) return false;
  try {
    check_model(model, "");
    return true;
  } catch (const Error&) {
    return false;
  }
}

}  // namespace

bool resume_if_asked(Communicator& comm, const RunIdentity& run, const std::string& dir,
                     const Console& console, ParamStore<float>* store, Optimizer* optimizer,
                     RunState* state) {
  if (comm.rank() == 0) {
    std::filesystem::create_directories(dir);
    remove_stale_temp_files(dir);
  }
  if (run.config.resume().empty()) return false;
  pb::Checkpoint checkpoint;
  std::string source;
  if (!load_checkpoint_everywhere(comm, run.config.resume(), dir, &checkpoint, &source)) {
    console.no_checkpoint(dir);
    return false;
  }
  try {
    *state = from_checkpoint(checkpoint, run, source, store, optimizer);
  } catch (const Error& e) {
    if (!reads_as_model_file(checkpoint)) throw;
    throw Error(ExitCode::kCheckpoint,
                source + ": cannot resume: this is a model file (the weights a run keeps), not a "
                         "checkpoint; resume from a file in OUT/checkpoints/ or with --resume auto");
  }
  console.resumed(source, state->epoch, state->step_in_epoch, state->global_step,
                  checkpoint.world_size());
  // Another --epochs, --max-steps or rate keeps every step so far but bends the schedule ahead
  // (a cosine spans the planned run): the run goes on, told what changed.
  const pb::TrainConfig& saved = checkpoint.config();
  const int64_t step = state->global_step;
  const int64_t total = planned_steps(run.config, run.plan);
  const int64_t saved_total = planned_steps(saved, run.plan);
  const float now = learning_rate(run.config.optimizer(), step, total);
  const float before = learning_rate(saved.optimizer(), step, saved_total);
  if (now != before)
    console.schedule_changed(saved, saved_total, run.config, total, step, now, before);
  return true;
}

bool load_checkpoint_everywhere(Communicator& comm, const std::string& resume,
                                const std::string& dir, pb::Checkpoint* checkpoint,
                                std::string* source) {
  std::string bytes;
  run_on_all_or_fail_together(comm, [&] {
    if (comm.rank() != 0) return;
    std::string path = resume;
    if (resume == "auto") {
      std::vector<std::string> warnings;
      path = newest_valid_checkpoint(dir, &warnings);
      for (const std::string& w : warnings)
        std::fprintf(stderr, "trainer: warning: %s\n", w.c_str());
    }
    if (!path.empty()) {
      *checkpoint = read_checkpoint(path);
      checkpoint->SerializeToString(&bytes);
      *source = path;
    }
  });
  int64_t size = static_cast<int64_t>(bytes.size());
  comm.broadcast(&size, sizeof size, 0);
  if (size == 0) return false;
  bytes.resize(static_cast<size_t>(size));
  comm.broadcast(bytes.data(), bytes.size(), 0);
  int64_t path_size = static_cast<int64_t>(source->size());
  comm.broadcast(&path_size, sizeof path_size, 0);
  source->resize(static_cast<size_t>(path_size));
  comm.broadcast(source->data(), source->size(), 0);
  if (comm.rank() != 0) checkpoint->ParseFromString(bytes);
  return true;
}

}  // namespace mlp
