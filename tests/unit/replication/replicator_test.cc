// The replication stream between two Replicators on a fake channel and the fake clock:
// ordered apply and cumulative acks, resume from the backlog, bulk copy on overflow, on join
// and on a corrupted record, graceful-handover waits, role swaps.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <thread>

#include "failover/replication/replicator.h"
#include "tests/fakes/fake_clock.h"

namespace rmha::failover {
namespace {

using namespace std::chrono_literals;
using core::Session;
using core::SessionState;

class FakeChannel final : public ChannelTransport {
public:
  bool channelReady() const override { return ready; }
  bool sendPayload(std::span<const std::uint8_t> p) override {
    if (!ready) {
      return false;
    }
    queue.emplace_back(p.begin(), p.end());
    return true;
  }
  std::size_t pendingBytes() const override { return pending; }

  bool ready = false;
  std::size_t pending = 0;
  std::deque<std::vector<std::uint8_t>> queue;
};

class FakeStore final : public ReplicaStore {
public:
  void insertReplica(Session s) override {
    ++changes;
    sessions[s.callId] = std::move(s);
  }
  void removeReplica(std::string callId) override {
    ++changes;
    sessions.erase(callId);
  }
  std::map<std::string, Session> sessions;
  int changes = 0;
};

struct Node {
  Node(test::FakeClock& clock, int member, ReplicationOptions o)
      : repl((o.localMember = member, o), chan, store, clock, clock) {}
  FakeChannel chan;
  FakeStore store;
  Replicator repl;
};

class Replication : public ::testing::Test {
protected:
  void SetUp() override { build(immediate()); }

  // Each record acknowledged at once (no ack timer).
  static ReplicationOptions immediate() {
    ReplicationOptions o;
    o.ackDelay = core::Duration::zero();
    return o;
  }

  void build(ReplicationOptions o) {
    b.reset();
    a.reset();
    a = std::make_unique<Node>(clock, 1, o);
    b = std::make_unique<Node>(clock, 2, o);
  }

  void open() {
    a->chan.ready = b->chan.ready = true;
    a->repl.onChannelOpen();
    b->repl.onChannelOpen();
    settle();
  }

  void close() {
    a->chan.ready = b->chan.ready = false;
    a->chan.queue.clear();
    b->chan.queue.clear();
    a->repl.onChannelClosed();
    b->repl.onChannelClosed();
  }

  // Delivers every queued payload both ways (and runs due timers) until nothing moves.
  void settle() {
    for (int round = 0; round < 100000; ++round) {
      clock.advance(0ms);
      bool moved = false;
      for (auto [from, to] : {std::pair{a.get(), b.get()}, std::pair{b.get(), a.get()}}) {
        while (!from->chan.queue.empty()) {
          auto p = std::move(from->chan.queue.front());
          from->chan.queue.pop_front();
          to->repl.onChannelPayload(p);
          moved = true;
        }
      }
      if (!moved) {
        return;
      }
    }
    FAIL() << "the exchange never settled";
  }

  Session session(const std::string& id, SessionState st = SessionState::Confirmed) {
    Session s;
    s.callId = id;
    s.fromTag = "ft-" + id;
    s.toTag = st == SessionState::Trying ? "" : "tt-" + id;
    s.server = "udp:192.0.2.21:5070";
    s.routeSet = "<sip:192.0.2.100;lr>";
    s.cseq = 1;
    s.state = st;
    s.createdUs = 1000;
    return s;
  }

  // A change on the active (node a), as the SIP thread reports it.
  void upsert(const Session& s) {
    truth[s.callId] = s;
    a->repl.onLocalUpsert(s, clock.monotonicTime());
  }
  void remove(const std::string& id) {
    truth.erase(id);
    a->repl.onLocalRemove(id, clock.monotonicTime());
  }

  void expectStandbyHasTruth() {
    ASSERT_EQ(b->store.sessions.size(), truth.size());
    for (const auto& [id, s] : truth) {
      auto it = b->store.sessions.find(id);
      ASSERT_NE(it, b->store.sessions.end()) << id;
      EXPECT_TRUE(sameSession(it->second, s)) << id;
    }
  }

