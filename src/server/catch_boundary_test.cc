#include "server/catch_boundary.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kiln::server {
namespace {

TEST(RunCatching, ReturnsTrueAndDoesNotFailWhenTheBodyReturns) {
  bool ran = false, failed = false;
  EXPECT_TRUE(RunCatching(
      "t", [&] { ran = true; }, [&](const std::string&) { failed = true; }));
  EXPECT_TRUE(ran);
  EXPECT_FALSE(failed);
}

TEST(RunCatching, AnExceptionFailsTheWorkWithTheReasonInsteadOfEndingTheProcess) {
  std::string reason;
  EXPECT_FALSE(RunCatching(
      "t", [] { throw std::runtime_error("[json.exception.type_error.302] boom"); },
      [&](const std::string& r) { reason = r; }));
  EXPECT_EQ(reason, "internal error: [json.exception.type_error.302] boom");
  EXPECT_FALSE(RunCatching(
      "t", [] { throw 42; }, [&](const std::string& r) { reason = r; }));
  EXPECT_EQ(reason, "internal error: an exception that is not a std::exception");
}

TEST(RunCatching, AFailureRecorderThatThrowsIsCaughtToo) {
  EXPECT_FALSE(RunCatching(
      "t", [] { throw std::logic_error("first"); },
      [](const std::string&) { throw std::runtime_error("second"); }));
  EXPECT_FALSE(RunCatching("t", [] { throw std::logic_error("no recorder"); }));
}

}  // namespace
}  // namespace kiln::server
