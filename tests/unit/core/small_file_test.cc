// readSmallFile: what a path names is judged before anything is read, and nothing blocks.
#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>

#include "core/small_file.h"

namespace rmha::core {
namespace {

class SmallFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmha-small-file-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const char* name) const { return dir_ + "/" + name; }
  std::string write(const char* name, const std::string& content) const {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }

  std::string dir_;
};

TEST_F(SmallFileTest, ReadsARegularFileWithItsMode) {
  const auto p = write("key", "0123456789abcdef\n");
  ::chmod(p.c_str(), 0600);
  std::string why;
  const auto f = readSmallFile(p, 4096, why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->content, "0123456789abcdef\n");
  EXPECT_EQ(f->mode, 0600u);
}

TEST_F(SmallFileTest, RefusesADirectory) {
  std::string why;
  EXPECT_FALSE(readSmallFile(dir_, 4096, why));
  EXPECT_EQ(why, "is a directory, not a regular file");
}

TEST_F(SmallFileTest, RefusesAFifoWithoutWaitingForAWriter) {
  const auto p = path("fifo");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  auto done = std::async(std::launch::async, [&] {
    std::string why;
    const bool read = readSmallFile(p, 4096, why).has_value();
    return std::make_pair(read, why);
  });
  // Bounded: a reader that blocked on the FIFO would miss this deadline by far.
  if (done.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    // Unblock it (a writer appears, then goes) so the test fails instead of hanging.
    const int w = ::open(p.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0) {
      ::close(w);
    }
    FAIL() << "readSmallFile blocked on a FIFO";
  }
  const auto [read, why] = done.get();
  EXPECT_FALSE(read);
  EXPECT_EQ(why, "is a FIFO, not a regular file");
}

TEST_F(SmallFileTest, RefusesADevice) {
  std::string why;
  EXPECT_FALSE(readSmallFile("/dev/zero", 4096, why));
  EXPECT_EQ(why, "is a character device, not a regular file");
}

TEST_F(SmallFileTest, RefusesAFileLargerThanTheBoundBeforeReadingIt) {
  // Sparse: 300 MB on paper, nothing on disk; reading it whole would take 300 MB of memory.
  const auto p = write("big", "");
  ASSERT_EQ(::truncate(p.c_str(), 300'000'000), 0);
  std::string why;
  EXPECT_FALSE(readSmallFile(p, 4096, why));
  EXPECT_EQ(why, "is 300000000 bytes, more than the 4096 allowed");
}

TEST_F(SmallFileTest, TheBoundItselfIsAllowed) {
  const auto p = write("exact", std::string(16, 'k'));
  std::string why;
  const auto f = readSmallFile(p, 16, why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->content.size(), 16u);
  EXPECT_FALSE(readSmallFile(write("over", std::string(17, 'k')), 16, why));
}

TEST_F(SmallFileTest, FollowsASymlinkAndJudgesItsTarget) {
  const auto target = write("target", "secret-secret-secret");
  ::chmod(target.c_str(), 0644);
  const auto link = path("link");
  ASSERT_EQ(::symlink(target.c_str(), link.c_str()), 0);
  std::string why;
  const auto f = readSmallFile(link, 4096, why);
  ASSERT_TRUE(f) << why;
  EXPECT_EQ(f->mode, 0644u); // the target's mode, not the link's 0777
  ASSERT_EQ(::symlink(dir_.c_str(), path("dirlink").c_str()), 0);
  EXPECT_FALSE(readSmallFile(path("dirlink"), 4096, why));
  EXPECT_EQ(why, "is a directory, not a regular file");
}

TEST_F(SmallFileTest, AMissingFileSaysWhy) {
  std::string why;
  EXPECT_FALSE(readSmallFile(path("absent"), 4096, why));
  EXPECT_EQ(why, "cannot be opened (No such file or directory)");
}

} // namespace
} // namespace rmha::core
