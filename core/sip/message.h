#pragma once
// A parsed SIP message: every field is a view into the receive buffer, which the parser
// modifies only to unfold continuation lines (CRLF + WSP become spaces). A SipMessage is
// reused from one datagram to the next, so its header vector keeps its capacity and parsing
// allocates nothing once warm.
#include <cstdint>
#include <string_view>
#include <vector>

namespace rmha::core::sip {

enum class Method : std::uint8_t {
  Unknown, Invite, Ack, Bye, Cancel, Options, Register, Info, Update, Refer, Notify,
  Subscribe, Message, Prack, Publish
};

/// Maps a method token to its enum (case-sensitive, as RFC 3261 requires).
Method methodFromToken(std::string_view token);
std::string_view toString(Method m);

/// Headers the proxy looks at; every other header is `Other` and copied verbatim.
enum class HeaderId : std::uint8_t {
  Other, Via, From, To, CallId, CSeq, MaxForwards, ContentLength, ContentType, Contact, Route,
  RecordRoute, Supported, Require, ProxyRequire, RetryAfter
};

/// Maps a header name (long or compact form, case-insensitive) to its id.
HeaderId headerIdFromName(std::string_view name);

/// One header line. `raw` covers the whole line including its CRLF, for verbatim copies.
struct Header {
  HeaderId id = HeaderId::Other;
  std::string_view name;
  std::string_view value;
  std::string_view raw;
};

/// sip:user:password@host:port;params?headers (also sips: and tel:).
struct Uri {
  std::string_view scheme;
  std::string_view user;
  std::string_view password;
  std::string_view host;     ///< without the brackets of an IPv6 reference
  std::uint16_t port = 0;    ///< 0 when absent
  std::string_view params;   ///< after the first ';' up to '?', without the ';'
  std::string_view headers;  ///< after '?'
  bool ipv6 = false;

  /// Value of URI parameter `name` (case-insensitive); `found` tells a valueless param apart.
  std::string_view param(std::string_view name, bool* found = nullptr) const;
  bool hasParam(std::string_view name) const {
    bool f = false;
    param(name, &f);
    return f;
  }
};

/// "display" <uri>;params, or an addr-spec with params (From, To, Contact, Route...).
struct NameAddr {
  std::string_view display;
  std::string_view uriText;
  Uri uri;
  std::string_view params;   ///< header parameters, without the leading ';'
  std::string_view tag;      ///< the tag= parameter (From/To)
  bool hasTag = false;
};

/// One Via value: SIP/2.0/UDP host:port;branch=...;received=...;rport=...
struct Via {
  std::string_view transport;  ///< UDP, TCP, TLS, SCTP, WS...
  std::string_view host;
  std::uint16_t port = 0;
  std::string_view branch;
  std::string_view received;
  std::string_view rport;      ///< value; `hasRport` tells an empty rport apart
  bool hasRport = false;
  bool ipv6 = false;
  std::string_view params;     ///< all parameters, without the leading ';'
  std::string_view text;       ///< the whole value

  /// True when the branch begins with the RFC 3261 magic cookie.
  bool rfc3261Branch() const { return branch.starts_with("z9hG4bK"); }
};

struct SipMessage {
  bool isRequest = false;
  // Request line.
  Method method = Method::Unknown;
  std::string_view methodToken;
  std::string_view requestUriText;
  Uri requestUri;
  // Status line.
  int statusCode = 0;
  std::string_view reasonPhrase;

  std::string_view startLine;   ///< without CRLF
  std::vector<Header> headers;  ///< in order; folded lines already unfolded

  // The fields every transaction needs, checked by the parser.
  Via topVia;
  int viaCount = 0;             ///< Via values, not lines
  std::string_view callId;
  NameAddr from;
  NameAddr to;
  std::uint32_t cseq = 0;
  Method cseqMethod = Method::Unknown;
  std::string_view cseqMethodToken;
  int maxForwards = -1;         ///< -1 when absent
  long contentLength = -1;      ///< -1 when absent
  std::string_view body;
  std::size_t size = 0;         ///< bytes used from the buffer, including its body
  std::string_view raw;         ///< the message from its start line to the end of its body

  /// Resets for reuse, keeping capacity.
  void clear();
  /// First header with `id`, or nullptr.
  const Header* find(HeaderId id) const;
};

} // namespace rmha::core::sip
