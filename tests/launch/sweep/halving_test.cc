// Successive halving's arithmetic and rule, without running anything: the rungs of a budget, a
// rung's decision (replicates' mean, ties in plan order, diverged and failed configurations last,
// early-stopped replicates, floor(n / reduction factor) but at least one), and the spec errors,
// each one line; the halving block changes no trial and no id.
#include "launch/sweep/halving.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "core/errors.h"
#include "launch/sweep/plan.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using Kind = ReplicateAtRung::Kind;
using sweep_test::fresh_dir;
using sweep_test::write;

constexpr double kNone = std::numeric_limits<double>::quiet_NaN();

TEST(HalvingRungs, MinEpochsTimesPowersOfTheFactorBelowTheBudgetThenTheBudget) {
  EXPECT_EQ(rung_epochs(27, 1, 3), (std::vector<int>{1, 3, 9, 27}));
  EXPECT_EQ(rung_epochs(200, 9, 3), (std::vector<int>{9, 27, 81, 200}));
  EXPECT_EQ(rung_epochs(81, 1, 3), (std::vector<int>{1, 3, 9, 27, 81}));
  EXPECT_EQ(rung_epochs(27, 1, 2), (std::vector<int>{1, 2, 4, 8, 16, 27}));
  EXPECT_EQ(rung_epochs(10, 4, 3), (std::vector<int>{4, 10}));
  // min_epochs equal to the budget: one rung, every trial runs it all.
  EXPECT_EQ(rung_epochs(10, 10, 3), (std::vector<int>{10}));
  // A factor that would overflow int stops at the budget.
  EXPECT_EQ(rung_epochs(2000000000, 1000000000, 1000000000),
            (std::vector<int>{1000000000, 2000000000}));
}

ConfigAtRung config(const std::string& id, std::vector<ReplicateAtRung> replicates) {
  return {id, std::move(replicates)};
}

ReplicateAtRung paused(double value) { return {Kind::kPaused, value}; }

// The decision as "id:outcome" in ranking order, with P(romoted), S(topped), E(nded).
std::string ranking(const pb::RungDecision& d) {
  std::string text;
  for (const pb::RankedConfig& c : d.ranking()) {
    const char* outcome = c.outcome() == pb::RankedConfig::PROMOTED  ? "P"
                          : c.outcome() == pb::RankedConfig::STOPPED ? "S"
                                                                     : "E";
    text += (text.empty() ? "" : " ") + c.config_id() + ":" + outcome;
  }
  return text;
}

TEST(HalvingDecision, RanksByTheMeanOfTheReplicatesAndKeepsATopThird) {
  // b's replicates average 0.8, above a's 0.75 though a holds the single best replicate.
  const pb::RungDecision d = decide_rung(
      0, 1,
      {config("a", {paused(0.95), paused(0.55)}), config("b", {paused(0.8), paused(0.8)}),
       config("c", {paused(0.6), paused(0.6)}), config("d", {paused(0.7), paused(0.7)}),
       config("e", {paused(0.5), paused(0.5)}), config("f", {paused(0.2), paused(0.3)})},
      3, true);
  EXPECT_EQ(d.rung(), 0);
  EXPECT_EQ(d.epochs(), 1);
  EXPECT_EQ(d.configurations(), 6);
  EXPECT_EQ(d.keep(), 2);
  EXPECT_EQ(ranking(d), "b:P a:P d:S c:S e:S f:S");
  EXPECT_DOUBLE_EQ(d.ranking(1).value(), 0.75);
}

TEST(HalvingDecision, TiesKeepPlanOrderAndALossRanksLowestFirst) {
  const pb::RungDecision acc = decide_rung(
      1, 3, {config("a", {paused(0.5)}), config("b", {paused(0.9)}), config("c", {paused(0.9)})}, 3,
      true);
  EXPECT_EQ(ranking(acc), "b:P c:S a:S");
  const pb::RungDecision loss = decide_rung(
      1, 3,
      {config("a", {paused(0.5)}), config("b", {paused(0.2)}), config("c", {paused(0.2)}),
       config("d", {paused(0.9)}), config("e", {paused(0.1)}), config("f", {paused(0.3)})},
      2, false);
  EXPECT_EQ(loss.keep(), 3);
  EXPECT_EQ(ranking(loss), "e:P b:P c:P f:S a:S d:S");
}

TEST(HalvingDecision, DivergedAndFailedConfigurationsRankLastInPlanOrderAndEnd) {
  // "a" would be best by its paused replicate, but its other one diverged: it cannot go on.
  const pb::RungDecision d = decide_rung(
      0, 1,
      {config("a", {paused(0.99), {Kind::kLost, kNone}}), config("b", {paused(0.4), paused(0.4)}),
       config("c", {{Kind::kLost, 0.7}, {Kind::kLost, kNone}}),
       config("d", {paused(0.6), paused(0.6)})},
      3, true);
  EXPECT_EQ(d.keep(), 1);
  EXPECT_EQ(ranking(d), "d:P b:S a:E c:E");
  EXPECT_FALSE(d.ranking(2).has_value());
  EXPECT_FALSE(d.ranking(3).has_value());
}

TEST(HalvingDecision, EarlyStoppedReplicatesCountWithTheirLastValueAndCannotGoOnAlone) {
  // a: one replicate stopped early at 0.9, one paused at 0.7: mean 0.8, and its paused replicate
  // can go on. b: both stopped early, best of all, but nothing of it is left to continue.
  const pb::RungDecision d = decide_rung(2, 9,
                                         {config("a", {{Kind::kDone, 0.9}, paused(0.7)}),
                                          config("b", {{Kind::kDone, 0.95}, {Kind::kDone, 0.93}}),
                                          config("c", {paused(0.75), paused(0.75)})},
                                         3, true);
  EXPECT_EQ(ranking(d), "b:E a:P c:S");
  EXPECT_DOUBLE_EQ(d.ranking(1).value(), 0.8);
}

