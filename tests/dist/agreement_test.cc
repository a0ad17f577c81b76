// Cross-rank agreement on a failure, on one rank: the error travels in a fixed-size record, so a
// line longer than it keeps its start (where) and its end (the reason and what would fix it).
#include "dist/agreement.h"

#include <gtest/gtest.h>

#include <string>

#include "dist/communicator.h"

namespace mlp {
namespace {

TEST(Agreement, AnOverLongErrorLineKeepsItsStartAndItsEnd) {
  const std::unique_ptr<Communicator> comm = make_local_communicator();
  const std::string line = "data.csv:1:2: " + std::string(5000, 'x') + " is not a number";
  const DataError error(line);
  try {
    raise_if_any_rank_failed(*comm, &error);
    ADD_FAILURE() << "no error raised";
  } catch (const AgreedError& e) {
    const std::string what = e.what();
    EXPECT_EQ(e.code(), ExitCode::kData);
    EXPECT_LE(what.size(), 1019u);
    EXPECT_EQ(what.rfind("data.csv:1:2: xxx", 0), 0u);
    EXPECT_NE(what.find("xxx ... xxx"), std::string::npos);
    EXPECT_EQ(what.substr(what.size() - 19), "xxx is not a number");
  }
  const DataError short_error("data.csv:3:1: \"abc\" is not a number");
  try {
    raise_if_any_rank_failed(*comm, &short_error);
  } catch (const AgreedError& e) {
    EXPECT_STREQ(e.what(), "data.csv:3:1: \"abc\" is not a number");
  }
}

}  // namespace
}  // namespace mlp
