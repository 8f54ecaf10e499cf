#include "netlink/link_message.h"

#include <cstring>

#include <fmt/format.h>
#include <sys/socket.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

namespace rmha::netlink {
namespace {

// A bounds-checked walk over a run of rtattr. Every length is checked against what is left
// before it is used, so a hostile or truncated message can never make us read past the end.
template <typename F>
void forEachAttr(const std::uint8_t* p, std::size_t len, F&& f) {
  while (len >= sizeof(rtattr)) {
    rtattr a;
    std::memcpy(&a, p, sizeof a);
    if (a.rta_len < sizeof(rtattr) || a.rta_len > len) {
      return;
    }
    f(a.rta_type & NLA_TYPE_MASK, p + RTA_LENGTH(0), a.rta_len - RTA_LENGTH(0));
    const std::size_t step = RTA_ALIGN(a.rta_len);
    if (step >= len) {
      return;
    }
    p += step;
    len -= step;
  }
}

template <typename T>
std::optional<T> readScalar(const std::uint8_t* p, std::size_t len) {
  if (len < sizeof(T)) {
    return std::nullopt;
  }
  T v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

std::string readString(const std::uint8_t* p, std::size_t len) {
  const void* nul = std::memchr(p, '\0', len);
  const std::size_t n = nul ? static_cast<std::size_t>(static_cast<const std::uint8_t*>(nul) - p) : len;
  return std::string(reinterpret_cast<const char*>(p), n);
}

void parseInfoData(LinkMessage& m, const std::uint8_t* p, std::size_t len, bool slave) {
  forEachAttr(p, len, [&](unsigned type, const std::uint8_t* v, std::size_t vlen) {
    if (!slave && m.kind == "bond" && type == IFLA_BOND_ACTIVE_SLAVE) {
      if (auto idx = readScalar<std::uint32_t>(v, vlen)) {
        m.bondActiveSlave = static_cast<int>(*idx);
      }
    } else if (slave && m.slaveKind == "bond" && type == IFLA_BOND_SLAVE_STATE) {
      m.bondSlaveState = readScalar<std::uint8_t>(v, vlen);
    }
  });
}

void parseLinkInfo(LinkMessage& m, const std::uint8_t* p, std::size_t len) {
  // IFLA_INFO_KIND precedes IFLA_INFO_DATA in what the kernel sends, but do not rely on it.
  forEachAttr(p, len, [&](unsigned type, const std::uint8_t* v, std::size_t vlen) {
    if (type == IFLA_INFO_KIND) {
      m.kind = readString(v, vlen);
    } else if (type == IFLA_INFO_SLAVE_KIND) {
      m.slaveKind = readString(v, vlen);
    }
  });
  forEachAttr(p, len, [&](unsigned type, const std::uint8_t* v, std::size_t vlen) {
    if (type == IFLA_INFO_DATA) {
      parseInfoData(m, v, vlen, false);
    } else if (type == IFLA_INFO_SLAVE_DATA) {
      parseInfoData(m, v, vlen, true);
    }
  });
}

} // namespace

bool LinkMessage::adminUp() const { return (flags & IFF_UP) != 0; }

bool LinkMessage::lowerUp() const {
  if ((flags & IFF_RUNNING) == 0) {
    return false;
  }
  // IF_OPER_UNKNOWN is what drivers without operstate support report on a working link.
  return !operstate || *operstate == IF_OPER_UP || *operstate == IF_OPER_UNKNOWN;
}

std::string formatMac(const std::uint8_t* bytes, std::size_t len) {
  std::string out;
  for (std::size_t i = 0; i < len; ++i) {
    if (i != 0) {
      out += ':';
    }
    out += fmt::format("{:02x}", bytes[i]);
  }
  return out;
}

std::optional<LinkMessage> parseLinkMessage(const nlmsghdr* hdr, std::size_t available) {
  if (available < sizeof(nlmsghdr)) {
    return std::nullopt;
  }
  nlmsghdr h;
  std::memcpy(&h, hdr, sizeof h);
  if (h.nlmsg_len > available || h.nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg)) ||
      (h.nlmsg_type != RTM_NEWLINK && h.nlmsg_type != RTM_DELLINK)) {
    return std::nullopt;
  }
  const auto* base = reinterpret_cast<const std::uint8_t*>(hdr);
  ifinfomsg ifi;
  std::memcpy(&ifi, base + NLMSG_HDRLEN, sizeof ifi);
  LinkMessage m;
  m.removed = h.nlmsg_type == RTM_DELLINK;
  m.family = ifi.ifi_family;
  m.ifindex = ifi.ifi_index;
  m.flags = ifi.ifi_flags;
  const std::size_t off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(ifinfomsg)));
  if (off > h.nlmsg_len) {
    return m;
  }
  forEachAttr(base + off, h.nlmsg_len - off, [&](unsigned type, const std::uint8_t* v, std::size_t vlen) {
    switch (type) {
    case IFLA_IFNAME: m.name = readString(v, vlen); break;
    case IFLA_ADDRESS: m.mac = formatMac(v, vlen); break;
    case IFLA_OPERSTATE: m.operstate = readScalar<std::uint8_t>(v, vlen); break;
    case IFLA_MASTER: m.master = static_cast<int>(readScalar<std::uint32_t>(v, vlen).value_or(0)); break;
    case IFLA_LINKINFO: parseLinkInfo(m, v, vlen); break;
    default: break;
    }
  });
  return m;
}

