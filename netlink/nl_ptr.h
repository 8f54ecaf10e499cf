#pragma once
// unique_ptr ownership for libnl objects. libnl objects are reference counted; every *_alloc
// and every getter that documents "reference is taken" must be balanced by its *_put, or
// LeakSanitizer reports them. Holding them here makes every exit path release them.
#include <memory>

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/msg.h>
#include <netlink/socket.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>

namespace rmha::netlink {

struct NlSockDeleter {
  void operator()(nl_sock* p) const { nl_socket_free(p); }
};
struct NlMsgDeleter {
  void operator()(nl_msg* p) const { nlmsg_free(p); }
};
struct NlAddrDeleter {
  void operator()(nl_addr* p) const { nl_addr_put(p); }
};
struct NlCacheDeleter {
  void operator()(nl_cache* p) const { nl_cache_free(p); }
};
struct RtnlLinkDeleter {
  void operator()(rtnl_link* p) const { rtnl_link_put(p); }
};
struct RtnlAddrDeleter {
  void operator()(rtnl_addr* p) const { rtnl_addr_put(p); }
};

using NlSockPtr = std::unique_ptr<nl_sock, NlSockDeleter>;
using NlMsgPtr = std::unique_ptr<nl_msg, NlMsgDeleter>;
using NlAddrPtr = std::unique_ptr<nl_addr, NlAddrDeleter>;
using NlCachePtr = std::unique_ptr<nl_cache, NlCacheDeleter>;
using RtnlLinkPtr = std::unique_ptr<rtnl_link, RtnlLinkDeleter>;
using RtnlAddrPtr = std::unique_ptr<rtnl_addr, RtnlAddrDeleter>;

} // namespace rmha::netlink
