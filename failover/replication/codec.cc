#include "failover/replication/codec.h"

#include <algorithm>
#include <cstring>

namespace rmha::failover {

using core::Session;
using core::SessionState;

namespace {

class Out {
public:
  explicit Out(std::vector<std::uint8_t>& b) : b_(b) {}
  void u8(std::uint8_t v) { b_.push_back(v); }
  void u(std::uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; --i) {
      b_.push_back(static_cast<std::uint8_t>((v >> (8 * i)) & 0xff));
    }
  }
  void str(std::string_view s) {
    s = s.substr(0, kMaxReplicatedString);
    u(s.size(), 2);
    b_.insert(b_.end(), s.begin(), s.end());
  }
  void session(const Session& s) {
    for (const auto* f : {&s.callId, &s.fromTag, &s.toTag, &s.server, &s.routeSet}) {
      str(*f);
    }
    u(s.cseq, 4);
    u8(static_cast<std::uint8_t>(s.state));
    u(static_cast<std::uint64_t>(s.createdUs), 8);
    u(static_cast<std::uint64_t>(s.updatedUs), 8);
  }

private:
  std::vector<std::uint8_t>& b_;
};

class In {
public:
  explicit In(std::span<const std::uint8_t> b) : b_(b) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == b_.size(); }
  std::uint64_t u(int bytes) {
    if (!need(static_cast<std::size_t>(bytes))) {
      return 0;
    }
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v = (v << 8) | b_[pos_++];
    }
    return v;
  }
  std::string str() {
    const auto n = static_cast<std::size_t>(u(2));
    if (n > kMaxReplicatedString || !need(n)) {
      ok_ = false;
      return {};
    }
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  bool session(Session& s) {
    for (auto* f : {&s.callId, &s.fromTag, &s.toTag, &s.server, &s.routeSet}) {
      *f = str();
    }
    s.cseq = static_cast<std::uint32_t>(u(4));
    const auto state = u(1);
    s.createdUs = static_cast<std::int64_t>(u(8));
    s.updatedUs = static_cast<std::int64_t>(u(8));
    if (!ok_ || state > static_cast<std::uint64_t>(SessionState::Terminating) ||
        s.callId.empty()) {
      return false;
    }
    s.state = static_cast<SessionState>(state);
    return true;
  }

private:
  bool need(std::size_t n) {
    if (!ok_ || b_.size() - pos_ < n) {
      ok_ = false;
      return false;
    }
    return true;
  }
  std::span<const std::uint8_t> b_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void encodeBody(const Record& r, Out& o) {
  switch (r.type) {
  case RecordType::Upsert:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    o.session(r.session);
    return;
  case RecordType::Remove:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    o.str(r.text);
    return;
  case RecordType::Ack:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    o.u(std::min<std::uint64_t>(r.count, 0xffffffffu), 4);
    return;
  case RecordType::SyncRequest:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    return;
  case RecordType::Resume:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    o.u8(static_cast<std::uint8_t>(r.count));
    return;
  case RecordType::BulkBegin:
  case RecordType::BulkEnd:
    o.u(r.stream, 8);
    o.u(r.seq, 8);
    o.u(r.count, 8);
    return;
  case RecordType::BulkItem:
    o.session(r.session);
    return;
  case RecordType::Resync:
    o.str(r.text);
    return;
  }
}

bool decodeBody(RecordType type, std::span<const std::uint8_t> body, Record& r) {
  In in(body);
  r.type = type;
  switch (type) {
  case RecordType::Upsert:
    r.stream = in.u(8);
    r.seq = in.u(8);
    return in.session(r.session) && in.done() && r.seq != 0;
  case RecordType::Remove:
    r.stream = in.u(8);
    r.seq = in.u(8);
    r.text = in.str();
    return in.ok() && in.done() && !r.text.empty() && r.seq != 0;
  case RecordType::Ack:
    r.stream = in.u(8);
    r.seq = in.u(8);
    r.count = in.u(4);
    return in.ok() && in.done();
  case RecordType::SyncRequest:
    r.stream = in.u(8);
    r.seq = in.u(8);
    return in.ok() && in.done();
  case RecordType::Resume:
    r.stream = in.u(8);
    r.seq = in.u(8);
    r.count = in.u(1);
    return in.ok() && in.done();
  case RecordType::BulkBegin:
  case RecordType::BulkEnd:
    r.stream = in.u(8);
    r.seq = in.u(8);
    r.count = in.u(8);
    return in.ok() && in.done() && r.stream != 0;
  case RecordType::BulkItem:
    return in.session(r.session) && in.done();
  case RecordType::Resync:
    r.text = in.str();
    return in.ok() && in.done();
  }
  return false;
}

} // namespace

