// The report of a successive-halving sweep from hand-written results, in two brackets: each
// rung's promotions and the next undecided rung per bracket, rungs.csv with its bracket column,
// the rung columns of trials.csv, the epochs trained against the full grid's, and the best
// configuration of each bracket chosen among its finalists even when a pruned configuration
// reported a better validation accuracy.
#include "launch/sweep/halving_report.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>

#include "launch/sweep/halving.h"
#include "launch/sweep/ledger.h"
#include "launch/sweep/plan.h"
#include "launch/sweep/report.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::slurp;
using sweep_test::write;

// metrics.csv of `epochs` epochs, each with validation accuracy `value`.
void write_metrics(const std::string& folder, int epochs, double value) {
  std::string csv = "epoch,train_loss,train_acc,val_loss,val_acc\n";
  for (int e = 1; e <= epochs; ++e)
    csv += std::to_string(e) + ",0.5,0.8,0.6," + std::to_string(value) + "\n";
  write(folder + "/metrics.csv", csv);
}

std::string report(const std::string& dir) {
  const std::string path = dir + "/printed.txt";
  std::FILE* printed = std::fopen(path.c_str(), "w");
  write_sweep_report(dir, ReportOptions{}, printed);
  std::fclose(printed);
  return slurp(path);
}

TEST(HalvingReport, RungsEpochsAndTheBestOfEachBracketAmongItsFinalists) {
  const std::string dir = fresh_dir("halving_report");
  write(dir + "/spec.txt",
        "base { epochs: 9 data { val_fraction: 0.2 } }\n"
        "axis { field: \"model.dropout\" values: [\"0\", \"0.5\"] }\n"
        "axis { field: \"optimizer.lr\" values: [\"0.1\", \"0.2\", \"0.3\"] }\n"
        "successive_halving { reduction_factor: 3 bracket_by: \"model.dropout\" }\n");
  pb::SweepLedger ledger = write_sweep_plan(read_sweep_spec(dir + "/spec.txt"), dir);
  ASSERT_EQ(ledger.trial_size(), 6);
  // First rung (1 epoch): lr 0.2 best in the plain bracket, lr 0.3 in the dropout bracket.
  const double first[] = {0.5, 0.7, 0.6, 0.4, 0.5, 0.8};
  for (int i = 0; i < 6; ++i) {
    ledger.mutable_trial(i)->set_state(pb::PAUSED);
    write_metrics(trial_dir(dir, ledger.trial(i).id()), 1, first[i]);
  }
  advance_halving(dir, &ledger);
  ASSERT_EQ(ledger.decision_size(), 2);
  // The plain bracket's finalist runs its second rung and then the full budget; the dropout
  // bracket's is still at its second rung. A pruned trial reported 0.99 at its last epoch.
  const pb::TrialRecord& finalist = ledger.trial(1);
  ledger.mutable_trial(1)->set_state(pb::PAUSED);
  write_metrics(trial_dir(dir, finalist.id()), 3, 0.75);
  advance_halving(dir, &ledger);
  ledger.mutable_trial(1)->set_state(pb::DONE);
  write_metrics(trial_dir(dir, finalist.id()), 9, 0.85);
  write(trial_dir(dir, finalist.id()) + "/summary.json",
        "{\"kept_epoch\": {\"epoch\": 9, \"val_acc\": 0.85}, \"test_acc\": 0.8}\n");
  write_metrics(trial_dir(dir, ledger.trial(0).id()), 1, 0.99);
  write_ledger(dir, ledger);

  const std::string printed = report(dir);
  EXPECT_NE(printed.find("successive halving, reduction factor 3, rungs of 1, 3 and 9 epochs, by "
                         "mean val_acc, each bracket on its own:\n"
                         "  rung 1 (1 epoch) of model.dropout=0: 3 configurations, 1 promoted: "
                         "model.dropout=0, optimizer.lr=0.2 (0.7)\n"
                         "  rung 1 (1 epoch) of model.dropout=0.5: 3 configurations, 1 promoted: "
                         "model.dropout=0.5, optimizer.lr=0.3 (0.8)\n"
                         "  rung 2 (3 epochs) of model.dropout=0: 1 configuration, 1 promoted: "
                         "model.dropout=0, optimizer.lr=0.2 (0.75)\n"
                         "  rung 2 (3 epochs) of model.dropout=0.5: not decided yet\n"),
            std::string::npos)
      << printed;
  // 1 + 1 + 1 + 1 + 1 + 1 epochs at the first rung, then the finalist's 8 more: 14 of 6 x 9.
  EXPECT_NE(printed.find("epochs trained: 14 of the full grid's 54 (6 trials x 9 epochs), 25.9%"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("best configuration of model.dropout=0 by mean val_acc over its seeds (1 "
                         "of 1 done), among those successive halving ran to the full budget: "
                         "model.dropout=0, optimizer.lr=0.2\n  val_acc 0.85 (one seed)"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("no configuration of model.dropout=0.5 has a validation result yet"),
            std::string::npos)
      << printed;

  const std::string rungs = slurp(dir + "/rungs.csv");
  EXPECT_EQ(rungs.rfind("bracket,rung,rung_epochs,rank,config_id,model.dropout,optimizer.lr,value,"
                        "outcome\nmodel.dropout=0,1,1,1," +
                            ledger.trial(1).config_id() + ",0,0.2,0.7,promoted\n",
                        0),
            0u)
      << rungs;
  const std::string trials = slurp(dir + "/trials.csv");
  EXPECT_NE(trials.find(ledger.trial(0).id() + "," + ledger.trial(0).config_id() +
                        ",0,0.1,1,pruned,1,1,1,"),
            std::string::npos)
      << trials;
  EXPECT_NE(trials.find(",done,3,9,9,"), std::string::npos) << trials;
  EXPECT_NE(trials.find(",planned,2,3,1,"), std::string::npos) << trials;
}

}  // namespace
}  // namespace mlp
