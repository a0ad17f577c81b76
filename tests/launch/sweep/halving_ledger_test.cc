// Successive halving over a planned ledger, with trial results written by hand: a rung is decided
// only once all its trials have settled, the same way whatever order they settle in; a recorded
// decision is applied again to a state left behind by a crash; the metric follows the rows;
// a rung where every trial that ran at it failed is left undecided; brackets are halved each on
// their own; a folder keeps its decisions when planned again with the
// same spec and refuses another schedule or other trials; a ledger of an earlier version, without
// the halving fields, still reads.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.h"
#include "launch/sweep/halving.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plan.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::write;

// Six configurations (learning rates) of two replicates, budget 9: rungs at 1, 3 and 9 epochs.
const char kSpec[] =
    "base { epochs: 9 data { val_fraction: 0.2 } }\n"
    "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.2\", \"0.3\", \"0.4\", \"0.5\", "
    "\"0.6\"] }\n"
    "replicates: 2\n";

pb::SweepLedger plan(const std::string& dir, const std::string& extra) {
  write(dir + "/spec.txt", kSpec + extra);
  return write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
}

// metrics.csv rows of epochs 1..epochs, the last with validation value `value` (accuracy, or
// loss when accuracy is false); earlier rows hold other values.
void write_metrics(const std::string& folder, int epochs, double value, bool accuracy = true) {
  std::string csv =
      "epoch,train_loss,train_acc,val_loss,val_acc,samples_per_second,epoch_seconds,"
      "learning_rate\n";
  for (int e = 1; e <= epochs; ++e) {
    const double v = e == epochs ? value : 0.01 * e;
    csv += std::to_string(e) + ",1,," + (accuracy ? "2" : std::to_string(v)) + "," +
           (accuracy ? std::to_string(v) : "") + ",100,1,0.1\n";
  }
  write(folder + "/metrics.csv", csv);
}

// Trial i paused at `rung` (of the rungs 1, 3, 9) with validation accuracy `value`.
void pause(const std::string& dir, pb::SweepLedger* ledger, int i, int rung, double value) {
  pb::TrialRecord* t = ledger->mutable_trial(i);
  t->set_state(pb::PAUSED);
  t->set_rung(rung);
  write_metrics(trial_dir(dir, t->id()), ledger->rung_epochs(rung), value);
}

// Validation accuracy of trial i at the first rung: configuration c's replicates average
// 0.5 + 0.05 c, except that configurations 1 and 4 tie.
double first_rung_value(int i) {
  const int c = i / 2;
  return (c == 4 ? 0.55 : 0.5 + 0.05 * c) + (i % 2 == 0 ? 0.01 : -0.01);
}

std::string decisions(const pb::SweepLedger& ledger) {
  std::string text;
  for (const pb::RungDecision& d : ledger.decision()) text += d.ShortDebugString() + "\n";
  return text;
}

TEST(HalvingLedger, ARungIsDecidedOnceSettledTheSameWayInAnyOrder) {
  std::string first;
  for (const bool reverse : {false, true}) {
    const std::string dir = fresh_dir(reverse ? "halving_reverse" : "halving_forward");
    pb::SweepLedger ledger = plan(dir, "successive_halving { reduction_factor: 3 }\n");
    ASSERT_EQ(ledger.trial_size(), 12);
    ASSERT_EQ(ledger.rung_epochs_size(), 3);
    for (int n = 0; n < 12; ++n) {
      const int i = reverse ? 11 - n : n;
      pause(dir, &ledger, i, 0, first_rung_value(i));
      const std::vector<int> changed = advance_halving(dir, &ledger);
      if (n < 11) {
        EXPECT_TRUE(changed.empty()) << n;
        EXPECT_EQ(ledger.decision_size(), 0) << n;
      }
    }
    ASSERT_EQ(ledger.decision_size(), 1);
    EXPECT_EQ(ledger.halving().metric(), pb::VAL_ACC);
    const pb::RungDecision& d = ledger.decision(0);
    EXPECT_EQ(d.keep(), 2);
    // Configurations 5 (0.75) and then 3 (0.65) go on; 1 and 4 tie at 0.55 in plan order.
    ASSERT_EQ(d.ranking_size(), 6);
    EXPECT_EQ(d.ranking(0).config_id(), ledger.trial(10).config_id());
    EXPECT_EQ(d.ranking(1).config_id(), ledger.trial(6).config_id());
    EXPECT_EQ(d.ranking(3).config_id(), ledger.trial(2).config_id());
    EXPECT_EQ(d.ranking(4).config_id(), ledger.trial(8).config_id());
    for (int i = 0; i < 12; ++i) {
      const bool promoted = i / 2 == 5 || i / 2 == 3;
      EXPECT_EQ(ledger.trial(i).state(), promoted ? pb::PLANNED : pb::PRUNED) << i;
      EXPECT_EQ(ledger.trial(i).rung(), promoted ? 1 : 0) << i;
      EXPECT_EQ(pause_epoch(ledger, ledger.trial(i)), promoted ? 3 : 1) << i;
    }
    if (reverse)
      EXPECT_EQ(decisions(ledger), first);
    else
      first = decisions(ledger);
  }
}

