#include "core/sip/builder.h"

#include <fmt/format.h>

#include "core/sip/syntax.h"

namespace rmha::core::sip {
namespace {

void appendLine(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

// Copies a header line, normalising a bare-LF ending to CRLF.
void appendRaw(std::string& out, const Header& h) {
  if (h.raw.size() >= 2 && h.raw[h.raw.size() - 2] == '\r') {
    out.append(h.raw);
  } else {
    appendLine(out, h.name, h.value);
  }
}

void appendNumber(std::string& out, long n) {
  char buf[24];
  auto r = fmt::format_to_n(buf, sizeof buf, "{}", n);
  out.append(buf, r.size);
}

} // namespace

std::string_view withoutFirstItem(std::string_view value) {
  std::string_view rest;
  bool first = true;
  (void)forEachListItem(value, [&](std::string_view item) {
    if (first) {
      first = false;
      return true;
    }
    // Everything from the second item to the end.
    rest = value.substr(static_cast<std::size_t>(item.data() - value.data()));
    return false;
  });
  return rest;
}

void serialiseForward(const SipMessage& m, const ForwardEdits& e, std::string& out) {
  out.clear();
  if (m.isRequest && !e.requestUri.empty()) {
    out.append(m.methodToken);
    out.push_back(' ');
    out.append(e.requestUri);
    out.append(" SIP/2.0\r\n");
  } else {
    out.append(m.startLine);
    out.append("\r\n");
  }
  if (!e.via.empty()) {
    appendLine(out, "Via", e.via);
  }
  // Record-Route goes after the Via block, above any Record-Route already there.
  bool rrPending = !e.recordRoute.empty();
  bool viaRemoved = !e.removeTopVia;
  bool routePopped = !e.popRoute;
  bool sawMaxForwards = false;
  bool sawContentLength = false;
  for (const auto& h : m.headers) {
    if (rrPending && h.id != HeaderId::Via) {
      appendLine(out, "Record-Route", e.recordRoute);
      rrPending = false;
    }
    if ((h.id == HeaderId::Via && !viaRemoved) || (h.id == HeaderId::Route && !routePopped)) {
      (h.id == HeaderId::Via ? viaRemoved : routePopped) = true;
      const auto rest = withoutFirstItem(h.value);
      if (!rest.empty()) {
        appendLine(out, h.name, rest);
      }
    } else if (h.id == HeaderId::MaxForwards && e.decrementMaxForwards) {
      sawMaxForwards = true;
      out.append("Max-Forwards: ");
      appendNumber(out, m.maxForwards > 0 ? m.maxForwards - 1 : 0);
      out.append("\r\n");
    } else {
      sawContentLength = sawContentLength || h.id == HeaderId::ContentLength;
      appendRaw(out, h);
    }
  }
  if (rrPending) {
    appendLine(out, "Record-Route", e.recordRoute);
  }
  if (e.decrementMaxForwards && !sawMaxForwards) {
    out.append("Max-Forwards: 70\r\n");
  }
  if (!sawContentLength) {
    // Required on stream transports; a datagram without one had its body up to the end.
    out.append("Content-Length: ");
    appendNumber(out, static_cast<long>(m.body.size()));
    out.append("\r\n");
  }
  out.append("\r\n");
  out.append(m.body);
}

void buildResponse(const SipMessage& req, int code, std::string_view reason,
                   std::string_view toTag, std::string_view extraHeaders, std::string& out) {
  out.clear();
  out.append("SIP/2.0 ");
  appendNumber(out, code);
  out.push_back(' ');
  out.append(reason);
  out.append("\r\n");
  for (const auto& h : req.headers) {
    switch (h.id) {
    case HeaderId::Via:
    case HeaderId::From:
    case HeaderId::CallId:
    case HeaderId::CSeq:
      appendRaw(out, h);
      break;
    case HeaderId::To:
      if (!req.to.hasTag && !toTag.empty() && code > 100) {
        out.append("To: ");
        out.append(h.value);
        out.append(";tag=");
        out.append(toTag);
        out.append("\r\n");
      } else {
        appendRaw(out, h);
      }
      break;
    default:
      break;
    }
  }
  out.append(extraHeaders);
  out.append("Content-Length: 0\r\n\r\n");
}

void buildAckOrCancel(const SipMessage& sent, Method method, std::string_view toHeaderValue,
                      std::string& out) {
  out.clear();
  const auto name = toString(method);
  out.append(name);
  out.push_back(' ');
  out.append(sent.requestUriText);
  out.append(" SIP/2.0\r\n");
  appendLine(out, "Via", sent.topVia.text);
  for (const auto& h : sent.headers) {
    if (h.id == HeaderId::Route || h.id == HeaderId::From || h.id == HeaderId::CallId) {
      appendRaw(out, h);
    }
  }
  appendLine(out, "To", toHeaderValue);
  out.append("CSeq: ");
  appendNumber(out, sent.cseq);
  out.push_back(' ');
  out.append(name);
  out.append("\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
}

} // namespace rmha::core::sip

namespace rmha::core::sip {

void buildLateAnswerRequest(const SipMessage& sent, Method method, std::string_view target,
                            std::string_view via, std::string_view toHeaderValue,
                            std::uint32_t cseq, std::string& out) {
  out.clear();
  const auto name = toString(method);
  out.append(name);
  out.push_back(' ');
  out.append(target);
  out.append(" SIP/2.0\r\n");
  appendLine(out, "Via", via);
  for (const auto& h : sent.headers) {
    if (h.id == HeaderId::From || h.id == HeaderId::CallId) {
      appendRaw(out, h);
    }
  }
  appendLine(out, "To", toHeaderValue);
  out.append("CSeq: ");
  appendNumber(out, cseq);
  out.push_back(' ');
  out.append(name);
  out.append("\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n");
}

} // namespace rmha::core::sip
