// Epoch sums: a resumed epoch starts from the checkpoint's sums on rank 0 only (they are over
// all ranks already); steps.csv gets the mean loss of the steps since its last row.
#include "launch/train/epoch_tally.h"

#include <gtest/gtest.h>

#include <memory>
#include <sstream>
#include <string>

#include "tests/launch/process_run.h"

namespace mlp {
namespace {

TEST(EpochTally, AResumedEpochCountsTheStepsBeforeTheCheckpointOnce) {
  RunState state;
  state.step_in_epoch = 3;
  state.partial.set_loss(6);
  state.partial.set_correct(2);
  state.partial.set_count(12);
  state.partial.set_seconds(100);
  EpochTally root(state, true), other(state, false);
  EXPECT_EQ(root.sums().count, 12);
  EXPECT_EQ(other.sums().count, 0);
  EXPECT_GE(other.seconds(), 100);
  root.add({1, 1, 4});
  EXPECT_EQ(root.sums().loss, 7);
  EXPECT_EQ(root.sums().count, 16);
}

TEST(EpochTally, AFreshEpochIgnoresTheSavedSums) {
  RunState state;
  state.partial.set_count(12);
  state.partial.set_seconds(100);
  const EpochTally tally(state, true);
  EXPECT_EQ(tally.sums().count, 0);
  EXPECT_LT(tally.seconds(), 100);
}

TEST(StepLog, ARowEveryNStepsWithTheMeanLossSinceTheLast) {
  const std::string dir = test::fresh_test_dir("epoch_tally");
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  {
    RunOutput output(dir, true);
    output.start({}, false, true);
    StepLog log(2, &output);
    RunState state;
    for (double loss : {1.0, 3.0, 5.0, 7.0, 9.0}) {
      ++state.global_step;
      state.last_learning_rate = 0.5;
      log.after_step({loss * 4, 0, 4}, state, *comm);
    }
  }
  std::stringstream rows(test::slurp(dir + "/steps.csv"));
  std::string header, first, second, third;
  std::getline(rows, header);
  std::getline(rows, first);
  std::getline(rows, second);
  EXPECT_EQ(first.substr(0, first.rfind(',')), "2,1,2,0.5");
  EXPECT_EQ(second.substr(0, second.rfind(',')), "4,1,6,0.5");
  EXPECT_FALSE(std::getline(rows, third));
}

}  // namespace
}  // namespace mlp
