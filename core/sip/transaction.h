#pragma once
// RFC 3261 section 17 transactions as the proxy keeps them. The state machines live in
// proxy_txn.cc; these are the records. Each timer is owned by its transaction, so a
// transaction that is gone can never be called back.
#include <cstdint>
#include <string>
#include <vector>

#include "core/sip/message.h"
#include "core/sip/transport.h"
#include "core/timer.h"

namespace rmha::core::sip {

struct MediaServer;

/// T1, T2, T4 of RFC 3261 (17.1.1.1, table 4).
struct TimerSettings {
  Duration t1 = std::chrono::milliseconds(500);
  Duration t2 = std::chrono::seconds(4);
  Duration t4 = std::chrono::seconds(5);
  Duration failover = std::chrono::seconds(2);
};

struct ServerTxn {
  enum class State : std::uint8_t { Proceeding, Completed, Confirmed, Accepted, Terminated };
  std::string key;            ///< branch|sent-by|method (ACK folds into INVITE)
  Method method = Method::Unknown;
  State state = State::Proceeding;
  Peer peer;                  ///< where responses go
  std::string request;        ///< as received, for local responses and failover
  std::string lastResponse;   ///< as sent, for retransmissions
  int lastCode = 0;
  std::string toTag;          ///< our tag for locally generated responses
  std::string clientKey;      ///< the client transaction currently working for it
  std::vector<MediaServer*> candidates;  ///< media servers still to try, best first
  std::size_t nextCandidate = 0;
  bool cancelled = false;
  bool tracksSession = false; ///< an initial INVITE that created a session
  Duration interval{};        ///< timer G
  TimerPtr retransmit;        ///< G
  TimerPtr timeout;           ///< H, I, J, and the Accepted linger
};

struct ClientTxn {
  enum class State : std::uint8_t { Calling, Proceeding, Completed, Accepted, Abandoned };
  std::string key;            ///< our branch, + "|C" for a CANCEL
  Method method = Method::Unknown;
  State state = State::Calling;
  Peer peer;                  ///< next hop
  std::string request;        ///< as sent: retransmissions, ACK and CANCEL are built from it
  std::string serverKey;      ///< the server transaction it works for ("" for none)
  MediaServer* server = nullptr;  ///< when sent to a media server
  bool cancelPending = false; ///< CANCEL asked before any provisional (RFC 3261 9.1)
  bool lateAnswerClosed = false;  ///< a late 2xx of an abandoned attempt got ACK + BYE
  Duration interval{};        ///< timer A / E
  TimerPtr retransmit;        ///< A, E
  TimerPtr timeout;           ///< B, F, D, K
  TimerPtr failover;          ///< no provisional from a media server in time
};

} // namespace rmha::core::sip
