// The CommandWorker against a real io_context: start() returns while the command runs on the
// worker's thread, results come back on the owner's thread in the order started, and a
// worker destroyed with commands queued delivers nothing more.
#include "winnlb/command_runner.h"

#include <chrono>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gtest/gtest.h>

#include "tests/unit/winnlb/fake_nlb_node.h"

namespace rmha::winnlb {
namespace {

using namespace std::chrono_literals;

Command commandFor(NlbVerb verb) {
  Command c;
  c.control = NlbControl::PowerShell;
  c.verb = verb;
  return c;
}

// A blocking runner whose first command does not end until the test lets it.
class GatedRunner final : public BlockingCommandRunner {
public:
  std::promise<void> gate;
  std::thread::id ranOn;
  CommandResult run(const Command& cmd) override {
    ranOn = std::this_thread::get_id();
    if (first_) {
      first_ = false;
      gate.get_future().wait();
    }
    return node.run(cmd);
  }
  test::FakeNlbNode node;

private:
  bool first_ = true;
};

// Runs the io_context until `done()` holds, at most 10 s.
template <class Pred>
bool runUntil(boost::asio::io_context& io, Pred done) {
  const auto end = std::chrono::steady_clock::now() + 10s;
  while (!done() && std::chrono::steady_clock::now() < end) {
    io.run_for(10ms);
    io.restart();
  }
  return done();
}

TEST(CommandWorker, StartReturnsWhileTheCommandRunsAndResultsComeBackInOrder) {
  boost::asio::io_context io;
  GatedRunner runner;
  runner.node.state = NlbNodeState::Converged;
  std::vector<std::string> seen;
  std::thread::id deliveredOn;
  {
    CommandWorker worker(runner, io.get_executor());
    worker.start(commandFor(NlbVerb::Query), [&](CommandResult r) {
      deliveredOn = std::this_thread::get_id();
      seen.push_back("query exit " + std::to_string(r.exitCode));
    });
    worker.start(commandFor(NlbVerb::Stop), [&](CommandResult r) {
      seen.push_back("stop exit " + std::to_string(r.exitCode));
    });
    // Both start() calls returned although the first command is still blocked.
    EXPECT_TRUE(seen.empty());
    runner.gate.set_value();
    ASSERT_TRUE(runUntil(io, [&] { return seen.size() == 2; }));
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"query exit 0", "stop exit 0"}));
  EXPECT_EQ(deliveredOn, std::this_thread::get_id());  // the owner's thread
  EXPECT_NE(runner.ranOn, std::this_thread::get_id());  // not the owner's thread
  EXPECT_EQ(runner.node.log, (std::vector<std::string>{"powershell:query", "powershell:stop"}));
}

TEST(CommandWorker, DestroyedWithCommandsQueuedDeliversNothingMore) {
  boost::asio::io_context io;
  GatedRunner runner;
  int delivered = 0;
  {
    CommandWorker worker(runner, io.get_executor());
    worker.start(commandFor(NlbVerb::Query), [&](CommandResult) { ++delivered; });
    worker.start(commandFor(NlbVerb::Start), [&](CommandResult) { ++delivered; });
    runner.gate.set_value();  // what finishes during the destruction is not delivered
  }
  io.run();
  EXPECT_EQ(delivered, 0);
}

} // namespace
} // namespace rmha::winnlb