std::string_view toString(RecordType t) {
  switch (t) {
  case RecordType::Upsert: return "upsert";
  case RecordType::Remove: return "remove";
  case RecordType::Ack: return "ack";
  case RecordType::SyncRequest: return "sync-request";
  case RecordType::Resume: return "resume";
  case RecordType::BulkBegin: return "bulk-begin";
  case RecordType::BulkItem: return "bulk-item";
  case RecordType::BulkEnd: return "bulk-end";
  case RecordType::Resync: return "resync";
  }
  return "unknown";
}

std::string_view toString(PayloadError e) {
  switch (e) {
  case PayloadError::None: return "none";
  case PayloadError::Empty: return "empty payload";
  case PayloadError::UnknownVersion: return "unknown format version";
  case PayloadError::Truncated: return "truncated record";
  case PayloadError::UnknownType: return "unknown record type";
  case PayloadError::BadBody: return "record body does not parse";
  }
  return "unknown";
}

std::vector<std::uint8_t> encodeRecord(const Record& r) {
  std::vector<std::uint8_t> out;
  out.reserve(64 + r.session.callId.size() + r.session.routeSet.size() + r.text.size());
  Out o(out);
  o.u8(static_cast<std::uint8_t>(r.type));
  o.u(0, 4); // length, filled in below
  encodeBody(r, o);
  const auto len = out.size() - 5;
  for (int i = 0; i < 4; ++i) {
    out[static_cast<std::size_t>(1 + i)] = static_cast<std::uint8_t>((len >> (8 * (3 - i))) & 0xff);
  }
  return out;
}

void PayloadWriter::reset() {
  bytes_.clear();
  bytes_.push_back(kReplicationVersion);
}

void PayloadWriter::add(const Record& r) {
  const auto rec = encodeRecord(r);
  bytes_.insert(bytes_.end(), rec.begin(), rec.end());
}

void PayloadWriter::addEncoded(std::span<const std::uint8_t> record) {
  bytes_.insert(bytes_.end(), record.begin(), record.end());
}

PayloadDecode decodePayload(std::span<const std::uint8_t> p) {
  PayloadDecode out;
  if (p.empty()) {
    out.error = PayloadError::Empty;
    return out;
  }
  out.version = p[0];
  if (p[0] != kReplicationVersion) {
    out.error = PayloadError::UnknownVersion;
    return out;
  }
  std::size_t pos = 1;
  while (pos < p.size()) {
    out.failedIndex = out.records.size();
    if (p.size() - pos < 5) {
      out.error = PayloadError::Truncated;
      return out;
    }
    const auto type = p[pos];
    const std::size_t len = (std::size_t{p[pos + 1]} << 24) | (std::size_t{p[pos + 2]} << 16) |
                            (std::size_t{p[pos + 3]} << 8) | std::size_t{p[pos + 4]};
    pos += 5;
    if (len > p.size() - pos) {
      out.error = PayloadError::Truncated;
      return out;
    }
    if (type == 0 || type > static_cast<std::uint8_t>(RecordType::SyncRequest)) {
      out.error = PayloadError::UnknownType;
      return out;
    }
    Record r;
    if (!decodeBody(static_cast<RecordType>(type), p.subspan(pos, len), r)) {
      out.error = PayloadError::BadBody;
      return out;
    }
    out.records.push_back(std::move(r));
    pos += len;
  }
  out.failedIndex = out.records.size();
  return out;
}

bool sameSession(const Session& a, const Session& b) {
  return a.callId == b.callId && a.fromTag == b.fromTag && a.toTag == b.toTag &&
         a.server == b.server && a.routeSet == b.routeSet && a.cseq == b.cseq &&
         a.state == b.state && a.createdUs == b.createdUs;
}

} // namespace rmha::failover
