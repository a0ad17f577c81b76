// RunState <-> Checkpoint; see run_state.h. Every field of a checkpoint read here is checked
// before anything is copied out of it.
#include "launch/train/run_state.h"

#include <google/protobuf/descriptor.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "core/checkpoint_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/packed_floats.h"
#include "core/record_csv.h"

namespace mlp {
namespace {

// A history record of a checkpoint with its non-finite numbers absent (see from_checkpoint).
pb::EpochMetrics without_non_finite(pb::EpochMetrics m) {
  for (const google::protobuf::FieldDescriptor* f : present_fields(m))
    if (!std::isfinite(number_field(m, f))) m.GetReflection()->ClearField(&m, f);
  return m;
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

std::string str(int64_t value) { return std::to_string(value); }

// Checks a checkpoint field by field; each failed check names the field and what it had to be.
class Checker {
 public:
  explicit Checker(const std::string& source) : source_(source) {}

  [[noreturn]] void refuse(const std::string& why) const {
    throw Error(ExitCode::kCheckpoint, source_ + ": cannot resume: " + why);
  }
  void require(bool ok, const std::string& why) const {
    if (!ok) refuse(why);
  }
  void finite(double value, const std::string& what) const {
    require(std::isfinite(value), what + " is not finite");
  }
  // A packed float vector of n finite values, unpacked into out.
  void floats(const std::string& bytes, size_t n, const std::string& what,
              std::vector<float>* out) const {
    require(bytes.size() == n * sizeof(float),
            what + " has " + str(bytes.size() / sizeof(float)) + " values, the model " + str(n));
    out->resize(n);
    unpack_floats(bytes, out->data(), n, what);
    for (size_t i = 0; i < n; ++i)
      require(std::isfinite((*out)[i]), what + " holds a non-finite value at " + str(i));
  }

 private:
  const std::string& source_;
};

// Only what changes the trajectory must match; run length and outputs may change.
void check_config(const Checker& check, const pb::TrainConfig& saved_config,
                  const pb::TrainConfig& config) {
  pb::TrainConfig saved, now;
  *saved.mutable_model() = saved_config.model();
  *now.mutable_model() = config.model();
  saved.mutable_optimizer()->set_kind(saved_config.optimizer().kind());
  now.mutable_optimizer()->set_kind(config.optimizer().kind());
  saved.set_seed(saved_config.seed());
  now.set_seed(config.seed());
  saved.set_batch_size(saved_config.batch_size());
  now.set_batch_size(config.batch_size());
  saved.set_exact_blocks(saved_config.exact_blocks());
  now.set_exact_blocks(config.exact_blocks());
  const std::string differs = first_difference(saved, now, "");
  if (!differs.empty())
    check.refuse(differs + " is " + show_input(field_text(saved, differs)) +
                 " in the checkpoint but " + show_input(field_text(now, differs)) + " now");
}

void check_layout(const Checker& check, const pb::Checkpoint& c, const ParamStore<float>& store) {
  check.require(static_cast<size_t>(c.layout_size()) == store.layout().size(),
                "the checkpoint has " + str(c.layout_size()) + " parameter blocks, the model " +
                    str(static_cast<int64_t>(store.layout().size())));
  for (int i = 0; i < c.layout_size(); ++i) {
    const ParamBlock& b = store.layout()[i];
    const pb::ParamBlockInfo& s = c.layout(i);
    check.require(
        s.name() == b.name && s.offset() == b.offset && s.rows() == b.rows && s.cols() == b.cols,
        "parameter block " + str(i) + " is " + show_input(s.name()) + " (" + str(s.rows()) + "x" +
            str(s.cols()) + " at " + str(s.offset()) + ") in the checkpoint but " + b.name + " (" +
            str(b.rows) + "x" + str(b.cols) + " at " + str(b.offset) + ") in the model");
    // Checkpoints of earlier versions carry no roles: the model's apply.
    check.require((!s.has_decayed() || s.decayed() == b.roles.decayed) &&
                      (!s.has_max_normed() || s.max_normed() == b.roles.max_normed),
                  "parameter block " + str(i) + " (" + b.name +
                      ") has other weight-decay or max-norm roles in the checkpoint than in the "
                      "model");
  }
}

// The position must be one the batch plan reaches: every completed epoch has its history row.
void check_position(const Checker& check, const pb::Checkpoint& c, const BatchPlan& plan) {
  const int64_t steps = plan.steps_per_epoch();
  const int64_t samples = plan.batch_begin(steps - 1) + plan.batch_size(steps - 1);
  check.require(c.epoch() >= 0 && c.step_in_epoch() >= 0 && c.step_in_epoch() <= steps &&
                    c.global_step() >= c.step_in_epoch(),
                "position epoch " + str(c.epoch()) + ", step " + str(c.step_in_epoch()) +
                    ", global step " + str(c.global_step()) + " is outside an epoch of " +
                    str(steps) + " steps");
  // Divisions, not products: the numbers come from a file and must not overflow.
  const int64_t before = c.global_step() - c.step_in_epoch();
  check.require(before % steps == 0 && before / steps == c.epoch(),
                "global step " + str(c.global_step()) + " is not epoch " + str(c.epoch()) +
                    " times " + str(steps) + " steps plus " + str(c.step_in_epoch()));
  int64_t consumed = 0;
  const int64_t in_epoch = std::min(plan.batch_begin(c.step_in_epoch()), samples);
  const bool fits = !__builtin_mul_overflow(int64_t{c.epoch()}, samples, &consumed) &&
                    !__builtin_add_overflow(consumed, in_epoch, &consumed);
  check.require(fits && c.samples_consumed() == consumed,
                "samples consumed " + str(c.samples_consumed()) + " should be " + str(consumed));
  check.require(c.history_size() == c.epoch(), "the history has " + str(c.history_size()) +
                                                   " epochs, the position " + str(c.epoch()));
  for (int i = 0; i < c.history_size(); ++i)
    check.require(c.history(i).epoch() == i + 1,
                  "history row " + str(i) + " is of epoch " + str(c.history(i).epoch()));
  const pb::PartialEpoch& p = c.partial_epoch();
  for (double v : {p.loss(), p.correct(), p.count(), p.seconds()})
    check.finite(v, "the interrupted epoch's sums");
  check.require(c.world_size() >= 1, "world size " + str(c.world_size()) + " is not positive");
  // Any rank count may resume; the exact mode's bits hold up to its block count.
  const int blocks = c.config().exact_blocks();
  check.require(blocks == 0 || c.world_size() <= blocks, "world size " + str(c.world_size()) +
                                                             " is above the exact mode's " +
                                                             str(blocks) + " blocks");
  check.finite(c.learning_rate(), "the last learning rate");
  check.require(std::isfinite(c.elapsed_seconds()) && c.elapsed_seconds() >= 0,
                "elapsed seconds " + std::to_string(c.elapsed_seconds()) + " is not a duration");
}

// The optimizer state: its kind, step count, and one finite slot of n values per name the
// optimizer has, in its order.
std::vector<std::vector<float>> checked_slots(const Checker& check, const pb::OptimizerState& o,
                                              const pb::TrainConfig& config,
                                              const Optimizer& optimizer, size_t n) {
  const std::vector<std::string> names = optimizer.slot_names();
  check.require(o.kind() == config.optimizer().kind(),
                "the optimizer state is of " + field_text(o, "kind") + ", the config's optimizer " +
                    field_text(config.optimizer(), "kind"));
  check.require(o.step_count() >= 0, "negative optimizer step count " + str(o.step_count()));
  check.require(
      o.slots_size() == static_cast<int>(names.size()) && o.slot_names_size() == o.slots_size(),
      "the optimizer has " + str(o.slots_size()) + " state vectors and " +
          str(o.slot_names_size()) + " names, expected " + str(static_cast<int64_t>(names.size())));
  std::vector<std::vector<float>> slots(names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    const int at = static_cast<int>(i);
    check.require(o.slot_names(at) == names[i],
                  "optimizer state " + show_input(o.slot_names(at)) + " is not " + names[i]);
    check.floats(o.slots(at), n, "optimizer state " + names[i], &slots[i]);
  }
  return slots;
}

// The exact mode's exponents: one per parameter block, each -1 or an exponent field 0..254,
// when the mode is on; none otherwise.
std::vector<int> checked_exponents(const Checker& check, const pb::Checkpoint& c,
                                   const ParamStore<float>& store) {
  if (c.config().exact_blocks() == 0) {
    check.require(c.exact_exponents_size() == 0,
                  "exact-sum exponents are saved but the exact mode is off");
    return {};
  }
  check.require(static_cast<size_t>(c.exact_exponents_size()) == store.layout().size(),
                "the exact sums have " + str(c.exact_exponents_size()) + " exponents, the model " +
                    str(static_cast<int64_t>(store.layout().size())) + " parameter blocks");
  for (int i = 0; i < c.exact_exponents_size(); ++i)
    check.require(
        c.exact_exponents(i) >= -1 && c.exact_exponents(i) <= 254,
        "exact-sum exponent " + str(i) + " is " + str(c.exact_exponents(i)) + ", not -1 or 0..254");
  return {c.exact_exponents().begin(), c.exact_exponents().end()};
}

// The early-stopping state must fit a history of `epochs` epochs; best parameters, when saved,
// are n finite values.
void check_early_stopping(const Checker& check, const pb::EarlyStoppingState& es, int epochs,
                          size_t n, std::vector<float>* best_params) {
  check.require(es.best_epoch() >= 0 && es.best_epoch() <= epochs,
                "the best epoch " + str(es.best_epoch()) + " is not in the history of " +
                    str(epochs) + " epochs");
  check.require(es.wait() >= 0 && es.wait() <= epochs,
                "the early-stopping wait " + str(es.wait()) + " is longer than the history");
  check.finite(es.best_value(), "the best validation value");
  check.require(es.best_params().empty() || es.best_epoch() > 0,
                "best parameters are saved but no best epoch");
  if (!es.best_params().empty())
    check.floats(es.best_params(), n, "the best epoch's parameter vector", best_params);
}

}  // namespace

pb::Provenance make_provenance(const std::string& command_line, uint64_t data_fingerprint) {
  pb::Provenance p;
  p.set_version(MLP_VERSION);
  p.set_command_line(command_line);
  p.set_data_fingerprint(data_fingerprint);
  p.set_unix_time(static_cast<int64_t>(std::time(nullptr)));
  char host[256] = {};
  gethostname(host, sizeof host - 1);
  p.set_host(host);
  return p;
}

namespace {

// A checkpoint as a record: the message holds every field but the float vectors, which point
// into store, optimizer and state.
struct CheckpointRecord {
  pb::Checkpoint message;
  std::vector<FloatField> floats;
};

CheckpointRecord checkpoint_record(const RunState& state, const ParamStore<float>& store,
                                   const Optimizer& optimizer, const RunIdentity& run) {
  CheckpointRecord record;
  pb::Checkpoint& c = record.message;
  c.set_format_version(kCheckpointFormatVersion);
  *c.mutable_config() = run.config;
  for (const ParamBlock& b : store.layout()) {
    pb::ParamBlockInfo* info = c.add_layout();
    info->set_name(b.name);
    info->set_offset(b.offset);
    info->set_rows(b.rows);
    info->set_cols(b.cols);
    info->set_decayed(b.roles.decayed);
    info->set_max_normed(b.roles.max_normed);
  }
  record.floats.push_back({{pb::Checkpoint::kParamsFieldNumber}, store.values(), store.size()});
  pb::OptimizerState* o = c.mutable_optimizer();
  o->set_kind(run.config.optimizer().kind());
  o->set_step_count(optimizer.step_count());
  const std::vector<std::string> names = optimizer.slot_names();
  for (size_t i = 0; i < names.size(); ++i) {
    o->add_slot_names(names[i]);
    const std::vector<float>& slot = optimizer.slots()[i];
    record.floats.push_back(
        {{pb::Checkpoint::kOptimizerFieldNumber, pb::OptimizerState::kSlotsFieldNumber},
         slot.data(),
         slot.size()});
  }
  c.set_epoch(state.epoch);
  c.set_step_in_epoch(state.step_in_epoch);
  c.set_global_step(state.global_step);
  c.set_samples_consumed(state.samples_consumed);
  c.set_world_size(run.world_size);
  *c.mutable_partial_epoch() = state.partial;
  pb::EarlyStoppingState* es = c.mutable_early_stopping();
  es->set_best_value(state.early_stopping.best_value);
  es->set_best_epoch(state.early_stopping.best_epoch);
  es->set_wait(state.early_stopping.wait);
  if (!state.best_params.empty())
    record.floats.push_back({{pb::Checkpoint::kEarlyStoppingFieldNumber,
                              pb::EarlyStoppingState::kBestParamsFieldNumber},
                             state.best_params.data(),
                             state.best_params.size()});
  *c.mutable_provenance() = make_provenance(run.command_line, run.data_fingerprint);
  if (run.standardization != nullptr) *c.mutable_standardization() = *run.standardization;
  c.set_learning_rate(static_cast<float>(state.last_learning_rate));
  for (const pb::EpochMetrics& m : state.history) *c.add_history() = m;
  c.set_elapsed_seconds(state.elapsed_seconds);
  if (!state.gemm_backend.empty()) *c.mutable_gemm_backend() = state.gemm_backend;
  for (int e : state.exact_exponents) c.add_exact_exponents(e);
  return record;
}

}  // namespace

pb::Checkpoint to_checkpoint(const RunState& state, const ParamStore<float>& store,
                             const Optimizer& optimizer, const RunIdentity& run) {
  CheckpointRecord record = checkpoint_record(state, store, optimizer, run);
  merge_float_fields(record.floats, &record.message);
  return std::move(record.message);
}

void write_run_checkpoint(const std::string& path, const RunState& state,
                          const ParamStore<float>& store, const Optimizer& optimizer,
                          const RunIdentity& run) {
  const CheckpointRecord record = checkpoint_record(state, store, optimizer, run);
  write_record_file(path, record.message, record.floats);
}

RunState from_checkpoint(const pb::Checkpoint& c, const RunIdentity& run, const std::string& source,
                         ParamStore<float>* store, Optimizer* optimizer) {
  const Checker check(source);
  check_config(check, c.config(), run.config);
  check.require(c.provenance().data_fingerprint() == run.data_fingerprint,
                "the training data differs from the checkpoint's (another file, limit, split or "
                "standardization)");
  check_layout(check, c, *store);
  std::vector<float> params;
  check.floats(c.params(), store->size(), "the parameter vector", &params);

  std::vector<std::vector<float>> slots =
      checked_slots(check, c.optimizer(), run.config, *optimizer, store->size());
  check_position(check, c, run.plan);
  RunState state;
  const pb::EarlyStoppingState& es = c.early_stopping();
  check_early_stopping(check, es, c.history_size(), store->size(), &state.best_params);
  state.exact_exponents = checked_exponents(check, c, *store);

  // Checked: from here on nothing can fail.
  std::copy(params.begin(), params.end(), store->values());
  optimizer->slots() = std::move(slots);
  optimizer->set_step_count(c.optimizer().step_count());
  state.epoch = c.epoch();
  state.step_in_epoch = c.step_in_epoch();
  state.global_step = c.global_step();
  state.samples_consumed = c.samples_consumed();
  state.partial = c.partial_epoch();
  for (const pb::EpochMetrics& m : c.history()) state.history.push_back(without_non_finite(m));
  state.early_stopping = {es.best_value(), es.best_epoch(), es.wait()};
  state.elapsed_seconds = c.elapsed_seconds();
  state.last_learning_rate = c.learning_rate();
  // Only compared with this run's backend, so any text is harmless.
  state.gemm_backend = c.gemm_backend();
  // Checkpoints of earlier versions have no precision: they trained in fp32, the default.
  state.precision = c.config().precision() == pb::BF16 ? "bf16" : "fp32";
  return state;
}

}  // namespace mlp
