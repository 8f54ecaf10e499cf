#include <utility>

#include <boost/asio/post.hpp>

#include "winnlb/command_runner.h"

namespace rmha::winnlb {

CommandWorker::CommandWorker(BlockingCommandRunner& runner, boost::asio::any_io_executor owner)
    : runner_(runner),
      owner_(std::move(owner)),
      work_(boost::asio::make_work_guard(worker_)),
      thread_([this] { worker_.run(); }) {}

CommandWorker::~CommandWorker() {
  *alive_ = false;
  work_.reset();
  worker_.stop();  // the command under way finishes; the queued ones never start
  if (thread_.joinable()) {
    thread_.join();
  }
}

void CommandWorker::start(const Command& cmd, CommandDone done) {
  // The result travels back by post: the owner's thread only ever touches `done` and
  // `alive_`, and only on its own executor; the worker only touches `runner_`.
  boost::asio::post(worker_, [this, cmd, done = std::move(done), alive = alive_]() mutable {
    auto result = runner_.run(cmd);
    boost::asio::post(owner_, [done = std::move(done), alive = std::move(alive),
                               result = std::move(result)]() mutable {
      if (*alive) {
        done(std::move(result));
      }
    });
  });
}

} // namespace rmha::winnlb
