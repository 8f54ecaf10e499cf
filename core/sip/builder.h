#pragma once
// Serialising messages the proxy sends: forwarded requests and responses (with Via,
// Route, Record-Route and Max-Forwards edits), locally generated responses, and the ACK and
// CANCEL a proxy builds from the INVITE it sent. Output goes into a caller-owned string
// whose capacity is reused, so steady-state forwarding does not allocate.
#include <string>
#include <string_view>

#include "core/sip/message.h"

namespace rmha::core::sip {

/// What changes when a message is forwarded.
struct ForwardEdits {
  std::string_view requestUri;    ///< replaces the Request-URI when not empty
  std::string_view via;           ///< a Via value to put on top, when not empty
  bool removeTopVia = false;      ///< drop the first Via value (responses going back)
  bool popRoute = false;          ///< drop the first Route value (it named us)
  std::string_view recordRoute;   ///< a Record-Route value to put on top, when not empty
  bool decrementMaxForwards = false;  ///< and add Max-Forwards: 70 when absent
};

/// Writes `m` with `edits` applied into `out` (replacing its content).
void serialiseForward(const SipMessage& m, const ForwardEdits& edits, std::string& out);

/// Writes a response to request `req`: Via, From, To, Call-ID and CSeq copied, a To tag added
/// when the To has none and `toTag` is not empty (RFC 3261 8.2.6.2), `extraHeaders` (complete
/// lines, each ending in CRLF) appended, no body.
void buildResponse(const SipMessage& req, int code, std::string_view reason,
                   std::string_view toTag, std::string_view extraHeaders, std::string& out);

/// Writes the ACK for a non-2xx final response (RFC 3261 17.1.1.3) or the CANCEL (9.1) of the
/// INVITE `sent` that this proxy forwarded: same Request-URI, top Via and Route set. `toHeaderValue`
/// is the To of the response (ACK) or of the INVITE (CANCEL).
void buildAckOrCancel(const SipMessage& sent, Method method, std::string_view toHeaderValue,
                      std::string& out);

/// Writes an ACK or BYE for the dialog a late 2xx created with a media server this proxy had
/// given up on (so that the server does not keep a call nobody uses): Request-URI `target`
/// (the 2xx Contact), our `via`, no Route, From/Call-ID of `sent`, To of the 2xx, CSeq
/// `cseq`.
void buildLateAnswerRequest(const SipMessage& sent, Method method, std::string_view target,
                            std::string_view via, std::string_view toHeaderValue,
                            std::uint32_t cseq, std::string& out);

/// Value of a list header without its first item ("" when it had only one).
std::string_view withoutFirstItem(std::string_view value);

} // namespace rmha::core::sip