// A rung where every trial that ran at it failed (here all three of the two promoted
// configurations; the fourth replicate ended by early stopping at the first rung) is left
// undecided; once they pause there, it is decided.
TEST(HalvingLedger, ARungWhereEveryTrialThatRanFailedIsLeftUndecided) {
  const std::string dir = fresh_dir("halving_all_failed_rung");
  pb::SweepLedger ledger = plan(dir, "successive_halving { reduction_factor: 3 }\n");
  for (int i = 0; i < 12; ++i) pause(dir, &ledger, i, 0, first_rung_value(i));
  ledger.mutable_trial(10)->set_state(pb::DONE);
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 1);
  for (int i : {6, 7, 11}) {
    ASSERT_EQ(ledger.trial(i).rung(), 1) << i;
    ledger.mutable_trial(i)->set_state(pb::FAILED);
  }
  EXPECT_EQ(ledger.trial(10).rung(), 0);
  EXPECT_TRUE(advance_halving(dir, &ledger).empty());
  EXPECT_EQ(ledger.decision_size(), 1);
  EXPECT_FALSE(rung_decided(ledger, ledger.trial(6)));

  for (int i : {6, 7, 11}) pause(dir, &ledger, i, 1, 0.5 + 0.01 * i);
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 2);
  EXPECT_EQ(ledger.decision(1).rung(), 1);
}

TEST(HalvingLedger, ARecordedDecisionIsAppliedAgainAndTheLastRungFinishes) {
  const std::string dir = fresh_dir("halving_stale");
  pb::SweepLedger ledger = plan(dir, "successive_halving { reduction_factor: 3 }\n");
  for (int i = 0; i < 12; ++i) pause(dir, &ledger, i, 0, first_rung_value(i));
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 1);
  // A launcher that died between writing the ledger and a trial's state file: the state file,
  // which wins, still says paused at the first rung.
  pb::SweepLedger stale = ledger;
  stale.mutable_trial(10)->set_state(pb::PAUSED);
  stale.mutable_trial(10)->set_rung(0);
  EXPECT_EQ(advance_halving(dir, &stale), std::vector<int>{10});
  EXPECT_EQ(stale.DebugString(), ledger.DebugString());

  // The second rung: configuration 3 early-stopped one replicate at epoch 2 with 0.9; the other
  // is paused at 0.6 (mean 0.75); configuration 5 paused at 0.7 and 0.7. One goes on: 3.
  pb::TrialRecord* early = ledger.mutable_trial(6);
  early->set_state(pb::DONE);
  write_metrics(trial_dir(dir, early->id()), 2, 0.9);
  EXPECT_TRUE(advance_halving(dir, &ledger).empty());
  pause(dir, &ledger, 7, 1, 0.6);
  pause(dir, &ledger, 10, 1, 0.7);
  EXPECT_TRUE(advance_halving(dir, &ledger).empty());
  pause(dir, &ledger, 11, 1, 0.7);
  EXPECT_EQ(advance_halving(dir, &ledger), (std::vector<int>{7, 10, 11}));
  ASSERT_EQ(ledger.decision_size(), 2);
  EXPECT_DOUBLE_EQ(ledger.decision(1).ranking(0).value(), 0.75);
  EXPECT_EQ(ledger.trial(7).state(), pb::PLANNED);
  EXPECT_EQ(ledger.trial(7).rung(), 2);
  // The last rung is the full budget: no pause, and nothing more to decide.
  EXPECT_EQ(pause_epoch(ledger, ledger.trial(7)), 0);
  EXPECT_EQ(ledger.trial(6).state(), pb::DONE);
  EXPECT_EQ(ledger.trial(10).state(), pb::PRUNED);
  ledger.mutable_trial(7)->set_state(pb::DONE);
  EXPECT_TRUE(advance_halving(dir, &ledger).empty());
  EXPECT_EQ(ledger.decision_size(), 2);
}

