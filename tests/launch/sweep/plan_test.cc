// Sweep planning: the grid x random-sample x seed expansion, draws inside their bounds, stable
// trial ids, the plan folder, re-planning that keeps trial state, and spec errors that name
// their line or axis.
#include "launch/sweep/plan.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <set>

#include "core/errors.h"
#include "core/config_fields.h"
#include "launch/sweep/ledger.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::slurp;
using sweep_test::write;

pb::SweepSpec parse_spec(const std::string& text) {
  const std::string path = fresh_dir("spec_text") + "/spec.txt";
  write(path, text);
  return read_sweep_spec(path);
}

const char kMixedSpec[] =
    "base { model { hidden: \"8\" } epochs: 2 seed: 10 }\n"
    "axis { field: \"model.activation\" values: [\"relu\", \"tanh\"] }\n"
    "axis { field: \"optimizer.lr\" log_uniform { lo: 1e-4 hi: 1e-1 } }\n"
    "axis { field: \"batch_size\" int_uniform { lo: 16 hi: 18 } }\n"
    "axis { field: \"optimizer.weight_decay\" uniform { lo: 0 hi: 0.5 } }\n"
    "axis { field: \"model.hidden\" choice { values: [\"8\", \"16,8\"] } }\n"
    "samples: 3\n"
    "replicates: 2\n";

