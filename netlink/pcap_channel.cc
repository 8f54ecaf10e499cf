#include "netlink/pcap_channel.h"

#include <cerrno>
#include <cstring>

#include <net/if.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

namespace rmha::netlink {
namespace {

constexpr int kSnapLen = 128;  // Ethernet + ARP is 42 bytes; room for a VLAN tag and padding

std::error_code pcapError(int status) {
  switch (status) {
  case PCAP_ERROR_PERM_DENIED: return std::make_error_code(std::errc::operation_not_permitted);
  case PCAP_ERROR_NO_SUCH_DEVICE: return std::make_error_code(std::errc::no_such_device);
  case PCAP_ERROR_IFACE_NOT_UP: return std::make_error_code(std::errc::network_down);
  default: return std::make_error_code(std::errc::io_error);
  }
}

// A short-lived datagram socket for the interface ioctls, closed on every path.
struct IoctlSocket {
  IoctlSocket() : fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {}
  ~IoctlSocket() {
    if (fd >= 0) {
      ::close(fd);
    }
  }
  IoctlSocket(const IoctlSocket&) = delete;
  IoctlSocket& operator=(const IoctlSocket&) = delete;
  int fd;
};

bool fillName(ifreq& req, const std::string& ifname) {
  if (ifname.empty() || ifname.size() >= IFNAMSIZ) {
    return false;
  }
  std::memcpy(req.ifr_name, ifname.c_str(), ifname.size() + 1);
  return true;
}

} // namespace

std::error_code interfaceMac(const std::string& ifname, MacAddress& mac) {
  ifreq req{};
  if (!fillName(req, ifname)) {
    return std::make_error_code(std::errc::invalid_argument);
  }
  IoctlSocket s;
  if (s.fd < 0 || ::ioctl(s.fd, SIOCGIFHWADDR, &req) != 0) {
    return {errno, std::system_category()};
  }
  std::memcpy(mac.data(), req.ifr_hwaddr.sa_data, mac.size());
  return {};
}

Ipv4Address interfaceIpv4(const std::string& ifname) {
  ifreq req{};
  Ipv4Address ip{};
  IoctlSocket s;
  if (fillName(req, ifname) && s.fd >= 0 && ::ioctl(s.fd, SIOCGIFADDR, &req) == 0) {
    sockaddr_in sin{};
    std::memcpy(&sin, &req.ifr_addr, sizeof sin);
    std::memcpy(ip.data(), &sin.sin_addr, 4);
  }
  return ip;
}

PcapChannel::PcapChannel(boost::asio::io_context& io) : fd_(io) {}

PcapChannel::~PcapChannel() { close(); }

std::error_code PcapChannel::open(const std::string& ifname, const std::string& filter,
                                  FrameHandler onFrame) {
  close();
  char err[PCAP_ERRBUF_SIZE] = {};
  pcap* p = pcap_create(ifname.c_str(), err);
  if (p == nullptr) {
    RMHA_LOG(Error, "garp", "pcap on {}: {}", ifname, err);
    return std::make_error_code(std::errc::no_such_device);
  }
  // Immediate mode: frames are handed over as they arrive, not when a buffer block fills.
  pcap_set_snaplen(p, kSnapLen);
  pcap_set_immediate_mode(p, 1);
  pcap_set_promisc(p, 0);
  const int status = pcap_activate(p);
  bpf_program prog{};
  const char* step = "activate";
  int rc = status;
  if (rc >= 0 && (step = "direction", rc = pcap_setdirection(p, PCAP_D_IN)) == 0 &&
      (step = "filter", rc = pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN)) == 0) {
    rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
  }
  if (rc >= 0) {
    step = "nonblock";
    rc = pcap_setnonblock(p, 1, err);
  }
  const int fd = rc >= 0 ? pcap_get_selectable_fd(p) : -1;
  if (rc < 0 || fd < 0) {
    RMHA_LOG(Error, "garp", "pcap on {} ({}): {}", ifname, step, pcap_geterr(p));
    pcap_close(p);
    return pcapError(status < 0 ? status : rc);
  }
  boost::system::error_code ec;
  fd_.assign(fd, ec);
  if (ec) {
    pcap_close(p);
    return {ec.value(), std::system_category()};
  }
  handle_ = p;
  onFrame_ = std::move(onFrame);
  alive_ = std::make_shared<int>(0);
  armRead();
  return {};
}

void PcapChannel::close() {
  alive_.reset();
  if (fd_.is_open()) {
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    (void)fd_.release();  // the descriptor belongs to pcap: pcap_close closes it
  }
  if (handle_ != nullptr) {
    if (dispatching_) {
      retired_ = handle_;  // pcap_dispatch is still using it: dispatch() closes it after
    } else {
      pcap_close(handle_);
    }
    handle_ = nullptr;
  }
}

std::error_code PcapChannel::sendFrame(const std::uint8_t* data, std::size_t len) {
  if (handle_ == nullptr) {
    return std::make_error_code(std::errc::not_connected);
  }
  if (pcap_inject(handle_, data, len) < 0) {
    RMHA_LOG(Warn, "garp", "pcap_inject: {}", pcap_geterr(handle_));
    return std::make_error_code(std::errc::io_error);
  }
  return {};
}

void PcapChannel::armRead() {
  fd_.async_wait(boost::asio::posix::stream_descriptor::wait_read,
                 [this, alive = std::weak_ptr<int>(alive_)](const boost::system::error_code& ec) {
                   if (ec || alive.expired()) {
                     return;
                   }
                   dispatch();
                   // The frame handler may have closed or reopened the channel.
                   if (!alive.expired()) {
                     armRead();
                   }
                 });
}

void PcapChannel::dispatch() {
  const auto weak = std::weak_ptr<int>(alive_);
  for (int round = 0; round < 64 && !weak.expired() && handle_ != nullptr; ++round) {
    dispatching_ = true;
    const int n = pcap_dispatch(
        handle_, -1,
        [](u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
          auto* self = reinterpret_cast<PcapChannel*>(user);
          // A copy: the handler may close or re-open the channel, replacing onFrame_.
          if (self->retired_ == nullptr && self->onFrame_) {
            auto handler = self->onFrame_;
            handler(bytes, h->caplen);
          }
        },
        reinterpret_cast<u_char*>(this));
    dispatching_ = false;
    if (retired_ != nullptr) {
      pcap_close(retired_);
      retired_ = nullptr;
      return;
    }
    if (n < 0 && handle_ != nullptr) {
      // The interface went away or broke: close, so that the owner's next open() starts
      // afresh instead of polling a dead descriptor.
      RMHA_LOG(Warn, "garp", "pcap read: {}; capture closed", pcap_geterr(handle_));
      close();
      return;
    }
    if (n == 0) {
      return;
    }
  }
}

} // namespace rmha::netlink