  test::FakeClock clock;
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
  std::map<std::string, Session> truth;
};

TEST_F(Replication, StreamAppliesInOrderAndAcknowledges) {
  a->repl.setSource(true);
  open();
  upsert(session("c1", SessionState::Trying));
  upsert(session("c2"));
  settle();
  upsert(session("c1"));
  remove("c2");
  settle();
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
  const auto st = a->repl.status();
  EXPECT_EQ(st["state"], "in-sync");
  EXPECT_EQ(st["seq"], 4);
  EXPECT_EQ(st["acked_seq"], 4);
  EXPECT_EQ(st["backlog"], 0);
  EXPECT_EQ(b->repl.status()["applied_seq"], 4);
  EXPECT_EQ(b->repl.counters().recordsApplied, 4u);
  EXPECT_EQ(st["lag_ms"]["samples"], 4);
}

TEST_F(Replication, UnchangedSessionIsNotSentAgain) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  auto again = session("c1");
  again.updatedUs = 99; // the table rewrites the update time on every upsert
  upsert(again);
  settle();
  EXPECT_EQ(a->repl.status()["seq"], 1);
}

TEST_F(Replication, BehindUntilAcknowledged) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  upsert(session("c2"));
  EXPECT_FALSE(a->repl.synced());
  EXPECT_EQ(a->repl.status()["state"], "behind");
  EXPECT_EQ(a->repl.status()["behind"], 2);
  settle();
  EXPECT_EQ(a->repl.status()["state"], "in-sync");
}

TEST_F(Replication, ShortDisconnectionResumesFromTheBacklog) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  settle();
  close();
  EXPECT_EQ(a->repl.status()["state"], "disconnected");
  for (int i = 2; i <= 10; ++i) {
    upsert(session(fmt::format("c{}", i)));
  }
  remove("c1");
  open();
  expectStandbyHasTruth();
  EXPECT_EQ(a->repl.counters().recordsResent, 10u);
  EXPECT_EQ(a->repl.counters().bulkSyncsSent, 1u); // only the first join
  EXPECT_EQ(b->repl.counters().bulkSyncsReceived, 1u);
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, BacklogOverflowGivesABulkCopy) {
  auto o = immediate();
  o.backlogLimit = 4;
  build(o);
  a->repl.setSource(true);
  open();
  for (int i = 1; i <= 5; ++i) {
    upsert(session(fmt::format("c{}", i)));
    settle();
  }
  close();
  remove("c1");
  for (int i = 6; i <= 15; ++i) {
    upsert(session(fmt::format("c{}", i)));
  }
  EXPECT_GE(a->repl.counters().backlogOverflows, 1u);
  open();
  expectStandbyHasTruth();
  EXPECT_EQ(a->repl.counters().bulkSyncsSent, 2u);
  EXPECT_EQ(b->repl.counters().bulkSyncsReceived, 2u);
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, OverflowWhileConnectedCostsNoCopyOfRecordsAlreadySent) {
  auto o = immediate();
  o.backlogLimit = 3;
  build(o);
  a->repl.setSource(true);
  open();
  // The standby does not answer for a long while (stopped, its socket still open): records
  // pile up unacknowledged, far past the backlog. Each was sent: no bulk copy per record.
  for (int i = 1; i <= 200; ++i) {
    upsert(session(fmt::format("c{}", i)));
  }
  EXPECT_EQ(a->repl.counters().backlogOverflows, 197u);
  EXPECT_EQ(a->repl.counters().bulkSyncsSent, 1u); // the join's only
  settle(); // it wakes up and reads them all, in order
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, APeerResumingFromBeforeAnOverflowGetsABulkCopy) {
  auto o = immediate();
  o.backlogLimit = 3;
  build(o);
  a->repl.setSource(true);
  open();
  for (int i = 1; i <= 20; ++i) {
    upsert(session(fmt::format("c{}", i)));
  }
  close(); // what was sent never arrived
  open();  // the standby resumes from record 0: gone from the backlog
  expectStandbyHasTruth();
  EXPECT_EQ(a->repl.counters().bulkSyncsSent, 2u);
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, JoiningStandbyGetsEverySessionByBulkCopy) {
  auto o = immediate();
  o.bulkItemsPerRound = 7; // many rounds
  build(o);
  a->repl.setSource(true);
  for (int i = 0; i < 1000; ++i) {
    upsert(session(fmt::format("call-{}", i)));
  }
  open();
  expectStandbyHasTruth();
  EXPECT_EQ(b->repl.counters().bulkSyncsReceived, 1u);
  EXPECT_EQ(a->repl.status()["bulk"]["last_sessions"], 1000);
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, ChangesDuringABulkCopyArriveAfterIt) {
  auto o = immediate();
  o.bulkItemsPerRound = 10;
  build(o);
  a->repl.setSource(true);
  for (int i = 0; i < 100; ++i) {
    upsert(session(fmt::format("call-{:03}", i), SessionState::Trying));
  }
  a->chan.pending = o.writeHighWater + 1; // the bulk copy stalls after BulkBegin
  a->chan.ready = b->chan.ready = true;
  a->repl.onChannelOpen();
  b->repl.onChannelOpen();
  settle();
  EXPECT_EQ(a->repl.status()["state"], "syncing");
  a->chan.pending = 0;
  clock.advance(1ms); // one round: the cursor is at call-009
  // Changes before and after the cursor, and a removal of each kind.
  upsert(session("call-005"));
  upsert(session("call-050"));
  remove("call-003");
  remove("call-090");
  upsert(session("call-new"));
  settle();
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, CorruptedRecordIsRefusedCountedAndResynced) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  upsert(session("c2"));
  settle();
  // A payload whose second record is cut: the first (an ack) stands, the rest is refused.
  Record ok;
  ok.type = RecordType::Ack;
  PayloadWriter w;
  w.add(ok);
  auto bad = encodeRecord(ok);
  bad.resize(bad.size() - 3);
  w.addEncoded(bad);
  b->repl.onChannelPayload(w.bytes());
  EXPECT_EQ(b->repl.counters().recordsRefused, 1u);
  EXPECT_EQ(b->repl.status()["state"], "syncing");
  EXPECT_NE(b->repl.status()["last_refusal"].get<std::string>().find("truncated"),
            std::string::npos);
  // Garbage and a future version are refused the same way.
  const std::vector<std::uint8_t> garbage = {kReplicationVersion, 0xff, 0, 0};
  b->repl.onChannelPayload(garbage);
  const std::vector<std::uint8_t> future = {kReplicationVersion + 1, 1, 2, 3};
  b->repl.onChannelPayload(future);
  EXPECT_EQ(b->repl.counters().recordsRefused, 3u);
  EXPECT_EQ(b->repl.counters().resyncsRequested, 1u); // one outstanding request
  settle();
  EXPECT_EQ(a->repl.counters().resyncsAnswered, 1u);
  expectStandbyHasTruth();
  EXPECT_EQ(b->repl.status()["state"], "in-sync");
  upsert(session("c3"));
  settle();
  expectStandbyHasTruth();
}