TEST(HalvingLedger, WithoutAccuracyTheLossDecidesAndAnAccuracyAskedForIsRefused) {
  const std::string dir = fresh_dir("halving_loss");
  pb::SweepLedger ledger = plan(dir, "successive_halving { reduction_factor: 6 }\n");
  for (int i = 0; i < 12; ++i) {
    pb::TrialRecord* t = ledger.mutable_trial(i);
    t->set_state(pb::PAUSED);
    write_metrics(trial_dir(dir, t->id()), 1, i / 2 == 2 ? 0.1 : 1.0 + i, false);
  }
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 1);
  EXPECT_EQ(ledger.halving().metric(), pb::VAL_LOSS);
  EXPECT_EQ(ledger.decision(0).ranking(0).config_id(), ledger.trial(4).config_id());
  EXPECT_EQ(ledger.decision(0).ranking(0).outcome(), pb::RankedConfig::PROMOTED);

  const std::string asked = fresh_dir("halving_asked");
  pb::SweepLedger refused = plan(asked, "successive_halving { metric: VAL_ACC }\n");
  for (int i = 0; i < 12; ++i) {
    pb::TrialRecord* t = refused.mutable_trial(i);
    t->set_state(pb::PAUSED);
    write_metrics(trial_dir(asked, t->id()), 1, 1.0, false);
  }
  try {
    advance_halving(asked, &refused);
    ADD_FAILURE() << "no error";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "successive_halving.metric: no trial reports val_acc (a regression? use "
                 "VAL_LOSS) at epoch 1, the rung to decide");
  }
}

