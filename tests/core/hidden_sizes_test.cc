// Hidden-layer widths: the accepted form and the one-line refusal of anything else.
#include "core/hidden_sizes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/errors.h"

namespace mlp {
namespace {

TEST(ParseHiddenSizes, AcceptsCommaSeparatedPositiveIntegers) {
  EXPECT_EQ(parse_hidden_sizes("256,128"), (std::vector<int>{256, 128}));
  EXPECT_EQ(parse_hidden_sizes("7"), (std::vector<int>{7}));
  EXPECT_EQ(parse_hidden_sizes(""), (std::vector<int>{}));
}

TEST(ParseHiddenSizes, RejectsAnythingElseNamingTheFlag) {
  for (const char* text : {"12,x", "0", "-3", "1,,2", ",", "4,", " 4", "1.5", "99999999999"}) {
    try {
      parse_hidden_sizes(text);
      ADD_FAILURE() << "accepted \"" << text << "\"";
    } catch (const UsageError& e) {
      EXPECT_EQ(std::string(e.what()),
                "--hidden: \"" + std::string(text) + "\" is not a list of positive integers");
    }
  }
}

}  // namespace
}  // namespace mlp
