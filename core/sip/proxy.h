#pragma once
// The stateful proxy core (RFC 3261 section 16) of the resource manager: transactions,
// routing to media servers or upstream, loose routing of in-dialog requests, Record-Route,
// CANCEL, ACK, failover, OPTIONS health probes and the session table. Runs on the SIP
// thread only; counters are atomics so status readers on other threads can read them.
#include <atomic>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/sip/builder.h"
#include "core/sip/parser.h"
#include "core/sip/resource_group.h"
#include "core/sip/session_table.h"
#include "core/sip/sip_config.h"
#include "core/sip/transaction.h"
#include "core/sip/transport.h"
#include "core/time_source.h"
#include "core/timer.h"

namespace rmha::core::sip {

struct ProxyCounters {
  std::atomic<std::uint64_t> requests{0}, responses{0}, badRequests{0}, badResponses{0},
      strayResponses{0}, retransmissionsAbsorbed{0}, untrusted{0}, noCapacity{0}, notServing{0},
      noRoute{0}, failovers{0}, callsRouted{0}, loops{0}, tooManyHops{0}, optionsAnswered{0},
      transportErrors{0}, sessionsExpired{0}, absorbedInTransition{0};
};

class Proxy final : public TransportSink {
public:
  Proxy(const SipConfig& cfg, MessageSender& sender, TimerFactory& timers, TimeSource& time,
        ResourceDirectory& resources, SessionTable& sessions, ProxyCounters& counters);
  ~Proxy() override;

  /// Serving: new calls taken, OPTIONS answered 200. Not serving: 503 (calls kept).
  /// Thread-safe.
  void setServing(bool serving) { serving_.store(serving); }
  bool serving() const { return serving_.load(); }
  /// While the role moves between the nodes of a pair (and not serving): a new request
  /// arriving over UDP is neither forwarded nor refused (no 100, no 503), so the sender's
  /// retransmission reaches whichever node serves by then; over TCP it still gets the 503
  /// (a TCP sender does not retransmit). Requests from media servers and in-dialog requests
  /// are routed as usual. Thread-safe.
  void setAbsorbing(bool absorbing) { absorbing_.store(absorbing); }
  /// Starts the OPTIONS probes and the session-age sweep.
  void start();
  void stop();

  void onMessage(std::span<char> data, const Peer& from) override;
  void onTransportError(const Peer& to) override;

  std::size_t serverTransactions() const { return servers_.size(); }
  std::size_t clientTransactions() const { return clients_.size(); }

private:
  using ServerPtr = std::unique_ptr<ServerTxn>;
  using ClientPtr = std::unique_ptr<ClientTxn>;

  // proxy.cc: requests
  void onRequest(const Peer& from);
  bool absorbedInTransition(const Peer& from);
  void onAck(const Peer& from);
  void onCancel(const Peer& from);
  void routeRequest(ServerTxn& st);
  void noteReInvite(const SipMessage& req);
  void routeInitial(ServerTxn& st, bool popRoute);
  bool isUs(const Uri& uri) const;
  bool topRouteIsUs(const SipMessage& m) const;
  bool nextRouteHop(const SipMessage& m, bool popRoute, Peer& hop) const;
  bool loopDetected(const SipMessage& m) const;
  std::string loopHash(const SipMessage& m) const;
  bool trusted(const Peer& from) const;
  void respondLocally(const SipMessage& req, const Peer& to, int code, std::string_view reason,
                      std::string_view extra = {});
  void forwardAckStateless(const Peer& from);
  void refuseMalformed(const Peer& from, Status st);

  // proxy_forward.cc: sending requests and responses
  bool forward(ServerTxn& st, const SipMessage& req, const Peer& hop, bool popRoute,
               bool recordRoute, MediaServer* server, std::string_view requestUri = {});
  void tryNextServer(ServerTxn& st, int failedCode);
  void sendResponse(ServerTxn& st, const SipMessage& rsp);
  void sendLocalResponse(ServerTxn& st, int code, std::string_view reason,
                         std::string_view extra = {});
  void sendCancel(ClientTxn& ct);
  void sendAck(ClientTxn& ct, const SipMessage& rsp);
  /// Our Via for a request to `hop`; `branch` receives its branch.
  std::string viaFor(const Peer& hop, const SipMessage& req, std::string& branch);
  const std::string& hostPort(TransportKind t) const;
  std::string recordRouteFor(TransportKind t) const;
  std::uint16_t ourPort(TransportKind t) const;
  Peer responseTarget(const Peer& from, const Via& via) const;
  void trackSession(ServerTxn& st, const SipMessage& req, MediaServer* server);

  // proxy_response.cc: responses
  void onResponse(const Peer& from);
  void onInviteResponse(ClientTxn& ct, const SipMessage& rsp);
  void onInviteFinal(ClientTxn& ct, ServerTxn* st, const SipMessage& rsp);
  void onNonInviteResponse(ClientTxn& ct, const SipMessage& rsp);
  void closeLateAnswer(ClientTxn& ct, const SipMessage& rsp);
  void forwardResponseStateless(const SipMessage& rsp);
  void updateSessionFromResponse(const SipMessage& rsp);
  void onProbeResponse(std::string_view branch);

  // proxy_txn.cc: transaction timers and bookkeeping
  ServerTxn* findServer(const std::string& key);
  ClientTxn* findClient(const std::string& key);
  ServerTxn& newServer(std::string key, const Peer& peer, std::string_view request);
  ClientTxn& newClient(std::string key, Method method, const Peer& peer, std::string request);
  void serverFinal(ServerTxn& st, int code);
  void clientTimerA(ClientTxn& ct);
  void clientTimeout(ClientTxn& ct);
  void clientFailover(ClientTxn& ct);
  void clientFailed(ClientTxn& ct, int code, std::string_view reason, bool markDown);
  void endServer(const std::string& key);
  void endClient(const std::string& key);
  void probeTick(std::size_t index);
  void sweepSessions();
  Duration reliable(const Peer& p, Duration d) const;

  static std::string serverKey(const SipMessage& m, bool forAck);

  SipConfig cfg_;
  MessageSender& sender_;
  TimerFactory& timers_;
  TimeSource& time_;
  ResourceDirectory& resources_;
  SessionTable& sessions_;
  ProxyCounters& counters_;
  TimerSettings t_;
  std::atomic<bool> serving_{false};
  std::atomic<bool> absorbing_{false};

  SipMessage msg_;            // the message being handled (views into the receive buffer)
  SipMessage scratch_;        // a stored request re-parsed (failover, CANCEL, ACK)
  std::string out_;           // serialisation buffer, capacity reused
  std::string scratchBuf_;
  std::vector<MediaServer*> candidates_;
  std::unordered_map<std::string, ServerPtr> servers_;
  std::unordered_map<std::string, ClientPtr> clients_;
  std::vector<ServerPtr> deadServers_;  // destroyed at the next event, never in their own timer
  std::vector<ClientPtr> deadClients_;
  std::uint64_t counter_ = 0;
  std::string salt_;
  std::string hostPortUdp_, hostPortTcp_, rrUdp_, rrTcp_;  // what Via and Record-Route carry

  struct Probe {
    MediaServer* server = nullptr;
    TimerPtr timer;
    bool awaiting = false;
    std::uint32_t seq = 0;
    std::uint32_t interval = 0;
    std::uint32_t failures = 2;
  };
  std::vector<Probe> probes_;
  TimerPtr sweep_;
};

} // namespace rmha::core::sip