TEST(HalvingLedger, PlanningAgainKeepsDecisionsButRefusesAnotherScheduleOrOtherTrials) {
  const std::string dir = fresh_dir("halving_replan");
  const std::string halving = "successive_halving { reduction_factor: 3 }\n";
  pb::SweepLedger ledger = plan(dir, halving);
  for (int i = 0; i < 12; ++i) pause(dir, &ledger, i, 0, first_rung_value(i));
  advance_halving(dir, &ledger);
  write_ledger(dir, ledger);

  const pb::SweepLedger again = plan(dir, halving);
  EXPECT_EQ(decisions(again), decisions(ledger));
  EXPECT_EQ(again.halving().metric(), pb::VAL_ACC);
  EXPECT_EQ(again.trial(10).rung(), 1);
  EXPECT_EQ(again.trial(0).state(), pb::PRUNED);

  const auto refused = [&](const std::string& extra, const std::string& why) {
    try {
      plan(dir, extra);
      ADD_FAILURE() << "no error for " << extra;
    } catch (const UsageError& e) {
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  refused("successive_halving { reduction_factor: 2 }\n",
          "the folder's trials ran under another successive_halving schedule; plan this spec "
          "into a new folder");
  refused("", "the folder's trials ran under another successive_halving schedule");
  write(dir + "/more.txt", std::string(kSpec) +
                               "axis { field: \"model.hidden\" values: [\"8\", "
                               "\"16\"] }\n" +
                               halving);
  try {
    write_sweep_plan(read_sweep_spec(dir + "/more.txt"), dir);
    ADD_FAILURE() << "no error for other trials";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(),
                 "the folder's successive halving has decided 1 rung(s) over other trials; plan "
                 "this spec into a new folder");
  }
}

// With bracket_by, each bracket is halved on its own: its decision waits for its own trials only,
// keeps a third of its own configurations, and touches no trial of another bracket.
TEST(HalvingLedger, BracketsAreDecidedEachOnTheirOwn) {
  const std::string dir = fresh_dir("halving_brackets");
  write(dir + "/spec.txt",
        "base { epochs: 9 data { val_fraction: 0.2 } }\n"
        "axis { field: \"model.dropout\" values: [\"0\", \"0.5\"] }\n"
        "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.2\", \"0.3\"] }\n"
        "successive_halving { reduction_factor: 3 bracket_by: \"model.dropout\" }\n");
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  ASSERT_EQ(ledger.trial_size(), 6);
  EXPECT_EQ(bracket_of(ledger, ledger.trial(0)), "model.dropout=0");
  EXPECT_EQ(bracket_of(ledger, ledger.trial(5)), "model.dropout=0.5");
  // The dropout bracket's trials do better than every plain one, yet the plain bracket keeps its
  // own best. Its trials settle first: its first rung is decided alone.
  for (int i = 0; i < 3; ++i) pause(dir, &ledger, i, 0, 0.5 + 0.1 * (i == 1));
  pause(dir, &ledger, 3, 0, 0.9);
  EXPECT_EQ(advance_halving(dir, &ledger), (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(ledger.decision_size(), 1);
  EXPECT_EQ(ledger.decision(0).bracket(), "model.dropout=0");
  EXPECT_EQ(ledger.decision(0).configurations(), 3);
  EXPECT_EQ(ledger.trial(1).state(), pb::PLANNED);
  EXPECT_EQ(ledger.trial(0).state(), pb::PRUNED);
  EXPECT_EQ(ledger.trial(3).state(), pb::PAUSED);
  pause(dir, &ledger, 4, 0, 0.95);
  pause(dir, &ledger, 5, 0, 0.8);
  EXPECT_EQ(advance_halving(dir, &ledger), (std::vector<int>{3, 4, 5}));
  ASSERT_EQ(ledger.decision_size(), 2);
  EXPECT_EQ(ledger.decision(1).bracket(), "model.dropout=0.5");
  EXPECT_EQ(ledger.decision(1).rung(), 0);
  EXPECT_EQ(ledger.trial(4).state(), pb::PLANNED);
  EXPECT_EQ(ledger.trial(4).rung(), 1);
  EXPECT_EQ(ledger.trial(1).rung(), 1);
  // The plain bracket's second rung goes on without waiting for the other bracket.
  pause(dir, &ledger, 1, 1, 0.7);
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 3);
  EXPECT_EQ(ledger.decision(2).bracket(), "model.dropout=0");
  EXPECT_EQ(ledger.decision(2).rung(), 1);
  EXPECT_EQ(ledger.trial(1).rung(), 2);
}

// A ledger written before successive halving existed: no halving, rungs or decisions.
TEST(HalvingLedger, ALedgerOfAnEarlierVersionStillReads) {
  const std::string dir = fresh_dir("halving_old_ledger");
  write(dir + "/ledger.txt",
        "axis_field: \"optimizer.lr\"\nranks_per_trial: 1\nmax_ranks: 0\n"
        "trial {\n  id: \"0123456789ab\"\n  config_id: \"ba9876543210\"\n  replicate: 0\n"
        "  seed: 1\n  axis_value: \"0.1\"\n  state: DONE\n  attempts: 1\n  failures: 0\n"
        "  exit_codes: 0\n  wall_seconds: 1.5\n}\n");
  pb::SweepLedger ledger = read_ledger(dir);
  ASSERT_EQ(ledger.trial_size(), 1);
  EXPECT_FALSE(ledger.has_halving());
  EXPECT_EQ(ledger.trial(0).state(), pb::DONE);
  EXPECT_EQ(ledger.trial(0).rung(), 0);
  EXPECT_TRUE(advance_halving(dir, &ledger).empty());
  EXPECT_EQ(ledger.decision_size(), 0);
}

}  // namespace
}  // namespace mlp
