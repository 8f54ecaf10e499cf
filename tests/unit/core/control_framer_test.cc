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

// A slow client (a byte per read) or one that queues many short lines must cost linear work:
// the framer used to search the whole buffer again on every read and move the rest of it on
// every line, 2 G byte visits for one 64 KiB request sent a byte at a time.
TEST(ControlFramer, ByteAtATimeAndManyLinesCostLinearWork) {
  ControlFramer f(kMaxControlRequest);
  std::string line;
  const std::size_t n = kMaxControlRequest - 1;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_TRUE(f.append("x"));
    ASSERT_EQ(f.next(line), ControlFramer::Next::NeedMore);
  }
  ASSERT_TRUE(f.append("\n"));
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line.size(), n);
  EXPECT_FALSE(f.partial());
  EXPECT_LE(f.examined(), 2 * (n + 1));

  ControlFramer g(kMaxControlRequest);
  std::string many;
  for (int i = 0; i < 20000; ++i) {
    many += "a\n";
  }
  ASSERT_TRUE(g.append(many));
  int lines = 0;
  while (g.next(line) == ControlFramer::Next::Line) {
    ASSERT_EQ(line, "a");
    ++lines;
  }
  EXPECT_EQ(lines, 20000);
  EXPECT_LE(g.examined(), 2 * many.size());
}

TEST(ControlFramer, LinesStayWholeAcrossCompaction) {
  ControlFramer f(16);
  std::string line;
  ASSERT_TRUE(f.append("ab\ncdefgh"));
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "ab");
  EXPECT_EQ(f.next(line), ControlFramer::Next::NeedMore);
  ASSERT_TRUE(f.append("ij\r\n")); // the handed-out "ab\n" is dropped here
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "cdefghij");
  EXPECT_EQ(f.buffered(), 0u);
  ASSERT_TRUE(f.append("\r\n")); // a CR alone on its line is stripped, never the byte before
  ASSERT_EQ(f.next(line), ControlFramer::Next::Line);
  EXPECT_EQ(line, "");
}

} // namespace
} // namespace rmha::core
