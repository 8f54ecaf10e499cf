#include "core/sip/parser.h"

#include <cstring>

namespace rmha::core::sip {
namespace {

// Finds the end of the line starting at `pos`: index of '\n' (npos when none). Lines end in
// CRLF; a bare LF is tolerated, as most stacks do.
std::size_t lineEnd(std::span<char> buf, std::size_t pos) {
  const void* p = std::memchr(buf.data() + pos, '\n', buf.size() - pos);
  return p ? static_cast<std::size_t>(static_cast<const char*>(p) - buf.data())
           : std::string_view::npos;
}

std::string_view lineText(std::span<char> buf, std::size_t start, std::size_t nl) {
  auto end = nl;
  if (end > start && buf[end - 1] == '\r') {
    --end;
  }
  return {buf.data() + start, end - start};
}

Status parseRequestLine(std::string_view line, SipMessage& out) {
  const auto sp1 = line.find(' ');
  const auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) {
    return {"malformed request line"};
  }
  out.methodToken = line.substr(0, sp1);
  if (!isToken(out.methodToken)) {
    return {"bad method"};
  }
  out.method = methodFromToken(out.methodToken);
  out.requestUriText = line.substr(sp1 + 1, sp2 - sp1 - 1);
  if (line.substr(sp2 + 1) != "SIP/2.0") {
    return {"unsupported SIP version"};
  }
  if (auto st = parseUri(out.requestUriText, out.requestUri); !st.ok()) {
    return {"bad Request-URI"};
  }
  out.isRequest = true;
  return kOk;
}

Status parseStatusLine(std::string_view line, SipMessage& out) {
  std::uint32_t code = 0;
  if (line.size() < 12 || line[7] != ' ' || (line.size() > 11 && line[11] != ' ') ||
      !parseUint(line.substr(8, 3), code, 3) || code < 100 || code > 699) {
    return {"malformed status line"};
  }
  out.statusCode = static_cast<int>(code);
  out.reasonPhrase = line.substr(12);
  return kOk;
}

Status parseCSeq(std::string_view v, SipMessage& out) {
  const auto sp = v.find_first_of(" \t");
  std::uint32_t n = 0;
  if (sp == std::string_view::npos || !parseUint(v.substr(0, sp), n, 10) || n > 0x7fffffffU) {
    return {"bad CSeq"};
  }
  out.cseq = n;
  out.cseqMethodToken = trim(v.substr(sp));
  if (!isToken(out.cseqMethodToken)) {
    return {"bad CSeq method"};
  }
  out.cseqMethod = methodFromToken(out.cseqMethodToken);
  return kOk;
}

Status parseVias(std::string_view v, SipMessage& out) {
  const char* err = nullptr;
  const bool balanced = forEachListItem(v, [&](std::string_view item) {
    Via via;
    if (auto st = parseVia(item, via); !st.ok()) {
      err = st.reason;
      return false;
    }
    if (out.viaCount++ == 0) {
      out.topVia = via;
    }
    return true;
  });
  if (!balanced) {
    return {"bad Via"};
  }
  return {err};
}

Status parseAddressList(std::string_view v, const char* what) {
  if (v == "*") {
    return kOk;  // Contact: * (REGISTER)
  }
  bool good = true;
  int n = 0;
  const bool balanced = forEachListItem(v, [&](std::string_view item) {
    NameAddr na;
    good = parseNameAddr(item, na).ok();
    ++n;
    return good;
  });
  return (balanced && good && n > 0) ? kOk : Status{what};
}

Status parseHeaderValue(Header& h, SipMessage& out) {
  const auto v = h.value;
  switch (h.id) {
  case HeaderId::Via:
    return parseVias(v, out);
  case HeaderId::From:
  case HeaderId::To: {
    auto& na = h.id == HeaderId::From ? out.from : out.to;
    if (!na.uriText.empty()) {
      return {h.id == HeaderId::From ? "duplicate From" : "duplicate To"};
    }
    if (!parseNameAddr(v, na).ok() || na.uriText.empty()) {
      return {h.id == HeaderId::From ? "bad From" : "bad To"};
    }
    return kOk;
  }
  case HeaderId::CallId:
    if (!out.callId.empty()) {
      return {"duplicate Call-ID"};
    }
    if (v.empty() || v.find_first_of(" \t") != std::string_view::npos) {
      return {"bad Call-ID"};
    }
    out.callId = v;
    return kOk;
  case HeaderId::CSeq:
    return out.cseqMethodToken.empty() ? parseCSeq(v, out) : Status{"duplicate CSeq"};
  case HeaderId::MaxForwards: {
    std::uint32_t n = 0;
    if (!parseUint(v, n, 3) || n > 255) {
      return {"bad Max-Forwards"};
    }
    out.maxForwards = static_cast<int>(n);
    return kOk;
  }
  case HeaderId::ContentLength: {
    std::uint32_t n = 0;
    if (!parseUint(v, n, 9) || (out.contentLength >= 0 && out.contentLength != n)) {
      return {"bad Content-Length"};
    }
    out.contentLength = n;
    return kOk;
  }
  case HeaderId::Contact:
    return parseAddressList(v, "bad Contact");
  case HeaderId::Route:
    return parseAddressList(v, "bad Route");
  case HeaderId::RecordRoute:
    return parseAddressList(v, "bad Record-Route");
  default:
    return kOk;
  }
}

// Reads one header line starting at `pos`, unfolding continuation lines in place. Sets
// `next` to the start of the following line.
Status readHeader(std::span<char> buf, std::size_t pos, std::size_t& next, Header& h) {
  std::size_t nl = lineEnd(buf, pos);
  // Continuation lines begin with SP or HT: overwrite the line break with spaces.
  while (nl != std::string_view::npos && nl + 1 < buf.size() &&
         (buf[nl + 1] == ' ' || buf[nl + 1] == '\t')) {
    buf[nl] = ' ';
    if (nl > pos && buf[nl - 1] == '\r') {
      buf[nl - 1] = ' ';
    }
    nl = lineEnd(buf, nl + 1);
  }
  if (nl == std::string_view::npos) {
    return {"headers not terminated by an empty line"};
  }
  next = nl + 1;
  const auto line = lineText(buf, pos, nl);
  h.raw = std::string_view(buf.data() + pos, nl + 1 - pos);
  const auto colon = line.find(':');
  if (colon == std::string_view::npos) {
    return {"header line without colon"};
  }
  h.name = trim(line.substr(0, colon));
  if (!isToken(h.name)) {
    return {"bad header name"};
  }
  h.value = trim(line.substr(colon + 1));
  h.id = headerIdFromName(h.name);
  return kOk;
}

Status checkMandatory(const SipMessage& m) {
  if (m.viaCount == 0) {
    return {"missing Via"};
  }
  if (m.from.uriText.empty()) {
    return {"missing From"};
  }
  if (m.to.uriText.empty()) {
    return {"missing To"};
  }
  if (m.callId.empty()) {
    return {"missing Call-ID"};
  }
  if (m.cseqMethodToken.empty()) {
    return {"missing CSeq"};
  }
  if (m.isRequest && m.cseqMethodToken != m.methodToken) {
    return {"CSeq method does not match the request method"};
  }
  return kOk;
}

} // namespace

