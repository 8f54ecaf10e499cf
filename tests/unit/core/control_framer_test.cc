// Request framing: lines out of a byte stream, bounded in size.
#include <gtest/gtest.h>

#include "core/control_framer.h"

namespace rmha::core {
namespace {

TEST(ControlFramer, SplitsLinesAcrossChunksAndStripsCr) {
  ControlFramer f(64);
  std::string line;
  EXPECT_TRUE(f.append("{\"cmd\":"));
  EXPECT_EQ(f.next(line), ControlFramer::Next::NeedMore);
  EXPECT_TRUE(f.partial());
  EXPECT_TRUE(f.append("1}\r\nsecond\nthi"));
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "{\"cmd\":1}");
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "second");
  EXPECT_EQ(f.next(line), ControlFramer::Next::NeedMore);
  EXPECT_EQ(f.buffered(), 3u);
}

TEST(ControlFramer, EmptyLineIsALine) {
  ControlFramer f(8);
  std::string line = "x";
  EXPECT_TRUE(f.append("\n"));
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "");
  EXPECT_FALSE(f.partial());
}

TEST(ControlFramer, MoreThanTheLimitBufferedIsTooLongForGood) {
  ControlFramer f(8);
  std::string line;
  EXPECT_TRUE(f.append("1234567\n")); // exactly 8 bytes with its newline
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_TRUE(f.append("12345678"));
  EXPECT_FALSE(f.append("9"));
  EXPECT_EQ(f.next(line), ControlFramer::Next::TooLong);
  EXPECT_FALSE(f.append("\n"));
  EXPECT_EQ(f.next(line), ControlFramer::Next::TooLong);
}

} // namespace
} // namespace rmha::core
