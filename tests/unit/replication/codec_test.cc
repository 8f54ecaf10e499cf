// Replication wire format: round trips, and every truncation, corruption or unknown version
// refused without a crash.
#include <gtest/gtest.h>

#include <random>

#include "failover/replication/codec.h"

namespace rmha::failover {
namespace {

using core::Session;
using core::SessionState;

Session sample(const std::string& id = "a84b4c76e66710@pc33.example.com") {
  Session s;
  s.callId = id;
  s.fromTag = "1928301774";
  s.toTag = "a6c85cf";
  s.server = "udp:192.0.2.21:5070";
  s.routeSet = "<sip:192.0.2.100;lr>";
  s.cseq = 314159;
  s.state = SessionState::Confirmed;
  s.createdUs = 1'700'000'000'000'000;
  s.updatedUs = 1'700'000'000'500'000;
  return s;
}

std::vector<Record> allKinds() {
  std::vector<Record> v;
  Record r;
  r.type = RecordType::Upsert;
  r.stream = 0x1234;
  r.seq = 7;
  r.session = sample();
  v.push_back(r);
  r = {};
  r.type = RecordType::Remove;
  r.stream = 0x1234;
  r.seq = 8;
  r.text = "gone@example.com";
  v.push_back(r);
  for (auto t : {RecordType::Ack, RecordType::Resume, RecordType::BulkBegin, RecordType::BulkEnd,
                 RecordType::SyncRequest}) {
    r = {};
    r.type = t;
    r.stream = 0xfeedface;
    r.seq = 99;
    r.count = t == RecordType::Ack           ? 2500
              : t == RecordType::SyncRequest ? 0
              : t == RecordType::Resume      ? kReplicationVersion
                                             : 100000;
    v.push_back(r);
  }
  r = {};
  r.type = RecordType::BulkItem;
  r.session = sample("bulk@example.com");
  v.push_back(r);
  r = {};
  r.type = RecordType::Resync;
  r.text = "record 3 came after 1";
  v.push_back(r);
  return v;
}

std::vector<std::uint8_t> payloadOf(const std::vector<Record>& records) {
  PayloadWriter w;
  for (const auto& r : records) {
    w.add(r);
  }
  return w.bytes();
}

TEST(ReplicationCodec, EveryRecordKindRoundTrips) {
  const auto records = allKinds();
  const auto d = decodePayload(payloadOf(records));
  ASSERT_EQ(d.error, PayloadError::None);
  ASSERT_EQ(d.records.size(), records.size());
  for (std::size_t i = 0; i < records.size(); ++i) {
    SCOPED_TRACE(toString(records[i].type));
    EXPECT_EQ(d.records[i].type, records[i].type);
    EXPECT_EQ(d.records[i].stream, records[i].stream);
    EXPECT_EQ(d.records[i].seq, records[i].seq);
    EXPECT_EQ(d.records[i].count, records[i].count);
    EXPECT_EQ(d.records[i].text, records[i].text);
    EXPECT_TRUE(d.records[i].session.callId.empty() ||
                sameSession(d.records[i].session, records[i].session));
    EXPECT_EQ(d.records[i].session.updatedUs, records[i].session.updatedUs);
  }
}

TEST(ReplicationCodec, EveryTruncationIsRefusedAndKeepsTheRecordsBefore) {
  const auto bytes = payloadOf(allKinds());
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    const auto d = decodePayload(std::span(bytes.data(), n));
    if (n == 0) {
      EXPECT_EQ(d.error, PayloadError::Empty);
      continue;
    }
    // A cut exactly between two records is a shorter valid payload.
    if (d.error == PayloadError::None) {
      EXPECT_LT(d.records.size(), allKinds().size());
      continue;
    }
    EXPECT_TRUE(d.error == PayloadError::Truncated || d.error == PayloadError::BadBody)
        << "at " << n << ": " << toString(d.error);
    EXPECT_EQ(d.failedIndex, d.records.size());
  }
}

TEST(ReplicationCodec, UnknownVersionIsRefused) {
  auto bytes = payloadOf(allKinds());
  bytes[0] = kReplicationVersion + 1;
  const auto d = decodePayload(bytes);
  EXPECT_EQ(d.error, PayloadError::UnknownVersion);
  EXPECT_EQ(d.version, kReplicationVersion + 1);
  EXPECT_TRUE(d.records.empty());
}

TEST(ReplicationCodec, UnknownTypeAndBadFieldsAreRefused) {
  auto bytes = payloadOf({allKinds()[0]});
  auto unknown = bytes;
  unknown[1] = 200;
  EXPECT_EQ(decodePayload(unknown).error, PayloadError::UnknownType);
  // Session state byte out of range: the byte before the two 8-byte times.
  auto badState = bytes;
  badState[badState.size() - 17] = 9;
  EXPECT_EQ(decodePayload(badState).error, PayloadError::BadBody);
  // A record whose length claims more than is there.
  auto longer = bytes;
  longer[4] = static_cast<std::uint8_t>(longer[4] + 1);
  EXPECT_EQ(decodePayload(longer).error, PayloadError::Truncated);
  // A record with trailing bytes inside its declared length.
  Record ack;
  ack.type = RecordType::Ack;
  auto rec = encodeRecord(ack);
  rec.push_back(0);
  rec[4] = static_cast<std::uint8_t>(rec[4] + 1);
  PayloadWriter w;
  w.addEncoded(rec);
  EXPECT_EQ(decodePayload(w.bytes()).error, PayloadError::BadBody);
}

TEST(ReplicationCodec, EmptyCallIdIsRefused) {
  Record r;
  r.type = RecordType::Upsert;
  r.seq = 1;
  r.session = sample("");
  EXPECT_EQ(decodePayload(payloadOf({r})).error, PayloadError::BadBody);
}

TEST(ReplicationCodec, RandomCorruptionNeverCrashes) {
  const auto good = payloadOf(allKinds());
  std::mt19937 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    auto bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<std::uint8_t>(rng());
    }
    const auto d = decodePayload(bytes);
    EXPECT_LE(d.records.size(), allKinds().size());
  }
}

TEST(ReplicationCodec, SameSessionIgnoresTheUpdateTime) {
  auto a = sample();
  auto b = a;
  b.updatedUs += 1000;
  EXPECT_TRUE(sameSession(a, b));
  b.toTag = "other";
  EXPECT_FALSE(sameSession(a, b));
}

} // namespace
} // namespace rmha::failover
