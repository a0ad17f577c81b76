// Quoting input in error lines: short input whole, long input by its start and length, control
// characters escaped so that the line stays one line; shown plainly where quoting changes nothing;
// another program's message as one line of bounded length.
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

TEST(ShowInput, PlainWhenQuotingWouldOnlyAddQuotes) {
  EXPECT_EQ(show_input("16,12"), "16,12");
  EXPECT_EQ(show_input(std::string(60, 'x')), std::string(60, 'x'));
  EXPECT_EQ(show_input(std::string(61, 'x')), quote_input(std::string(61, 'x')));
  EXPECT_EQ(show_input("6\n5"), "\"6\\n5\"");
}

TEST(OneLine, ControlCharactersEscapedLongMessagesCut) {
  EXPECT_EQ(one_line("mpirun was unable to launch"), "mpirun was unable to launch");
  EXPECT_EQ(one_line("got: \"a\x1b[2Jb\"\r"), "got: \"a\\x1b[2Jb\"\\x0d");
  EXPECT_EQ(one_line(std::string(501, 'x')), std::string(500, 'x') + "...");
  EXPECT_EQ(one_line(std::string(500, 'x')), std::string(500, 'x'));
  EXPECT_EQ(one_line("abcdef", 3), "abc...");
}

}  // namespace
}  // namespace mlp