Status parseMessage(std::span<char> buf, SipMessage& out) {
  out.clear();
  std::size_t pos = 0;
  while (pos < buf.size() && (buf[pos] == '\r' || buf[pos] == '\n')) {
    ++pos;  // RFC 3261 7.5: ignore CRLFs before the start line
  }
  const auto nl = pos < buf.size() ? lineEnd(buf, pos) : std::string_view::npos;
  if (nl == std::string_view::npos) {
    return {"incomplete start line"};
  }
  out.startLine = lineText(buf, pos, nl);
  const auto st = out.startLine.starts_with("SIP/2.0 ") ? parseStatusLine(out.startLine, out)
                                                         : parseRequestLine(out.startLine, out);
  if (!st.ok()) {
    return st;
  }
  pos = nl + 1;
  Status firstError;
  for (;;) {
    if (pos >= buf.size()) {
      return {"headers not terminated by an empty line"};
    }
    if (buf[pos] == '\n' || (buf[pos] == '\r' && pos + 1 < buf.size() && buf[pos + 1] == '\n')) {
      pos += buf[pos] == '\n' ? 1 : 2;
      break;
    }
    if (out.headers.size() >= kMaxHeaders) {
      return {"too many headers"};
    }
    if (buf[pos] == ' ' || buf[pos] == '\t') {
      // A continuation with nothing to continue (right after the start line). Taken as a
      // header named by whatever precedes a colon, it would be copied into the forwarded
      // message after the proxy's own Record-Route and fold into it. Skipped, so that the
      // 400 still carries the headers that follow.
      const auto end = lineEnd(buf, pos);
      if (end == std::string_view::npos) {
        return {"headers not terminated by an empty line"};
      }
      if (firstError.ok()) {
        firstError = {"continuation line without a header before it"};
      }
      pos = end + 1;
      continue;
    }
    Header h;
    std::size_t next = 0;
    if (auto hs = readHeader(buf, pos, next, h); !hs.ok()) {
      return hs;
    }
    // A bad value is remembered, not fatal at once: the rest of the headers are still
    // collected so that a 400 can carry Via, From, To, Call-ID and CSeq.
    if (auto vs = parseHeaderValue(h, out); !vs.ok() && firstError.ok()) {
      firstError = vs;
    }
    out.headers.push_back(h);
    pos = next;
  }
  if (!firstError.ok()) {
    return firstError;
  }
  if (auto ms = checkMandatory(out); !ms.ok()) {
    return ms;
  }
  const auto avail = buf.size() - pos;
  if (out.contentLength > static_cast<long>(avail)) {
    return {"Content-Length larger than the message body"};
  }
  const auto bodyLen = out.contentLength >= 0 ? static_cast<std::size_t>(out.contentLength) : avail;
  out.body = std::string_view(buf.data() + pos, bodyLen);
  out.size = pos + bodyLen;
  out.raw = std::string_view(out.startLine.data(),
                             out.size - static_cast<std::size_t>(out.startLine.data() - buf.data()));
  return kOk;
}