TEST_F(Replication, GapInTheStreamGivesAResync) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  settle();
  upsert(session("c2"));
  a->chan.queue.clear(); // record 2 lost
  upsert(session("c3"));
  settle();
  EXPECT_EQ(b->repl.counters().resyncsRequested, 1u);
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, WhenSyncedWaitsForTheAcknowledgement) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  int calls = 0;
  bool result = false;
  a->repl.whenSynced(1s, [&](bool ok, const std::string&) {
    ++calls;
    result = ok;
  });
  EXPECT_EQ(calls, 0);
  settle();
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(result);
}

TEST_F(Replication, WhenSyncedTimesOutOrFailsOnChannelLoss) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  std::string why;
  a->repl.whenSynced(200ms, [&](bool ok, const std::string& w) { why = ok ? "ok" : w; });
  clock.advance(200ms);
  EXPECT_NE(why.find("acknowledged 0 of 1"), std::string::npos) << why;
  why.clear();
  a->repl.whenSynced(1s, [&](bool ok, const std::string& w) { why = ok ? "ok" : w; });
  close();
  EXPECT_EQ(why, "the replication channel closed");
}

TEST_F(Replication, StandbyIgnoresItsOwnEchoes) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  settle();
  // The standby's table reports the applied session back: nothing is sent.
  b->repl.onLocalUpsert(session("c1"), clock.monotonicTime());
  b->repl.onLocalRemove("c1", clock.monotonicTime());
  EXPECT_TRUE(b->chan.queue.empty());
  EXPECT_EQ(b->repl.status()["seq"], 0);
}

