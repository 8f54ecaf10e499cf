// ThreadRelay: a control request's work runs on the HA loop, its answer on the control loop,
// and nothing of the control loop's (the client's session in the reply) is touched elsewhere.
// The two loops are polled by hand, so "runs on" is "runs inside that loop's poll()".
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "failover/daemon/thread_relay.h"

namespace rmha::daemon {
namespace {

using nlohmann::json;

struct Loops {
  boost::asio::io_context control;
  boost::asio::io_context ha;
  ThreadRelay relay{control, ha};
  bool inControl = false;

  void pollControl() {
    inControl = true;
    control.restart();
    control.poll();
    inControl = false;
  }
  void pollHa() {
    ha.restart();
    ha.poll();
  }
};

TEST(ThreadRelay, WorkRunsOnTheHaLoopAndTheAnswerOnTheControlLoop) {
  Loops l;
  bool worked = false;
  std::string answered;
  bool answeredInControl = false;
  l.relay.onHa([&](json j) { answered = j.value("role", ""); answeredInControl = l.inControl; },
               [&](const core::ControlReply& done) {
                 worked = true;
                 done({{"ok", true}, {"role", "active"}});
               });
  l.pollControl();
  EXPECT_FALSE(worked) << "the work ran before the HA loop did";
  l.pollHa();
  EXPECT_TRUE(worked);
  EXPECT_EQ(answered, "") << "the answer ran on the HA loop";
  l.pollControl();
  EXPECT_EQ(answered, "active");
  EXPECT_TRUE(answeredInControl);
}

TEST(ThreadRelay, ASecondAnswerIsIgnored) {
  Loops l;
  int answers = 0;
  l.relay.onHa([&](const json&) { ++answers; }, [&](const core::ControlReply& done) {
    done({{"ok", true}});
    done({{"ok", false}});
  });
  l.pollHa();
  l.pollControl();
  EXPECT_EQ(answers, 1);
}

// The HA side may drop a reply without answering it (a `wait` cut short by shutdown); what the
// reply holds (for rmhad, the client's session) is then released on the control loop.
TEST(ThreadRelay, AReplyDroppedUnansweredIsReleasedOnTheControlLoop) {
  Loops l;
  struct Tracer {
    Loops* l;
    bool* released;
    bool* releasedInControl;
    Tracer(Loops* a, bool* b, bool* c) : l(a), released(b), releasedInControl(c) {}
    Tracer(const Tracer& o) = default;
    ~Tracer() {
      if (released && l) {
        *released = true;
        *releasedInControl = l->inControl;
      }
    }
  };
  bool released = false;
  bool releasedInControl = false;
  {
    // One live copy of the tracer at a time: only the last one reports.
    auto tracer = std::make_shared<Tracer>(&l, &released, &releasedInControl);
    l.relay.onHa([tracer](const json&) {}, [](const core::ControlReply&) {});
  }
  l.pollHa(); // the work drops its reply
  EXPECT_FALSE(released) << "released on the HA loop";
  l.pollControl();
  EXPECT_TRUE(released);
  EXPECT_TRUE(releasedInControl);
}

TEST(ThreadRelay, AnExceptionOfTheWorkIsAnsweredAndStaysOutOfTheHaLoop) {
  Loops l;
  json answer;
  l.relay.onHa([&](json j) { answer = std::move(j); },
               [](const core::ControlReply&) { throw std::runtime_error("boom"); });
  EXPECT_NO_THROW(l.pollHa());
  l.pollControl();
  EXPECT_EQ(answer.value("ok", true), false);
  EXPECT_EQ(answer.value("error", ""), "internal error: boom");
}

} // namespace
} // namespace rmha::daemon