NetlinkBatch parseNetlinkDatagram(const void* data, std::size_t len) {
  NetlinkBatch batch;
  const auto* p = static_cast<const std::uint8_t*>(data);
  while (len >= sizeof(nlmsghdr)) {
    nlmsghdr h;
    std::memcpy(&h, p, sizeof h);
    if (h.nlmsg_len < sizeof(nlmsghdr) || h.nlmsg_len > len) {
      ++batch.malformed;
      break;
    }
    if ((h.nlmsg_flags & NLM_F_DUMP_INTR) != 0) {
      batch.interruptedSeqs.push_back(h.nlmsg_seq);
    }
    if (h.nlmsg_type == NLMSG_DONE) {
      batch.doneSeqs.push_back(h.nlmsg_seq);
    } else if (h.nlmsg_type == NLMSG_ERROR) {
      if (h.nlmsg_len >= NLMSG_LENGTH(sizeof(int))) {
        int err = 0;
        std::memcpy(&err, p + NLMSG_HDRLEN, sizeof err);
        if (err != 0) {
          batch.errors.emplace_back(h.nlmsg_seq, err);
        }
      }
    } else if (h.nlmsg_type == RTM_NEWLINK || h.nlmsg_type == RTM_DELLINK) {
      if (auto m = parseLinkMessage(reinterpret_cast<const nlmsghdr*>(p), h.nlmsg_len)) {
        if (m->family == AF_UNSPEC) {
          batch.links.push_back(std::move(*m));
        }
      } else {
        ++batch.malformed;
      }
    }
    const std::size_t step = NLMSG_ALIGN(h.nlmsg_len);
    if (step >= len) {
      break;
    }
    p += step;
    len -= step;
  }
  return batch;
}

bool sendLinkDumpRequest(int fd, std::uint32_t seq) {
  struct {
    nlmsghdr hdr;
    ifinfomsg ifi;
  } req{};
  req.hdr.nlmsg_len = NLMSG_LENGTH(sizeof(ifinfomsg));
  req.hdr.nlmsg_type = RTM_GETLINK;
  req.hdr.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  req.hdr.nlmsg_seq = seq;
  req.ifi.ifi_family = AF_UNSPEC;
  sockaddr_nl kernel{};
  kernel.nl_family = AF_NETLINK;
  return ::sendto(fd, &req, req.hdr.nlmsg_len, 0, reinterpret_cast<sockaddr*>(&kernel),
                  sizeof kernel) >= 0;
}

} // namespace rmha::netlink