TEST_F(Replication, RoleSwapStreamsTheOtherWay) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  upsert(session("c2"));
  settle();
  a->repl.setSource(false);
  b->repl.setSource(true);
  settle();
  // b now owns the calls and streams them; a follows.
  b->repl.onLocalRemove("c1", clock.monotonicTime());
  settle();
  EXPECT_TRUE(b->repl.synced());
  ASSERT_EQ(a->store.sessions.size(), 1u);
  EXPECT_TRUE(a->store.sessions.contains("c2"));
}

TEST_F(Replication, ASourceIgnoresTheCopyOfAPeerThatWasActiveToo) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  upsert(session("c2"));
  settle();
  // A split brain: b stops hearing a, becomes active and sends its copy (c1, c2), which a
  // receives only after it ended c1 and set up c3, and after b gave way.
  b->repl.setSource(true);
  remove("c1");
  upsert(session("c3"));
  b->repl.setSource(false);
  const int before = a->store.changes;
  settle();
  // a's table was not touched: no c1 brought back, no c3 dropped.
  EXPECT_EQ(a->store.changes, before);
  EXPECT_GE(a->repl.counters().ignoredAsSource, 3u); // BulkBegin, 2 items, BulkEnd
  EXPECT_EQ(a->repl.status()["counters"]["ignored_as_source"], a->repl.counters().ignoredAsSource);
  // b follows a again and ends with a's truth.
  upsert(session("c4"));
  settle();
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
}

TEST_F(Replication, ASourceThatGivesWayAsksAgainForTheCopyItIgnored) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  upsert(session("c2"));
  settle();
  // b takes over while a still streams: a ignores b's copy, then gives way and follows b.
  b->repl.setSource(true);
  settle();
  EXPECT_GT(a->repl.counters().ignoredAsSource, 0u);
  a->repl.setSource(false);
  settle();
  EXPECT_TRUE(b->repl.synced());
  EXPECT_EQ(a->store.sessions.size(), 2u);
  b->repl.onLocalRemove("c1", clock.monotonicTime());
  settle();
  EXPECT_TRUE(b->repl.synced());
  ASSERT_EQ(a->store.sessions.size(), 1u);
  EXPECT_TRUE(a->store.sessions.contains("c2"));
}

} // namespace
} // namespace rmha::failover

namespace rmha::failover {
namespace {

class ReplicationBatching : public Replication {
protected:
  void SetUp() override {
    ReplicationOptions o; // the daemon's: acknowledgements wait for more records
    o.ackDelay = 1ms;
    build(o);
  }

  using Changes = std::vector<Replicator::LocalChange>;
  static Replicator::LocalChange change(Session s, core::MonotonicTime at) {
    return {false, std::move(s), at};
  }
  static Replicator::LocalChange removal(const std::string& id, core::MonotonicTime at) {
    Replicator::LocalChange c;
    c.removed = true;
    c.session.callId = id;
    c.at = at;
    return c;
  }
};

TEST_F(ReplicationBatching, ChangesOfOneCallWithinABatchMakeOneRecord) {
  a->repl.setSource(true);
  open();
  const auto t0 = clock.monotonicTime();
  Changes batch{change(session("c1", SessionState::Trying), t0),
                change(session("c1", SessionState::Early), t0), change(session("c1"), t0),
                change(session("c2", SessionState::Trying), t0), removal("c2", t0)};
  truth["c1"] = session("c1");
  clock.advance(2ms); // the batch is streamed 2 ms after its first change
  a->repl.streamChanges(std::move(batch));
  EXPECT_EQ(a->chan.queue.size(), 1u); // one payload
  settle();
  EXPECT_EQ(a->repl.status()["seq"], 2);  // c1 once (confirmed), c2 once (removed)
  EXPECT_EQ(a->repl.counters().changesCoalesced, 3u);
  EXPECT_FALSE(a->repl.synced());         // the ack waits
  clock.advance(1ms);
  settle();
  expectStandbyHasTruth();
  EXPECT_TRUE(a->repl.synced());
  // Lag is how stale the copy is: the 2 ms the change waited counts, the 1 ms the peer
  // held the record before acknowledging it does not.
  EXPECT_EQ(a->repl.status()["lag_ms"]["p99"], 2.0);
}

TEST_F(ReplicationBatching, AWaiterDoesNotWaitForTheAckDelay) {
  a->repl.setSource(true);
  open();
  upsert(session("c1"));
  bool done = false;
  a->repl.whenSynced(1s, [&](bool ok, const std::string&) { done = ok; });
  settle(); // no clock advance: the waiter's SyncRequest is acknowledged at once
  EXPECT_TRUE(done);
  expectStandbyHasTruth();
}

TEST_F(ReplicationBatching, AWaitersCallbackMayCallTheReplicator) {
  a->repl.setSource(true);
  open();
  Changes batch{change(session("c1"), clock.monotonicTime())};
  bool streamed = false;
  // The callback runs once the replicator has done the call's work (here whenSynced, which
  // decides at once), so it may call the replicator again: here, stream.
  a->repl.whenSynced(1s, [&](bool, const std::string&) {
    a->repl.streamChanges(std::move(batch));
    streamed = true;
  });
  EXPECT_TRUE(streamed);
  truth["c1"] = session("c1");
  settle();
  clock.advance(1ms);
  settle();
  expectStandbyHasTruth();
}

} // namespace
} // namespace rmha::failover

