// udp_probe: the service side and the client side of the failover benchmark's UDP probes.
//
//   udp_probe echo ADDRESS PORT NAME
//       Binds ADDRESS:PORT (IP_FREEBIND, so the standby can bind the VIP it does not hold yet)
//       and answers every datagram with the datagram followed by " NAME".
//   udp_probe probe ADDRESS PORT INTERVAL_MS OUTFILE
//       Sends "SEQ" to ADDRESS:PORT every INTERVAL_MS until SIGINT/SIGTERM, then waits 200 ms
//       for late answers and writes one line per probe to OUTFILE:
//       "SEQ SENT_US REPLY_US NAME" (wall clock µs; REPLY_US 0 and NAME "-" when unanswered).
//       On standard output, as it happens: "answer NAME SEQ REPLY_US" whenever the answering
//       service changes (the first answer included), so a script can wait on it.
//
// Plain POSIX, no dependencies: the benchmark builds it with one compiler call when no build
// tree provides it.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

volatile std::sig_atomic_t stopRequested = 0;

void onSignal(int) { stopRequested = 1; }

std::int64_t nowUs(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000 + ts.tv_nsec / 1000;
}

bool makeAddress(const char* ip, const char* port, sockaddr_in& out) {
  std::memset(&out, 0, sizeof out);
  out.sin_family = AF_INET;
  out.sin_port = htons(static_cast<std::uint16_t>(std::atoi(port)));
  return ::inet_pton(AF_INET, ip, &out.sin_addr) == 1;
}

int echo(const char* ip, const char* port, const std::string& name) {
  sockaddr_in addr{};
  if (!makeAddress(ip, port, addr)) {
    std::fprintf(stderr, "bad address %s\n", ip);
    return 2;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  const int one = 1;
  ::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);  // restarted after a kill
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("bind");
    return 1;
  }
  std::printf("echo ready\n");
  std::fflush(stdout);
  char buf[512];
  while (stopRequested == 0) {
    sockaddr_in from{};
    socklen_t fromLen = sizeof from;
    const ssize_t n = ::recvfrom(fd, buf, sizeof buf - name.size() - 2, 0,
                                 reinterpret_cast<sockaddr*>(&from), &fromLen);
    if (n < 0) {
      continue;  // EINTR
    }
    std::string reply(buf, static_cast<std::size_t>(n));
    reply += " " + name;
    (void)::sendto(fd, reply.data(), reply.size(), 0, reinterpret_cast<sockaddr*>(&from), fromLen);
  }
  ::close(fd);
  return 0;
}

struct Probe {
  std::int64_t sentUs = 0;
  std::int64_t replyUs = 0;
  std::string name = "-";
};

void readReplies(int fd, std::vector<Probe>& probes, std::string& lastName) {
  char buf[512];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT)) > 0) {
    buf[n] = '\0';
    char name[64] = "-";
    unsigned long seq = 0;
    if (std::sscanf(buf, "%lu %63s", &seq, name) >= 1 && seq < probes.size() &&
        probes[seq].replyUs == 0) {
      probes[seq].replyUs = nowUs(CLOCK_REALTIME);
      probes[seq].name = name;
      if (lastName != name) {
        lastName = name;
        std::printf("answer %s %lu %lld\n", name, seq, static_cast<long long>(probes[seq].replyUs));
        std::fflush(stdout);
      }
    }
  }
}

int probe(const char* ip, const char* port, int intervalMs, const char* outFile) {
  sockaddr_in addr{};
  if (!makeAddress(ip, port, addr) || intervalMs <= 0) {
    std::fprintf(stderr, "bad address or interval\n");
    return 2;
  }
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::perror("connect");
    return 1;
  }
  std::vector<Probe> probes;
  std::string lastName;
  const std::int64_t intervalUs = static_cast<std::int64_t>(intervalMs) * 1000;
  std::int64_t next = nowUs(CLOCK_MONOTONIC);
  while (stopRequested == 0) {
    const std::int64_t now = nowUs(CLOCK_MONOTONIC);
    if (now >= next) {
      const std::string msg = std::to_string(probes.size());
      probes.push_back(Probe{nowUs(CLOCK_REALTIME), 0, "-"});
      (void)::send(fd, msg.data(), msg.size(), 0);  // ECONNREFUSED etc.: counted as lost
      next += intervalUs;
      continue;
    }
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>((next - now + 999) / 1000));
    readReplies(fd, probes, lastName);
  }
  const std::int64_t drainEnd = nowUs(CLOCK_MONOTONIC) + 200000;
  for (std::int64_t now; (now = nowUs(CLOCK_MONOTONIC)) < drainEnd;) {
    pollfd p{fd, POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>((drainEnd - now) / 1000 + 1));
    readReplies(fd, probes, lastName);
  }
  ::close(fd);
  FILE* out = std::fopen(outFile, "w");
  if (out == nullptr) {
    std::perror(outFile);
    return 1;
  }
  for (std::size_t i = 0; i < probes.size(); ++i) {
    std::fprintf(out, "%zu %lld %lld %s\n", i, static_cast<long long>(probes[i].sentUs),
                 static_cast<long long>(probes[i].replyUs), probes[i].name.c_str());
  }
  std::fclose(out);
  return 0;
}

} // namespace

int main(int argc, char** argv) {
  struct sigaction sa{};
  sa.sa_handler = onSignal;  // no SA_RESTART: a blocking recv returns EINTR
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "echo" && argc == 5) {
    return echo(argv[2], argv[3], argv[4]);
  }
  if (mode == "probe" && argc == 6) {
    return probe(argv[2], argv[3], std::atoi(argv[4]), argv[5]);
  }
  std::fprintf(stderr, "usage: udp_probe echo ADDRESS PORT NAME\n"
                       "       udp_probe probe ADDRESS PORT INTERVAL_MS OUTFILE\n");
  return 2;
}
