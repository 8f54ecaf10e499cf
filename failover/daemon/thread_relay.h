#pragma once
// Control requests cross from the control thread to the HA thread and their answers cross
// back, by posting: neither thread ever waits for the other.
//
//   control thread: ControlServer --request--> onHa(reply, work) --post--> HA thread: work(r)
//   control thread: reply(answer) <--post-- r(answer)  (r = relayed(reply), any thread)
#include <memory>
#include <utility>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/control_server.h"
#include "core/log.h"

namespace rmha::daemon {

class ThreadRelay {
public:
  /// `control` must outlive `ha` and everything that holds a relayed reply.
  ThreadRelay(boost::asio::io_context& control, boost::asio::io_context& ha)
      : control_(control), ha_(ha) {}

  /// A reply made on the control thread, callable from any thread: the answer is posted back.
  /// The original holds the client's session, which belongs to the control thread, so a reply
  /// dropped unanswered (a `wait` cut short by shutdown) is released on that thread too. A
  /// second call is ignored.
  core::ControlReply relayed(core::ControlReply reply) {
    auto held = std::make_shared<Held>(control_, std::move(reply));
    return [held](nlohmann::json answer) {
      boost::asio::post(held->io, [held, answer = std::move(answer)]() mutable {
        if (held->reply) {
          auto r = std::move(held->reply);
          held->reply = nullptr;
          r(std::move(answer));
        }
      });
    };
  }

  /// Runs `work(relayedReply)` on the HA thread. An exception it throws is answered and
  /// logged, never let out of the HA loop.
  template <typename Work>
  void onHa(core::ControlReply reply, Work work) {
    boost::asio::post(ha_, [reply = relayed(std::move(reply)), work = std::move(work)]() mutable {
      try {
        work(reply);
      } catch (const std::exception& e) {
        RMHA_LOG(Error, "control", "request failed on the HA thread: {}", e.what());
        reply({{"ok", false}, {"error", std::string("internal error: ") + e.what()}});
      }
    });
  }

private:
  struct Held {
    Held(boost::asio::io_context& i, core::ControlReply r) : io(i), reply(std::move(r)) {}
    Held(const Held&) = delete;
    Held& operator=(const Held&) = delete;
    ~Held() {
      if (reply) {
        boost::asio::post(io, [r = std::move(reply)] {});
      }
    }
    boost::asio::io_context& io;
    core::ControlReply reply;
  };

  boost::asio::io_context& control_;
  boost::asio::io_context& ha_;
};

} // namespace rmha::daemon
