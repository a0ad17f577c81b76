// Checkpoint contents and resume checks; see checkpointing.h.
#include "launch/checkpointing.h"

#include <google/protobuf/descriptor.h>
#include <unistd.h>

#include <cstdio>
#include <ctime>
#include <vector>

#include "core/checkpoint_file.h"
#include "core/errors.h"
#include "core/packed_floats.h"
#include "dist/agreement.h"
#include "launch/config_fields.h"

namespace mlp {
namespace {

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
  throw Error(ExitCode::kCheckpoint, source + ": cannot resume: " + why);
}

// The dotted path of the first scalar field whose values differ, or "".
std::string first_difference(const google::protobuf::Message& a, const google::protobuf::Message& b,
                             const std::string& prefix) {
  const auto* d = a.GetDescriptor();
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    const std::string path = prefix + f->name();
    if (f->is_repeated()) continue;
    if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE) {
      const std::string inner = first_difference(a.GetReflection()->GetMessage(a, f),
                                                 b.GetReflection()->GetMessage(b, f), path + ".");
      if (!inner.empty()) return inner;
    } else if (field_text(a, f->name()) != field_text(b, f->name())) {
      return path;
    }
  }
  return "";
}

}  // namespace

std::string checkpoint_folder(const pb::TrainConfig& config) {
  return config.checkpoint_dir().empty() ? config.out_dir() + "/checkpoints"
                                         : config.checkpoint_dir();
}

pb::Checkpoint make_checkpoint(const pb::TrainConfig& config, const ParamStore<float>& store,
                               const Optimizer& optimizer, const TrainingPosition& position,
                               int world_size, uint64_t data_fingerprint,
                               const std::string& command_line) {
  pb::Checkpoint c;
  c.set_format_version(kCheckpointFormatVersion);
  *c.mutable_config() = config;
  for (const ParamBlock& b : store.layout()) {
    pb::ParamBlockInfo* info = c.add_layout();
    info->set_name(b.name);
    info->set_offset(b.offset);
    info->set_rows(b.rows);
    info->set_cols(b.cols);
    info->set_decayed(b.roles.decayed);
    info->set_max_normed(b.roles.max_normed);
  }
  c.set_params(pack_floats(store.values(), store.size()));
  pb::OptimizerState* state = c.mutable_optimizer();
  state->set_kind(config.optimizer().kind());
  state->set_step_count(optimizer.step_count());
  const std::vector<std::string> names = optimizer.slot_names();
  for (size_t i = 0; i < names.size(); ++i) {
    state->add_slot_names(names[i]);
    state->add_slots(pack_floats(optimizer.slots()[i].data(), optimizer.slots()[i].size()));
  }
  c.set_epoch(position.epoch);
  c.set_step_in_epoch(position.step_in_epoch);
  c.set_global_step(position.global_step);
  c.set_samples_consumed(position.samples_consumed);
  c.set_world_size(world_size);
  *c.mutable_partial_epoch() = position.partial;
  c.set_learning_rate(config.optimizer().lr());
  pb::Provenance* p = c.mutable_provenance();
  p->set_version(MLP_VERSION);
  p->set_command_line(command_line);
  p->set_data_fingerprint(data_fingerprint);
  p->set_unix_time(static_cast<int64_t>(std::time(nullptr)));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  p->set_host(host);
  return c;
}

void check_resumable(const pb::Checkpoint& c, const pb::TrainConfig& config,
                     const ParamStore<float>& store, uint64_t data_fingerprint,
                     const std::string& source) {
  // Only what changes the trajectory must match; run length and outputs may change.
  pb::TrainConfig saved, now;
  *saved.mutable_model() = c.config().model();
  *now.mutable_model() = config.model();
  saved.mutable_optimizer()->set_kind(c.config().optimizer().kind());
  now.mutable_optimizer()->set_kind(config.optimizer().kind());
  saved.set_seed(c.config().seed());
  now.set_seed(config.seed());
  saved.set_batch_size(c.config().batch_size());
  now.set_batch_size(config.batch_size());
  const std::string differs = first_difference(saved, now, "");
  if (!differs.empty())
    refuse(source, differs + " is " + field_text(saved, differs) + " in the checkpoint but " +
                       field_text(now, differs) + " now");
  if (c.provenance().data_fingerprint() != data_fingerprint)
    refuse(source,
           "the training data differs from the checkpoint's (another file, limit, split or "
           "standardization)");
  if (static_cast<size_t>(c.layout_size()) != store.layout().size())
    refuse(source, "the checkpoint has " + std::to_string(c.layout_size()) +
                       " parameter blocks, the model " + std::to_string(store.layout().size()));
  for (int i = 0; i < c.layout_size(); ++i) {
    const ParamBlock& b = store.layout()[i];
    const pb::ParamBlockInfo& s = c.layout(i);
    if (s.name() != b.name || s.offset() != b.offset || s.rows() != b.rows || s.cols() != b.cols)
      refuse(source, "parameter block " + std::to_string(i) + " is " + s.name() + " (" +
                         std::to_string(s.rows()) + "x" + std::to_string(s.cols()) +
                         ") in the checkpoint but " + b.name + " (" + std::to_string(b.rows) + "x" +
                         std::to_string(b.cols) + ") in the model");
  }
  if (c.params().size() != store.size() * sizeof(float))
    refuse(source, "the parameter vector has " + std::to_string(c.params().size() / sizeof(float)) +
                       " values, the model " + std::to_string(store.size()));
  if (c.epoch() < 0 || c.step_in_epoch() < 0 || c.global_step() < 0)
    refuse(source, "negative position (epoch " + std::to_string(c.epoch()) + ", step " +
                       std::to_string(c.step_in_epoch()) + ")");
}

void restore_checkpoint(const pb::Checkpoint& c, ParamStore<float>* store, Optimizer* optimizer,
                        TrainingPosition* position) {
  unpack_floats(c.params(), store->values(), store->size(), "the checkpoint's parameters");
  const std::vector<std::string> names = optimizer->slot_names();
  if (static_cast<size_t>(c.optimizer().slots_size()) != names.size())
    throw Error(ExitCode::kCheckpoint,
                "the checkpoint's optimizer has " + std::to_string(c.optimizer().slots_size()) +
                    " state vectors, expected " + std::to_string(names.size()));
  for (size_t i = 0; i < names.size(); ++i) {
    if (c.optimizer().slot_names(static_cast<int>(i)) != names[i])
      throw Error(ExitCode::kCheckpoint, "the checkpoint's optimizer state " +
                                             c.optimizer().slot_names(static_cast<int>(i)) +
                                             " is not " + names[i]);
    unpack_floats(c.optimizer().slots(static_cast<int>(i)), optimizer->slots()[i].data(),
                  optimizer->slots()[i].size(), "optimizer state " + names[i]);
  }
  optimizer->set_step_count(c.optimizer().step_count());
  position->epoch = c.epoch();
  position->step_in_epoch = c.step_in_epoch();
  position->global_step = c.global_step();
  position->samples_consumed = c.samples_consumed();
  position->partial = c.partial_epoch();
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
