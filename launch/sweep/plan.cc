// Sweep expansion and the sweep folder's plan files; see sweep_plan.h.
#include "launch/sweep/plan.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

#include "core/atomic_file.h"
#include "core/config_fields.h"
#include "core/errors.h"
#include "core/rng.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/ledger.h"
#include "launch/train/trainer_options.h"

namespace mlp {
namespace {

// Sweep draws only need to be independent of each other; a stream number of their own (outside
// core's, see core/rng.h) keeps them apart from the trainer's streams should a draw seed equal a
// training seed. The number fixes which values a random sweep plans: it must not change.
constexpr auto kSweepDraws = static_cast<RngStream>(0x5357);

// Fields the sweep sets for every trial; an axis over them would be overwritten or break resume.
const std::set<std::string> kReservedFields = {"seed", "out_dir", "resume", "checkpoint_dir",
                                               "pause_after_epoch"};

bool is_random(const pb::Axis& axis) {
  return axis.distribution_case() != pb::Axis::DISTRIBUTION_NOT_SET;
}

std::string axis_label(const pb::Axis& axis, int index) {
  return "axis " + std::to_string(index + 1) + " (" + quote_input(axis.field()) + ")";
}

std::string real_text(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}

std::string hex12(uint64_t hash) {
  char text[16];
  std::snprintf(text, sizeof text, "%012llx",
                static_cast<unsigned long long>(hash & 0xffffffffffffULL));
  return text;
}

// Sets one axis value on config, naming the axis in any error.
void apply(pb::TrainConfig* config, const pb::Axis& axis, int index, const std::string& value) {
  try {
    set_field_from_text(config, axis.field(), value, axis_label(axis, index));
  } catch (const UsageError& e) {
    const std::string what = e.what();
    // Field lookup errors do not carry the label; value errors do.
    throw UsageError(what.rfind("axis ", 0) == 0 ? what : axis_label(axis, index) + ": " + what);
  }
}

void check_axis(const pb::Axis& axis, int index) {
  const std::string label = axis_label(axis, index);
  if (axis.field().empty())
    throw UsageError("axis " + std::to_string(index + 1) + ": field is empty");
  if (kReservedFields.count(axis.field()))
    throw UsageError(label + ": the sweep sets " + quote_input(axis.field()) +
                     " itself (seeds come from replicates or seeds)");
  if (is_random(axis) == (axis.values_size() > 0))
    throw UsageError(label + ": give either grid values or one distribution " +
                     "(uniform, log_uniform, int_uniform, choice)");
  // Every grid value must be one the field can take; a scratch config reports it now.
  pb::TrainConfig scratch;
  std::set<std::string> seen;
  for (const std::string& value : axis.values()) {
    apply(&scratch, axis, index, value);
    if (!seen.insert(value).second)
      throw UsageError(label + ": value " + quote_input(value) + " is listed twice");
  }
  switch (axis.distribution_case()) {
    case pb::Axis::kUniform:
      if (!(axis.uniform().lo() < axis.uniform().hi()))
        throw UsageError(label + ": uniform needs lo < hi, got lo " +
                         real_text(axis.uniform().lo()) + ", hi " + real_text(axis.uniform().hi()));
      break;
    case pb::Axis::kLogUniform:
      if (!(axis.log_uniform().lo() > 0 && axis.log_uniform().lo() < axis.log_uniform().hi()))
        throw UsageError(label + ": log_uniform needs 0 < lo < hi, got lo " +
                         real_text(axis.log_uniform().lo()) + ", hi " +
                         real_text(axis.log_uniform().hi()));
      break;
    case pb::Axis::kIntUniform:
      if (axis.int_uniform().lo() > axis.int_uniform().hi())
        throw UsageError(label + ": int_uniform needs lo <= hi, got lo " +
                         std::to_string(axis.int_uniform().lo()) + ", hi " +
                         std::to_string(axis.int_uniform().hi()));
      break;
    case pb::Axis::kChoice:
      if (axis.choice().values_size() == 0) throw UsageError(label + ": choice lists no values");
      for (const std::string& value : axis.choice().values()) apply(&scratch, axis, index, value);
      break;
    case pb::Axis::DISTRIBUTION_NOT_SET:
      break;
  }
}

// The value of a random axis in sample s: a uniform draw keyed by (draw seed, sample, axis).
std::string draw(const pb::Axis& axis, int index, uint64_t draw_seed, int sample) {
  const double u = random_uniform(draw_seed, kSweepDraws, static_cast<uint64_t>(sample),
                                  static_cast<uint64_t>(index));
  switch (axis.distribution_case()) {
    case pb::Axis::kUniform: {
      const pb::RealRange& r = axis.uniform();
      return real_text(r.lo() + u * (r.hi() - r.lo()));
    }
    case pb::Axis::kLogUniform: {
      const pb::RealRange& r = axis.log_uniform();
      return real_text(std::exp(std::log(r.lo()) + u * (std::log(r.hi()) - std::log(r.lo()))));
    }
    case pb::Axis::kIntUniform: {
      // Unsigned distances: the full int64 range spans 2^64 values, which no signed type holds.
      const pb::IntRange& r = axis.int_uniform();
      const uint64_t span = static_cast<uint64_t>(r.hi()) - static_cast<uint64_t>(r.lo());
      const long double scaled = u * (static_cast<long double>(span) + 1);
      const uint64_t offset =
          scaled >= static_cast<long double>(span) ? span : static_cast<uint64_t>(scaled);
      return std::to_string(static_cast<int64_t>(static_cast<uint64_t>(r.lo()) + offset));
    }
    case pb::Axis::kChoice: {
      const int n = axis.choice().values_size();
      return axis.choice().values(std::min(n - 1, static_cast<int>(u * n)));
    }
    case pb::Axis::DISTRIBUTION_NOT_SET:
      break;
  }
  throw UsageError(axis_label(axis, index) + ": not a random axis");
}

std::vector<uint64_t> trial_seeds(const pb::SweepSpec& spec, uint64_t base_seed) {
  if (spec.seeds_size() > 0) {
    if (spec.has_replicates()) throw UsageError("replicates: give replicates or seeds, not both");
    if (spec.seeds_size() > kMaxTrials)
      throw UsageError("seeds: " + std::to_string(spec.seeds_size()) + " seeds, more than the " +
                       std::to_string(kMaxTrials) + " trials a sweep may have");
    std::set<uint64_t> distinct(spec.seeds().begin(), spec.seeds().end());
    if (distinct.size() != static_cast<size_t>(spec.seeds_size()))
      throw UsageError("seeds: a seed is listed twice");
    return {spec.seeds().begin(), spec.seeds().end()};
  }
  if (spec.replicates() < 1 || spec.replicates() > kMaxTrials)
    throw UsageError("replicates: must be in [1, " + std::to_string(kMaxTrials) + "], got " +
                     std::to_string(spec.replicates()));
  std::vector<uint64_t> seeds;
  for (int r = 0; r < spec.replicates(); ++r) seeds.push_back(base_seed + static_cast<uint64_t>(r));
  return seeds;
}

}  // namespace

pb::SweepSpec read_sweep_spec(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw UsageError(path + ": cannot open the sweep spec");
  pb::SweepSpec spec;
  read_text_file(path, &spec);
  return spec;
}

std::string trial_id(const pb::TrainConfig& config) {
  pb::TrainConfig keyed = config;
  keyed.clear_out_dir();
  keyed.clear_pause_after_epoch();
  return hex12(message_hash(keyed));
}

std::vector<std::string> axis_fields(const pb::SweepSpec& spec) {
  std::vector<std::string> fields;
  for (const pb::Axis& axis : spec.axis()) fields.push_back(axis.field());
  return fields;
}

std::vector<PlannedTrial> expand_sweep(const pb::SweepSpec& spec, int* duplicates) {
  if (spec.base().has_checkpoint_dir() && !spec.base().checkpoint_dir().empty())
    throw UsageError(
        "base.checkpoint_dir: trials keep their checkpoints in their own folders; "
        "leave it unset");
  if (spec.base().pause_after_epoch() != 0)
    throw UsageError(
        "base.pause_after_epoch: the sweep pauses trials itself (successive_halving); leave it "
        "unset");
  if (spec.ranks_per_trial() < 1)
    throw UsageError("ranks_per_trial: must be at least 1, got " +
                     std::to_string(spec.ranks_per_trial()));
  if (spec.max_ranks() < 0)
    throw UsageError("max_ranks: must be 0 (the number of cores) or positive");

  std::vector<int> grid_axes, random_axes;
  std::set<std::string> fields;
  for (int i = 0; i < spec.axis_size(); ++i) {
    if (spec.axis(i).values_size() > kMaxTrials)
      throw UsageError(axis_label(spec.axis(i), i) + ": more than " + std::to_string(kMaxTrials) +
                       " values");
    check_axis(spec.axis(i), i);
    if (!fields.insert(spec.axis(i).field()).second)
      throw UsageError(axis_label(spec.axis(i), i) + ": the field is already an earlier axis");
    (is_random(spec.axis(i)) ? random_axes : grid_axes).push_back(i);
  }
  if (random_axes.empty() && spec.has_samples() && spec.samples() != 1)
    throw UsageError("samples: " + std::to_string(spec.samples()) + " given but no axis is random");
  if (spec.samples() < 1)
    throw UsageError("samples: must be at least 1, got " + std::to_string(spec.samples()));
  const int samples = random_axes.empty() ? 1 : spec.samples();

  pb::TrainConfig base = spec.base();
  fill_defaults(&base);
  const std::vector<uint64_t> seeds = trial_seeds(spec, base.seed());

  // Counted before anything is expanded: a few bytes of spec can ask for billions of trials.
  uint64_t planned = static_cast<uint64_t>(samples) * seeds.size();
  size_t grid_points = 1;
  for (int i : grid_axes) {
    grid_points *= static_cast<size_t>(spec.axis(i).values_size());
    planned *= static_cast<uint64_t>(spec.axis(i).values_size());
    if (planned > kMaxTrials) break;
  }
  if (planned > kMaxTrials)
    throw UsageError("the spec plans more than " + std::to_string(kMaxTrials) +
                     " trials (grid points x samples x seeds); split it into several sweeps");

  std::vector<PlannedTrial> trials;
  std::set<std::string> ids;
  int dropped = 0;
  for (size_t point = 0; point < grid_points; ++point) {
    // Mixed-radix digits of the grid point, the last grid axis varying fastest.
    std::map<int, std::string> grid_values;
    size_t rest = point;
    for (auto it = grid_axes.rbegin(); it != grid_axes.rend(); ++it) {
      const pb::Axis& axis = spec.axis(*it);
      grid_values[*it] = axis.values(static_cast<int>(rest % axis.values_size()));
      rest /= axis.values_size();
    }
    for (int sample = 0; sample < samples; ++sample) {
      pb::TrainConfig config = base;
      for (int i = 0; i < spec.axis_size(); ++i) {
        const pb::Axis& axis = spec.axis(i);
        apply(&config, axis, i,
              is_random(axis) ? draw(axis, i, spec.draw_seed(), sample) : grid_values[i]);
      }
      config.set_resume("");
      for (size_t r = 0; r < seeds.size(); ++r) {
        config.set_seed(seeds[r]);
        try {
          validate_config(config);
        } catch (const UsageError& e) {
          std::string where;
          for (int i = 0; i < spec.axis_size(); ++i)
            where += (i ? ", " : "") + spec.axis(i).field() + "=" +
                     show_input(field_text(config, spec.axis(i).field()));
          throw UsageError("the configuration " + (where.empty() ? "base" : where) +
                           " is invalid: " + e.what());
        }
        PlannedTrial trial;
        trial.config = config;
        trial.config.clear_out_dir();
        trial.config.clear_pause_after_epoch();
        const std::string id = trial_id(trial.config);
        if (!ids.insert(id).second) {
          ++dropped;
          continue;
        }
        pb::TrainConfig unseeded = trial.config;
        unseeded.clear_seed();
        pb::TrialRecord& record = trial.record;
        record.set_id(id);
        record.set_config_id(trial_id(unseeded));
        record.set_replicate(static_cast<int>(r));
        record.set_seed(seeds[r]);
        for (const pb::Axis& axis : spec.axis())
          record.add_axis_value(field_text(config, axis.field()));
        record.set_state(pb::PLANNED);
        trials.push_back(std::move(trial));
      }
    }
  }
  if (spec.has_successive_halving()) check_halving(spec, trials);
  if (duplicates) *duplicates = dropped;
  return trials;
}

pb::SweepLedger write_sweep_plan(const pb::SweepSpec& spec, const std::string& dir,
                                 int* duplicates) {
  const std::vector<PlannedTrial> trials = expand_sweep(spec, duplicates);
  std::error_code error;
  std::filesystem::create_directories(dir + "/trials", error);
  if (error) throw UsageError("--out: cannot create " + dir + "/trials: " + error.message());
  const std::string abs_dir = std::filesystem::absolute(dir).lexically_normal().string();
  SweepLock lock(dir);

  std::map<std::string, pb::TrialRecord> previous;
  pb::SweepLedger old;
  const bool replanning = std::filesystem::exists(ledger_path(dir));
  if (replanning) {
    old = read_ledger(dir);
    for (const pb::TrialRecord& record : old.trial()) previous[record.id()] = record;
  }

  pb::SweepLedger ledger;
  for (const std::string& field : axis_fields(spec)) ledger.add_axis_field(field);
  ledger.set_ranks_per_trial(spec.ranks_per_trial());
  ledger.set_max_ranks(spec.max_ranks());

  std::string plan = "id\tconfig_id\treplicate\tseed";
  for (const std::string& field : axis_fields(spec)) plan += "\t" + field;
  plan += "\n";
  for (const PlannedTrial& trial : trials) {
    const std::string folder = trial_dir(abs_dir, trial.record.id());
    std::filesystem::create_directories(folder, error);
    if (error) throw UsageError("--out: cannot create " + folder + ": " + error.message());
    // Relative to the sweep folder, so the folder can be moved or copied; the runners pass
    // the trial folder's current path with --out.
    pb::TrainConfig config = trial.config;
    config.set_out_dir(trial_dir(".", trial.record.id()).substr(2));
    write_file_atomically(folder + "/config.txt", to_text(config));

    pb::TrialRecord* record = ledger.add_trial();
    *record = trial.record;
    const auto kept = previous.find(trial.record.id());
    if (kept != previous.end()) {
      // Same resolved config, so its run folder and results still hold: keep its history.
      record->set_state(kept->second.state());
      record->set_attempts(kept->second.attempts());
      record->set_failures(kept->second.failures());
      *record->mutable_exit_codes() = kept->second.exit_codes();
      if (kept->second.has_wall_seconds()) record->set_wall_seconds(kept->second.wall_seconds());
      if (kept->second.has_rung()) record->set_rung(kept->second.rung());
    }
    plan += trial.record.id() + "\t" + trial.record.config_id() + "\t" +
            std::to_string(trial.record.replicate()) + "\t" + std::to_string(trial.record.seed());
    for (const std::string& value : trial.record.axis_value()) plan += "\t" + value;
    plan += "\n";
  }
  plan_halving(spec, trials, replanning ? &old : nullptr, &ledger);
  write_file_atomically(dir + "/planned_spec.txt", to_text(spec));
  write_file_atomically(dir + "/plan.txt", plan);
  write_ledger(dir, ledger);
  return ledger;
}

}  // namespace mlp
