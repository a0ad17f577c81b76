// Quoting input in error lines: short input whole, long input by its start and length, control
// characters escaped so that the line stays one line.
#include "core/errors.h"

#include <gtest/gtest.h>

#include <string>

namespace mlp {
namespace {

TEST(QuoteInput, ShortWholeLongCutControlCharactersEscaped) {
  EXPECT_EQ(quote_input("abc"), "\"abc\"");
  EXPECT_EQ(quote_input(""), "\"\"");
  EXPECT_EQ(quote_input(std::string(60, 'x')), "\"" + std::string(60, 'x') + "\"");
  EXPECT_EQ(quote_input(std::string(100000, 'x')),
            "\"" + std::string(60, 'x') + "...\" (100000 characters)");
  EXPECT_EQ(quote_input(std::string("a\nb\tc\x7f", 6)), "\"a\\nb\\x09c\\x7f\"");
}

}  // namespace
}  // namespace mlp
