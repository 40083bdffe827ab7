#include "server/log_text.h"

#include <gtest/gtest.h>

#include "server/log_tail.h"

namespace kiln::server {
namespace {

std::string Tail(std::string_view window, bool at_start, std::optional<size_t> lines) {
  return std::string(window.substr(TailStart(window, at_start, lines)));
}

TEST(LogText, TailStartCountsWholeLinesFromTheEnd) {
  EXPECT_EQ(Tail("a\nb\nc\n", true, 1), "c\n");
  EXPECT_EQ(Tail("a\nb\nc\n", true, 2), "b\nc\n");
  EXPECT_EQ(Tail("a\nb\nc\n", true, 3), "a\nb\nc\n");
  EXPECT_EQ(Tail("a\nb\nc\n", true, 99), "a\nb\nc\n");
  EXPECT_EQ(Tail("a\nb\nc", true, 1), "c");  // a last line still being written counts
  EXPECT_EQ(Tail("a\nb\nc\n", true, 0), "");
  EXPECT_EQ(Tail("a\nb\nc\n", true, std::nullopt), "a\nb\nc\n");
  EXPECT_EQ(Tail("", true, 5), "");
  EXPECT_EQ(Tail("\n\n", true, 1), "\n");
}

TEST(LogText, AWindowCutFromTheFileLeavesItsFirstPartialLineOut) {
  EXPECT_EQ(Tail("ut line\nb\nc\n", false, std::nullopt), "b\nc\n");
  EXPECT_EQ(Tail("ut line\nb\nc\n", false, 5), "b\nc\n");
  EXPECT_EQ(Tail("ut line\nb\nc\n", false, 1), "c\n");
  EXPECT_EQ(Tail("no newline at all", false, 3), "");
}

TEST(LogText, PrefixedLines) {
  std::string out;
  AppendPrefixedLines(&out, "one\r\ntwo\n\nlast", "0123456789ab | ");
  EXPECT_EQ(out, "0123456789ab | one\n0123456789ab | two\n0123456789ab | \n0123456789ab | last\n");
  EXPECT_EQ(TaskLinePrefix("0123456789abcdef0123456789abcdef"), "0123456789ab | ");
}

TEST(LogText, LogEventsCarryThePrefixAndNoCarriageReturn) {
  EXPECT_EQ(FormatLogEvent("a\nb", "42"), "id: 42\ndata: a\ndata: b\n\n");
  EXPECT_EQ(FormatLogEvent("x\revent: end", "", "t | "), "data: t | xevent: end\n\n");
  EXPECT_EQ(FormatLogEvent("", ""), "data: \n\n");
}

}  // namespace
}  // namespace kiln::server
