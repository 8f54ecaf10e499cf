// The control socket: mode 0660, one JSON answer per request line, clear errors for bad input.
#include <gtest/gtest.h>

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cstring>
#include <thread>

#include "core/control_server.h"

namespace rmha::core {
namespace {

class ControlServerTest : public ::testing::Test {
protected:
  void SetUp() override {
    char tmpl[] = "/tmp/rmha-ctl-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    path_ = dir_ + "/ctl.sock";
    server_ = std::make_unique<ControlServer>(io_, path_, [](const nlohmann::json& req,
                                                             ControlReply reply) {
      reply({{"ok", true}, {"echo", req.at("cmd")}});
    });
    std::string what;
    ASSERT_FALSE(server_->start(what)) << what;
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    io_.stop();
    thread_.join();
    server_.reset();
    ::rmdir(dir_.c_str());
  }

  // Sends raw bytes, returns the first answer line ("" if the server closed first).
  std::string ask(const std::string& raw) {
    const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::strcpy(a.sun_path, path_.c_str());
    EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    (void)!::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL);
    std::string out;
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n') {
      out += c;
    }
    ::close(fd);
    return out;
  }

  boost::asio::io_context io_;
  std::string dir_;
  std::string path_;
  std::unique_ptr<ControlServer> server_;
  std::thread thread_;
};

TEST_F(ControlServerTest, SocketIsGroupWritableOnly) {
  struct stat st {};
  ASSERT_EQ(::stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0660u);
}

TEST_F(ControlServerTest, AnswersAValidRequest) {
  const auto j = nlohmann::json::parse(ask("{\"cmd\":\"status\"}\n"));
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["echo"], "status");
}

TEST_F(ControlServerTest, BadRequestsGetClearErrors) {
  for (const std::string& bad : std::vector<std::string>{"not json\n", "[1,2]\n", "{\"cmd\":5}\n", "{}\n", "\n",
                                std::string("{\"cmd\":\"\xff\xfe\"}\n")}) {
    SCOPED_TRACE(bad);
    const auto line = ask(bad);
    const auto j = nlohmann::json::parse(line, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << line;
    if (j.value("ok", false)) {
      continue; // the invalid-UTF-8 string is echoed with replacement characters
    }
    EXPECT_FALSE(j.value("error", "").empty());
  }
}

TEST_F(ControlServerTest, OversizedRequestIsRefusedAndClosed) {
  const auto j = nlohmann::json::parse(ask(std::string(100 * 1024, 'x')));
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_NE(j["error"].get<std::string>().find("64 KiB"), std::string::npos);
}

TEST_F(ControlServerTest, ServesManyRequestsOnOneConnection) {
  EXPECT_NE(ask("{\"cmd\":\"a\"}\n{\"cmd\":\"b\"}\n").find("\"a\""), std::string::npos);
}

} // namespace
} // namespace rmha::core
