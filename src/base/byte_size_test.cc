#include "base/byte_size.h"

#include <gtest/gtest.h>

namespace kiln::base {
namespace {

TEST(ByteSize, ParsesUnits) {
  EXPECT_EQ(ParseByteSize("0").value(), 0u);
  EXPECT_EQ(ParseByteSize("1500").value(), 1500u);
  EXPECT_EQ(ParseByteSize("25MiB").value(), 25u * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("25 mib").value(), 25u * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("2KB").value(), 2000u);
  EXPECT_EQ(ParseByteSize("3GiB").value(), 3ull * 1024 * 1024 * 1024);
  EXPECT_EQ(ParseByteSize("7B").value(), 7u);
}

TEST(ByteSize, RefusesWhatIsNotASize) {
  for (const char* bad : {"", "-1", "1.5MiB", "MiB", "12 parsecs", "1  MiB", "99999999999GiB",
                          "184467440737095516160"}) {
    auto r = ParseByteSize(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("size '"), std::string::npos) << bad;
    }
  }
}

TEST(ByteSize, FormatsTheShortestExactUnit) {
  EXPECT_EQ(FormatByteSize(25u * 1024 * 1024), "25 MiB");
  EXPECT_EQ(FormatByteSize(1024), "1 KiB");
  EXPECT_EQ(FormatByteSize(1500), "1500 B");
  EXPECT_EQ(FormatByteSize(1024ull * 1024 * 1024), "1 GiB");
}

}  // namespace
}  // namespace kiln::base