namespace rmha::failover {
namespace {

// The SIP thread's queue: its posts are run by hand here (postHere: the SIP thread after
// its current burst).
class ChangeQueue : public Replication {
protected:
  void SetUp() override {
    Replication::SetUp();
    q = std::make_unique<SessionChangeQueue>(
        clock, [this](std::function<void()> f) { here.push_back(std::move(f)); }, a->repl);
  }
  static void run(std::vector<std::function<void()>>& posted) {
    auto now = std::move(posted);
    posted.clear();
    for (auto& f : now) {
      f();
    }
  }
  std::vector<std::function<void()>> here;
  std::unique_ptr<SessionChangeQueue> q;
};

TEST_F(ChangeQueue, StreamsTheDialogsOfABurstInOnePayloadAfterIt) {
  a->repl.setSource(true);
  open();
  q->onSessionUpserted(session("c1", SessionState::Trying));
  q->onSessionUpserted(session("c1", SessionState::Early));
  EXPECT_TRUE(here.empty()); // a call being set up is not copied
  q->onSessionUpserted(session("c1"));
  q->onSessionUpserted(session("c2"));
  q->onSessionRemoved({"c3", "ft-c3"});
  EXPECT_EQ(here.size(), 1u); // one drain behind the burst
  EXPECT_TRUE(a->chan.queue.empty());
  run(here);
  EXPECT_EQ(a->chan.queue.size(), 1u); // one payload, written by the drain itself
  truth["c1"] = session("c1");
  truth["c2"] = session("c2");
  settle();
  expectStandbyHasTruth();
  EXPECT_EQ(a->repl.status()["seq"], 2); // c3 was never copied: its removal is no record
  q->onSessionRemoved({"c1", "ft-c1"});
  run(here);
  truth.erase("c1");
  settle();
  expectStandbyHasTruth();
}

TEST_F(ChangeQueue, CollectsNothingWhileOff) {
  a->repl.setSource(true);
  open();
  q->setCollecting(false);
  q->onSessionUpserted(session("c1"));
  q->onSessionRemoved({"c1", "ft-c1"});
  EXPECT_TRUE(here.empty());
}

TEST_F(ChangeQueue, BatchesReachTheReplicatorInTheOrderOfTheirBursts) {
  a->repl.setSource(true);
  open();
  q->onSessionUpserted(session("c1"));
  run(here);
  q->onSessionUpserted(session("c2"));
  q->onSessionRemoved({"c1", "ft-c1"});
  run(here); // c1 streamed, then c2 and c1's removal
  EXPECT_EQ(a->chan.queue.size(), 2u);
  truth["c2"] = session("c2");
  settle();
  expectStandbyHasTruth();
  EXPECT_EQ(a->repl.status()["seq"], 3);
}

TEST_F(ChangeQueue, ADrainWithNothingQueuedSendsNothing) {
  a->repl.setSource(true);
  open();
  const auto before = a->chan.queue.size();
  q->drain();
  EXPECT_EQ(a->chan.queue.size(), before);
}

#ifndef NDEBUG
TEST_F(ChangeQueue, TheReplicatorRefusesACallFromAnotherThread) {
  a->repl.setSource(true); // binds the replicator to this thread
  EXPECT_DEATH(
      {
        std::thread other([&] { (void)a->repl.status(); });
        other.join();
      },
      "owner thread");
}
#endif

} // namespace
} // namespace rmha::failover