std::string expect_usage_error(const std::string& spec_text) {
  try {
    expand_sweep(parse_spec(spec_text));
  } catch (const UsageError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no error for:\n" << spec_text;
  return "";
}

TEST(SweepPlan, GridTimesSamplesTimesSeedsWithDrawsInBounds) {
  const std::vector<PlannedTrial> trials = expand_sweep(parse_spec(kMixedSpec));
  ASSERT_EQ(trials.size(), 2u * 3u * 2u);
  std::set<std::string> ids, configs;
  for (size_t i = 0; i < trials.size(); ++i) {
    const PlannedTrial& t = trials[i];
    ids.insert(t.record.id());
    configs.insert(t.record.config_id());
    EXPECT_EQ(t.record.id().size(), 12u);
    EXPECT_EQ(t.record.id().find_first_not_of("0123456789abcdef"), std::string::npos);
    // Replicates of a configuration sit together, seeded base seed + replicate.
    EXPECT_EQ(t.record.replicate(), static_cast<int>(i % 2));
    EXPECT_EQ(t.config.seed(), 10u + i % 2);
    EXPECT_EQ(t.record.seed(), t.config.seed());
    EXPECT_EQ(t.config.model().activation(), i < 6 ? pb::RELU : pb::TANH);
    EXPECT_GE(t.config.optimizer().lr(), 1e-4f);
    EXPECT_LE(t.config.optimizer().lr(), 1e-1f);
    EXPECT_GE(t.config.batch_size(), 16);
    EXPECT_LE(t.config.batch_size(), 18);
    EXPECT_GE(t.config.optimizer().weight_decay(), 0.0f);
    EXPECT_LE(t.config.optimizer().weight_decay(), 0.5f);
    EXPECT_TRUE(t.config.model().hidden() == "8" || t.config.model().hidden() == "16,8");
    EXPECT_FALSE(t.config.has_out_dir());
    ASSERT_EQ(t.record.axis_value_size(), 5);
    EXPECT_EQ(t.record.axis_value(1), field_text(t.config, "optimizer.lr"));
  }
  EXPECT_EQ(ids.size(), 12u);
  EXPECT_EQ(configs.size(), 6u);
  // The random samples are crossed with the grid: both activations see the same draws.
  for (size_t i = 0; i < 6; ++i)
    EXPECT_EQ(trials[i].config.optimizer().lr(), trials[i + 6].config.optimizer().lr());
}

TEST(SweepPlan, ExpandingTwiceGivesTheSameIdsAndADifferentDrawSeedOtherDraws) {
  const std::vector<PlannedTrial> a = expand_sweep(parse_spec(kMixedSpec));
  const std::vector<PlannedTrial> b = expand_sweep(parse_spec(kMixedSpec));
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(a[i].record.id(), b[i].record.id());
  const std::vector<PlannedTrial> c =
      expand_sweep(parse_spec(std::string(kMixedSpec) + "draw_seed: 7\n"));
  EXPECT_NE(a[0].config.optimizer().lr(), c[0].config.optimizer().lr());
}

TEST(SweepPlan, IdHashesTheResolvedConfigWithoutTheRunFolderOrPause) {
  pb::TrainConfig config;
  fill_defaults(&config);
  const std::string id = trial_id(config);
  config.set_out_dir("/somewhere/else");
  EXPECT_EQ(trial_id(config), id);
  // Nor where successive halving pauses it.
  config.set_pause_after_epoch(3);
  EXPECT_EQ(trial_id(config), id);
  config.set_seed(config.seed() + 1);
  EXPECT_NE(trial_id(config), id);
}

TEST(SweepPlan, ExplicitSeedsAndGridOnlySweeps) {
  const std::vector<PlannedTrial> trials =
      expand_sweep(parse_spec("axis { field: \"model.hidden\" values: [\"4\", \"8\", \"4,4\"] }\n"
                              "axis { field: \"epochs\" values: [\"1\", \"2\"] }\n"
                              "seeds: [5, 50]\n"));
  ASSERT_EQ(trials.size(), 12u);
  // The last axis varies fastest.
  EXPECT_EQ(trials[0].config.model().hidden(), "4");
  EXPECT_EQ(trials[0].config.epochs(), 1);
  EXPECT_EQ(trials[2].config.epochs(), 2);
  EXPECT_EQ(trials[4].config.model().hidden(), "8");
  EXPECT_EQ(trials[0].config.seed(), 5u);
  EXPECT_EQ(trials[1].config.seed(), 50u);
}

TEST(SweepPlan, AChoiceDrawnTwiceIsKeptOnce) {
  int duplicates = -1;
  const std::vector<PlannedTrial> trials = expand_sweep(
      parse_spec(
          "axis { field: \"model.activation\" choice { values: [\"relu\"] } }\nsamples: 4\n"),
      &duplicates);
  EXPECT_EQ(trials.size(), 1u);
  EXPECT_EQ(duplicates, 3);
}

TEST(SweepPlan, PlanFolderIsIdenticalWhenPlannedTwiceAndKeepsTrialState) {
  const std::string spec_path = fresh_dir("plan_spec") + "/spec.txt";
  write(spec_path,
        "base { epochs: 1 }\naxis { field: \"optimizer.lr\" values: [\"0.1\", \"0.01\"] }\n");
  const std::string dir = fresh_dir("plan_twice");
  const pb::SweepLedger first = write_sweep_plan(read_sweep_spec(spec_path), dir);
  ASSERT_EQ(first.trial_size(), 2);
  const std::string plan = slurp(dir + "/plan.txt");
  EXPECT_EQ(plan.rfind("id\tconfig_id\treplicate\tseed\toptimizer.lr\n", 0), 0u) << plan;

  // Each trial folder holds a config the trainer can read, writing into that folder.
  const std::string folder =
      trial_dir(std::filesystem::absolute(dir).string(), first.trial(0).id());
  pb::TrainConfig config;
  read_text_file(folder + "/config.txt", &config);
  // Relative to the sweep folder, which can then be moved (the runners pass --out).
  EXPECT_EQ(config.out_dir(), "trials/" + first.trial(0).id());
  EXPECT_FLOAT_EQ(config.optimizer().lr(), 0.1f);
  EXPECT_EQ(trial_id(config), first.trial(0).id());

  pb::SweepLedger ledger = read_ledger(dir);
  ledger.mutable_trial(1)->set_state(pb::DONE);
  ledger.mutable_trial(1)->set_attempts(1);
  ledger.mutable_trial(1)->add_exit_codes(0);
  write_ledger(dir, ledger);

  // Extending the grid keeps the finished trial's record and plans the new one.
  write(spec_path,
        "base { epochs: 1 }\naxis { field: \"optimizer.lr\" values: [\"0.1\", \"0.01\", \"0.001\"] "
        "}\n");
  const pb::SweepLedger second = write_sweep_plan(read_sweep_spec(spec_path), dir);
  ASSERT_EQ(second.trial_size(), 3);
  EXPECT_EQ(second.trial(0).id(), first.trial(0).id());
  EXPECT_EQ(second.trial(1).id(), first.trial(1).id());
  EXPECT_EQ(second.trial(1).state(), pb::DONE);
  EXPECT_EQ(second.trial(1).exit_codes_size(), 1);
  EXPECT_EQ(second.trial(2).state(), pb::PLANNED);
  EXPECT_EQ(slurp(dir + "/plan.txt").rfind(plan, 0), 0u);
}

TEST(SweepPlan, SpecErrorsNameTheirLineOrAxis) {
  const std::string dir = fresh_dir("bad_spec");
  write(dir + "/spec.txt",
        "base { epochs: 2 }\naxis {\n  field: \"optimizer.lr\"\n  valuez: \"0.1\"\n}\n");
  try {
    read_sweep_spec(dir + "/spec.txt");
    ADD_FAILURE() << "a misspelt field parsed";
  } catch (const UsageError& e) {
    EXPECT_EQ(std::string(e.what()).rfind(dir + "/spec.txt:4:", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find("valuez"), std::string::npos) << e.what();
  }

  EXPECT_NE(expect_usage_error("axis { field: \"model.dropot\" values: \"0.1\" }\n")
                .find("axis 1 (\"model.dropot\"): no config field named \"model.dropot\""),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"epochs\" values: \"1\" }\n"
                               "axis { field: \"optimizer.lr\" values: [\"0.1\", \"fast\"] }\n")
                .find("axis 2 (\"optimizer.lr\"): \"fast\" is not a number"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"optimizer.lr\" log_uniform { lo: 0 hi: 1 } }\n")
                .find("axis 1 (\"optimizer.lr\"): log_uniform needs 0 < lo < hi, got lo 0, hi 1"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"optimizer.lr\" uniform { lo: 0.5 hi: 0.1 } }\n")
                .find("uniform needs lo < hi"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"epochs\" int_uniform { lo: 5 hi: 2 } }\n")
                .find("int_uniform needs lo <= hi"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"seed\" values: [\"1\", \"2\"] }\n")
                .find("the sweep sets \"seed\" itself"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"epochs\" values: \"1\" uniform { lo: 1 hi: 2 } }\n")
                .find("give either grid values or one distribution"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"epochs\" values: \"2\" }\nsamples: 4\n")
                .find("samples: 4 given but no axis is random"),
            std::string::npos);
  EXPECT_NE(expect_usage_error("axis { field: \"optimizer.lr\" values: [\"0.1\", \"-1\"] }\n")
                .find("optimizer.lr=-1 is invalid: --lr: must be a positive number"),
            std::string::npos);
}

// A few bytes of spec must not plan millions of trials (each a folder and a ledger entry).
TEST(SweepPlan, TrialCountsAreBoundedBeforeExpanding) {
  EXPECT_EQ(expect_usage_error("replicates: 390390\n"),
            "replicates: must be in [1, 10000], got 390390");
  EXPECT_EQ(expect_usage_error("axis { field: \"optimizer.lr\" uniform { lo: 0.1 hi: 0.2 } }\n"
                               "samples: 2000000000\n"),
            "the spec plans more than 10000 trials (grid points x samples x seeds); split it into "
            "several sweeps");
  EXPECT_EQ(expect_usage_error("axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.2\"] }\n"
                               "axis { field: \"epochs\" int_uniform { lo: 1 hi: 9 } }\n"
                               "samples: 100\nreplicates: 51\n"),
            "the spec plans more than 10000 trials (grid points x samples x seeds); split it into "
            "several sweeps");
}

// The full int64 range spans 2^64 values: drawn without overflow, every draw inside it.
TEST(SweepPlan, FullRangeIntegerAxisDrawsInRange) {
  const std::vector<PlannedTrial> trials = expand_sweep(
      parse_spec("axis { field: \"max_steps\" int_uniform { lo: 0 hi: 9223372036854775807 } }\n"
                 "samples: 20\n"));
  ASSERT_EQ(trials.size(), 20u);
  for (const PlannedTrial& t : trials) EXPECT_GE(t.config.max_steps(), 0);
  EXPECT_NE(expect_usage_error("axis { field: \"data.train_limit\" int_uniform { lo: "
                               "-9223372036854775808 hi: 9223372036854775807 } }\nsamples: 20\n")
                .find("must be non-negative"),
            std::string::npos);
}

// Found by fuzzing: a field name holding a newline made a two-line error.
TEST(SweepPlan, ErrorsQuotingTheSpecStayOneLine) {
  EXPECT_EQ(expect_usage_error("axis { field: \"early_stopping.pati\\nce\" values: \"1\" }\n"),
            "axis 1 (\"early_stopping.pati\\nce\"): no config field named "
            "\"early_stopping.pati\\nce\"");
}

}  // namespace
}  // namespace mlp