Frame findFrame(std::string_view data, std::size_t maxSize) {
  Frame f;
  while (f.skip < data.size() && (data[f.skip] == '\r' || data[f.skip] == '\n')) {
    ++f.skip;
  }
  const auto msg = data.substr(f.skip);
  const auto end = msg.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    if (msg.size() > maxSize) {
      f.kind = Frame::Kind::Error;
      f.reason = "message too large";
    }
    return f;
  }
  const auto headerLen = end + 4;
  // Scan the header block for Content-Length (or its compact form "l").
  long cl = -1;
  std::size_t pos = msg.find("\r\n") + 2;
  while (pos < end + 2) {
    const auto eol = msg.find("\r\n", pos);
    const auto line = msg.substr(pos, eol - pos);
    pos = eol + 2;
    const auto colon = line.find(':');
    if (colon == std::string_view::npos || (line[0] == ' ' || line[0] == '\t')) {
      continue;
    }
    if (headerIdFromName(trim(line.substr(0, colon))) == HeaderId::ContentLength) {
      std::uint32_t n = 0;
      if (!parseUint(trim(line.substr(colon + 1)), n, 9)) {
        f.kind = Frame::Kind::Error;
        f.reason = "bad Content-Length";
        return f;
      }
      cl = n;
    }
  }
  if (cl < 0) {
    // RFC 3261 18.3: mandatory on stream transports.
    f.kind = Frame::Kind::Error;
    f.reason = "missing Content-Length";
    return f;
  }
  const auto total = headerLen + static_cast<std::size_t>(cl);
  if (total > maxSize) {
    f.kind = Frame::Kind::Error;
    f.reason = "message too large";
    return f;
  }
  if (msg.size() >= total) {
    f.kind = Frame::Kind::Complete;
    f.length = total;
  }
  return f;
}

} // namespace rmha::core::sip
