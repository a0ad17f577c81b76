// The ledger as read back: trial ids, which name the trials' folders, must be the 12
// hexadecimal digits `sweep plan` writes; anything else is refused before a path is built.
#include "launch/sweep/ledger.h"

#include <gtest/gtest.h>

#include <string>

#include "core/errors.h"
#include "tests/launch/sweep/test_support.h"

namespace mlp {
namespace {

using sweep_test::fresh_dir;
using sweep_test::write;

std::string ledger_with(const std::string& id, const std::string& config_id) {
  return "axis_field: \"optimizer.lr\"\nranks_per_trial: 1\n"
         "trial {\n  id: \"" +
         id + "\"\n  config_id: \"" + config_id +
         "\"\n  replicate: 0\n  seed: 1\n  axis_value: \"0.1\"\n  state: PLANNED\n}\n";
}

TEST(SweepLedger, TrialIdsMustBeThoseSweepPlanWrites) {
  const std::string dir = fresh_dir("ledger_ids");
  write(dir + "/ledger.txt", ledger_with("0123456789ab", "ba9876543210"));
  EXPECT_EQ(read_ledger(dir).trial(0).id(), "0123456789ab");

  const auto refused = [&](const std::string& id, const std::string& config_id) {
    write(dir + "/ledger.txt", ledger_with(id, config_id));
    try {
      read_ledger(dir);
      ADD_FAILURE() << "accepted trial " << id << " of configuration " << config_id;
      return std::string();
    } catch (const UsageError& e) {
      return std::string(e.what());
    }
  };
  EXPECT_EQ(refused("../../etc", "ba9876543210"),
            dir +
                "/ledger.txt: trial \"../../etc\" (configuration \"ba9876543210\") is not named "
                "as `sweep plan` names trials");
  EXPECT_EQ(refused("0123456789a\\nb", "ba9876543210"),
            dir +
                "/ledger.txt: trial \"0123456789a\\nb\" (configuration \"ba9876543210\") is not "
                "named as `sweep plan` names trials");
  EXPECT_NE(refused("0123456789AB", "ba9876543210"), "");
  EXPECT_NE(refused("0123456789ab", "ba987654321"), "");
}

}  // namespace
}  // namespace mlp
