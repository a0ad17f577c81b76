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

// A few bytes of config must not allocate gigabytes: layers and widths are bounded.
TEST(ParseHiddenSizes, LayerCountAndWidthAreBounded) {
  EXPECT_EQ(parse_hidden_sizes("65536").size(), 1u);
  std::string deep = "1";
  for (int i = 1; i < kMaxHiddenLayers; ++i) deep += ",1";
  EXPECT_EQ(parse_hidden_sizes(deep).size(), static_cast<size_t>(kMaxHiddenLayers));
  try {
    parse_hidden_sizes(deep + ",1");
    ADD_FAILURE() << "101 layers accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--hidden: more than 100 layers");
  }
  try {
    parse_hidden_sizes("8,65537");
    ADD_FAILURE() << "a layer of 65537 units accepted";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "--hidden: a layer of 65537 units; at most 65536 per layer");
  }
}

}  // namespace
}  // namespace mlp
