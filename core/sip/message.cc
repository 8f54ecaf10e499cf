#include "core/sip/message.h"

#include "core/sip/syntax.h"

namespace rmha::core::sip {
namespace {

struct MethodName {
  std::string_view name;
  Method method;
};
constexpr MethodName kMethods[] = {
    {"INVITE", Method::Invite},   {"ACK", Method::Ack},         {"BYE", Method::Bye},
    {"CANCEL", Method::Cancel},   {"OPTIONS", Method::Options}, {"REGISTER", Method::Register},
    {"INFO", Method::Info},       {"UPDATE", Method::Update},   {"REFER", Method::Refer},
    {"NOTIFY", Method::Notify},   {"SUBSCRIBE", Method::Subscribe},
    {"MESSAGE", Method::Message}, {"PRACK", Method::Prack},     {"PUBLISH", Method::Publish},
};

struct HeaderName {
  std::string_view name;
  HeaderId id;
};
// Long and compact forms (RFC 3261 7.3.3 and the IANA registry) of the headers we read.
constexpr HeaderName kHeaders[] = {
    {"Via", HeaderId::Via},
    {"v", HeaderId::Via},
    {"From", HeaderId::From},
    {"f", HeaderId::From},
    {"To", HeaderId::To},
    {"t", HeaderId::To},
    {"Call-ID", HeaderId::CallId},
    {"i", HeaderId::CallId},
    {"CSeq", HeaderId::CSeq},
    {"Max-Forwards", HeaderId::MaxForwards},
    {"Content-Length", HeaderId::ContentLength},
    {"l", HeaderId::ContentLength},
    {"Content-Type", HeaderId::ContentType},
    {"c", HeaderId::ContentType},
    {"Contact", HeaderId::Contact},
    {"m", HeaderId::Contact},
    {"Route", HeaderId::Route},
    {"Record-Route", HeaderId::RecordRoute},
    {"Supported", HeaderId::Supported},
    {"k", HeaderId::Supported},
    {"Require", HeaderId::Require},
    {"Proxy-Require", HeaderId::ProxyRequire},
    {"Retry-After", HeaderId::RetryAfter},
};

} // namespace

Method methodFromToken(std::string_view token) {
  for (const auto& m : kMethods) {
    if (m.name == token) {
      return m.method;
    }
  }
  return Method::Unknown;
}

std::string_view toString(Method m) {
  for (const auto& e : kMethods) {
    if (e.method == m) {
      return e.name;
    }
  }
  return "UNKNOWN";
}

HeaderId headerIdFromName(std::string_view name) {
  for (const auto& h : kHeaders) {
    if (h.name.size() == name.size() && iequals(h.name, name)) {
      return h.id;
    }
  }
  return HeaderId::Other;
}

void SipMessage::clear() {
  auto keep = std::move(headers);
  keep.clear();
  *this = SipMessage{};
  headers = std::move(keep);
}

const Header* SipMessage::find(HeaderId id) const {
  for (const auto& h : headers) {
    if (h.id == id) {
      return &h;
    }
  }
  return nullptr;
}

} // namespace rmha::core::sip