TEST(HalvingDecision, AtLeastOneGoesOnAndAMissingValueRanksLast) {
  EXPECT_EQ(
      ranking(decide_rung(0, 1, {config("a", {paused(0.5)}), config("b", {paused(0.6)})}, 3, true)),
      "b:P a:S");
  // Fewer configurations able to go on than the rung keeps: all of them go on.
  const pb::RungDecision d =
      decide_rung(0, 1,
                  {config("a", {paused(kNone)}), config("b", {{Kind::kLost, kNone}}),
                   config("c", {paused(0.3)}), config("d", {{Kind::kDone, 0.9}}),
                   config("e", {{Kind::kLost, kNone}}), config("f", {{Kind::kDone, 0.8}})},
                  3, true);
  EXPECT_EQ(d.keep(), 2);
  EXPECT_EQ(ranking(d), "d:E f:E c:P a:E b:E e:E");
}

std::string spec_error(const std::string& text) {
  const std::string path = fresh_dir("halving_spec") + "/spec.txt";
  write(path, text);
  try {
    expand_sweep(read_sweep_spec(path));
  } catch (const UsageError& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    return what;
  }
  ADD_FAILURE() << "no error for:\n" << text;
  return "";
}

const char kBase[] = "base { epochs: 27 data { val_fraction: 0.1 } }\n";

TEST(HalvingSpec, BadHalvingInputGetsOneLineEach) {
  EXPECT_EQ(spec_error(kBase + std::string("successive_halving { reduction_factor: 1 }")),
            "successive_halving.reduction_factor: must be at least 2, got 1");
  EXPECT_EQ(spec_error(kBase + std::string("successive_halving { min_epochs: 0 }")),
            "successive_halving.min_epochs: must be in [1, 27] (base.epochs is the largest "
            "budget), got 0");
  EXPECT_EQ(spec_error(kBase + std::string("successive_halving { min_epochs: 28 }")),
            "successive_halving.min_epochs: must be in [1, 27] (base.epochs is the largest "
            "budget), got 28");
  EXPECT_EQ(spec_error(kBase + std::string("axis { field: \"optimizer.lr\" log_uniform { lo: "
                                           "1e-4 hi: 1e-1 } }\nsuccessive_halving {}")),
            "axis 1 (\"optimizer.lr\") is random: successive_halving needs `samples`, how many "
            "configurations to draw and rank");
  EXPECT_EQ(spec_error(kBase + std::string("axis { field: \"epochs\" values: [\"9\", \"27\"] }\n"
                                           "successive_halving {}")),
            "axis 1 (\"epochs\"): successive_halving takes every trial's budget from "
            "base.epochs; no axis may change it");
  const std::string no_val =
      spec_error("base { epochs: 27 data { val_fraction: 0 } }\nsuccessive_halving {}");
  EXPECT_NE(no_val.find("has no validation split (data.val_fraction 0): successive_halving ranks "
                        "configurations by a validation metric; set val_fraction"),
            std::string::npos)
      << no_val;
  // Also when an axis takes the split away from some trials.
  EXPECT_NE(spec_error(kBase + std::string("axis { field: \"data.val_fraction\" values: [\"0.1\", "
                                           "\"0\"] }\nsuccessive_halving {}"))
                .find("has no validation split"),
            std::string::npos);
  EXPECT_EQ(spec_error(kBase + std::string("axis { field: \"optimizer.lr\" values: [\"0.1\"] }\n"
                                           "successive_halving { bracket_by: \"model.dropout\" }")),
            "successive_halving.bracket_by: \"model.dropout\" is not an axis of the spec");
  EXPECT_EQ(spec_error(kBase + std::string("axis { field: \"optimizer.lr\" values: [\"0.1\"] }\n"
                                           "successive_halving { bracket_by: [\"optimizer.lr\", "
                                           "\"optimizer.lr\"] }")),
            "successive_halving.bracket_by: \"optimizer.lr\" is listed twice");
  EXPECT_EQ(spec_error("base { pause_after_epoch: 3 }"),
            "base.pause_after_epoch: the sweep pauses trials itself (successive_halving); leave "
            "it unset");
  EXPECT_NE(spec_error("axis { field: \"pause_after_epoch\" values: [\"1\"] }")
                .find("the sweep sets \"pause_after_epoch\" itself"),
            std::string::npos);
}

TEST(HalvingSpec, TheBlockChangesNoTrialAndNoId) {
  const std::string grid =
      kBase + std::string(
                  "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.01\"] }\n"
                  "axis { field: \"optimizer.weight_decay\" uniform { lo: 0 hi: 1e-3 } }\n"
                  "samples: 2\nreplicates: 2\n");
  const std::string dir = fresh_dir("halving_ids");
  write(dir + "/plain.txt", grid);
  write(dir + "/halving.txt",
        grid + "successive_halving { reduction_factor: 3 min_epochs: 1 metric: VAL_LOSS }\n");
  const std::vector<PlannedTrial> a = expand_sweep(read_sweep_spec(dir + "/plain.txt"));
  const std::vector<PlannedTrial> b = expand_sweep(read_sweep_spec(dir + "/halving.txt"));
  ASSERT_EQ(a.size(), 8u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].record.DebugString(), b[i].record.DebugString());
    EXPECT_EQ(a[i].config.DebugString(), b[i].config.DebugString());
  }
}

}  // namespace
}  // namespace mlp
