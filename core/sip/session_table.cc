#include "core/sip/session_table.h"

#include <charconv>

#include <nlohmann/json.hpp>

namespace rmha::core::sip {

namespace {

bool safeField(std::string_view f) { return f.find('\n') == std::string_view::npos; }

template <class T>
bool parseNumber(std::string_view s, T& out) {
  const auto r = std::from_chars(s.data(), s.data() + s.size(), out);
  return r.ec == std::errc{} && r.ptr == s.data() + s.size();
}

} // namespace

std::string serialiseSession(const Session& s) {
  std::string out = "rmha-session-1\n";
  for (const auto* f : {&s.callId, &s.fromTag, &s.toTag, &s.server, &s.routeSet}) {
    out += safeField(*f) ? *f : std::string();
    out += '\n';
  }
  out += std::to_string(s.cseq) + '\n' + std::to_string(static_cast<int>(s.state)) + '\n' +
         std::to_string(s.createdUs) + '\n' + std::to_string(s.updatedUs) + '\n';
  return out;
}

bool deserialiseSession(std::string_view text, Session& out) {
  std::string_view f[9];
  if (!text.starts_with("rmha-session-1\n")) {
    return false;
  }
  text.remove_prefix(15);
  for (auto& field : f) {
    const auto nl = text.find('\n');
    if (nl == std::string_view::npos) {
      return false;
    }
    field = text.substr(0, nl);
    text.remove_prefix(nl + 1);
  }
  int state = 0;
  if (!text.empty() || f[0].empty() || !parseNumber(f[5], out.cseq) ||
      !parseNumber(f[6], state) || state < 0 || state > 3 || !parseNumber(f[7], out.createdUs) ||
      !parseNumber(f[8], out.updatedUs)) {
    return false;
  }
  out.callId = f[0];
  out.fromTag = f[1];
  out.toTag = f[2];
  out.server = f[3];
  out.routeSet = f[4];
  out.state = static_cast<SessionState>(state);
  return true;
}

nlohmann::json sessionToJson(const Session& s) {
  return {{"call_id", s.callId},     {"from_tag", s.fromTag}, {"to_tag", s.toTag},
          {"server", s.server},      {"route_set", s.routeSet}, {"cseq", s.cseq},
          {"state", toString(s.state)}, {"created_us", s.createdUs},
          {"updated_us", s.updatedUs}};
}

SessionTable::SessionTable(TimeSource& time, UsageHook usage)
    : time_(time), usage_(std::move(usage)) {}

void SessionTable::setObserver(SessionObserver* observer) { observer_.store(observer); }

void SessionTable::upsert(Session s) {
  s.updatedUs = nowUs();
  if (s.createdUs == 0) {
    s.createdUs = s.updatedUs;
  }
  const Session* stored = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto [it, inserted] = sessions_.try_emplace(s.callId);
    if (inserted) {
      count_.fetch_add(1, std::memory_order_relaxed);
      usage_(s.server, +1);
    } else if (it->second.server != s.server) {
      usage_(it->second.server, -1);
      usage_(s.server, +1);
    }
    it->second = std::move(s);
    stored = &it->second;
  }
  if (auto* o = observer_.load()) {
    o->onSessionUpserted(*stored);
  }
}

void SessionTable::erase(Map::iterator it) {
  SessionKey key{it->second.callId, it->second.fromTag};
  {
    std::lock_guard lock(mutex_);
    usage_(it->second.server, -1);
    sessions_.erase(it);
    count_.fetch_sub(1, std::memory_order_relaxed);
  }
  if (auto* o = observer_.load()) {
    o->onSessionRemoved(key);
  }
}

bool SessionTable::remove(std::string_view callId) {
  auto it = sessions_.find(callId);
  if (it == sessions_.end()) {
    return false;
  }
  erase(it);
  return true;
}

const Session* SessionTable::find(std::string_view callId) const {
  auto it = sessions_.find(callId);
  return it == sessions_.end() ? nullptr : &it->second;
}

std::size_t SessionTable::expire(std::chrono::seconds maxAge) {
  const auto limit = nowUs() - std::chrono::duration_cast<std::chrono::microseconds>(maxAge).count();
  std::size_t n = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto next = std::next(it);
    if (it->second.createdUs < limit) {
      erase(it);
      ++n;
    }
    it = next;
  }
  return n;
}

nlohmann::json SessionTable::toJson(std::size_t limit) const {
  auto out = nlohmann::json::array();
  std::lock_guard lock(mutex_);
  for (const auto& [id, s] : sessions_) {
    if (out.size() >= limit) {
      break;
    }
    out.push_back(sessionToJson(s));
  }
  return out;
}

} // namespace rmha::core::sip
