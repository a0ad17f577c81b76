// Early stopping: scripted metric sequences give the documented stop epoch and best epoch, and
// a restored state continues the count exactly.
#include "core/early_stopping.h"

#include <gtest/gtest.h>

#include <vector>

namespace mlp {
namespace {

struct Outcome {
  int stopped_epoch = 0;  // 0: ran all epochs
  int best_epoch = 0;
};

Outcome run(EarlyStopping& es, const std::vector<double>& values, int first_epoch = 1) {
  Outcome o;
  for (size_t i = 0; i < values.size(); ++i) {
    const int epoch = first_epoch + static_cast<int>(i);
    if (es.update(epoch, values[i]).stop) {
      o.stopped_epoch = epoch;
      break;
    }
  }
  o.best_epoch = es.state().best_epoch;
  return o;
}

TEST(EarlyStopping, StopsAfterPatienceEpochsWithoutImprovementOfALoss) {
  EarlyStopping es(/*patience=*/2, /*min_delta=*/0, /*maximize=*/false, /*start_from_epoch=*/0);
  const Outcome o = run(es, {0.9, 0.7, 0.6, 0.65, 0.61, 0.5, 0.4});
  EXPECT_EQ(o.best_epoch, 3);
  EXPECT_EQ(o.stopped_epoch, 5);
}

TEST(EarlyStopping, AnImprovementMustExceedMinDelta) {
  EarlyStopping es(2, 0.01, /*maximize=*/true, 0);
  // 0.805 and 0.81 do not beat 0.80 by more than 0.01; 0.811 would, but comes too late.
  const Outcome o = run(es, {0.70, 0.80, 0.805, 0.81, 0.811});
  EXPECT_EQ(o.best_epoch, 2);
  EXPECT_EQ(o.stopped_epoch, 4);
}

TEST(EarlyStopping, EpochsBeforeStartAreIgnored) {
  EarlyStopping es(1, 0, false, /*start_from_epoch=*/3);
  const Outcome o = run(es, {0.1, 0.2, 0.9, 0.8, 0.85});
  EXPECT_EQ(o.best_epoch, 4);
  EXPECT_EQ(o.stopped_epoch, 5);
}

TEST(EarlyStopping, PatienceZeroNeverStopsButTracksTheBest) {
  EarlyStopping es(0, 0, true, 0);
  EXPECT_FALSE(es.enabled());
  const Outcome o = run(es, {0.5, 0.7, 0.6, 0.6, 0.6, 0.6});
  EXPECT_EQ(o.stopped_epoch, 0);
  EXPECT_EQ(o.best_epoch, 2);
}

TEST(EarlyStopping, RestoredStateContinuesTheCountAcrossAResume) {
  const std::vector<double> values = {0.5, 0.4, 0.45, 0.46, 0.47, 0.3};
  EarlyStopping straight(3, 0, false, 0);
  const Outcome expected = run(straight, values);
  ASSERT_EQ(expected.stopped_epoch, 5);

  EarlyStopping first(3, 0, false, 0);
  run(first, {values[0], values[1], values[2]});  // interrupted inside the patience window
  EXPECT_EQ(first.state().wait, 1);
  EarlyStopping resumed(3, 0, false, 0);
  resumed.restore(first.state());
  const Outcome o = run(resumed, {values[3], values[4], values[5]}, /*first_epoch=*/4);
  EXPECT_EQ(o.stopped_epoch, expected.stopped_epoch);
  EXPECT_EQ(o.best_epoch, expected.best_epoch);
}

}  // namespace
}  // namespace mlp
