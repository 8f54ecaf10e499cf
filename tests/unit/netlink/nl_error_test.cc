#include "netlink/nl_error.h"
#include "netlink/nl_ptr.h"

#include <gtest/gtest.h>
#include <netlink/errno.h>

namespace rmha::netlink {
namespace {

TEST(NlError, SuccessIsNoError) {
  EXPECT_FALSE(makeNlError(0));
  EXPECT_FALSE(makeNlError(12));
}

TEST(NlError, NegativeCodeBecomesNamedError) {
  const auto ec = makeNlError(-NLE_EXIST);
  ASSERT_TRUE(ec);
  EXPECT_EQ(ec.category().name(), std::string("libnl"));
  EXPECT_TRUE(isNlError(ec, NLE_EXIST));
  EXPECT_TRUE(isNlError(ec, -NLE_EXIST));
  EXPECT_FALSE(ec.message().empty());
  EXPECT_EQ(ec, std::errc::file_exists);
}

TEST(NlError, UnmappedCodeKeepsItsOwnCondition) {
  const auto ec = makeNlError(-NLE_MSG_TRUNC);
  EXPECT_TRUE(isNlError(ec, NLE_MSG_TRUNC));
  EXPECT_NE(ec, std::errc::file_exists);
}

TEST(NlPtr, ReleasesObjectsOnScopeExit) {
  // Runs clean under LeakSanitizer only if every deleter releases its object.
  NlSockPtr sock(nl_socket_alloc());
  ASSERT_TRUE(sock);
  RtnlLinkPtr link(rtnl_link_alloc());
  ASSERT_TRUE(link);
  RtnlAddrPtr addr(rtnl_addr_alloc());
  ASSERT_TRUE(addr);
  NlMsgPtr msg(nlmsg_alloc());
  ASSERT_TRUE(msg);
  NlAddrPtr a(nl_addr_build(AF_INET, "\xc0\x00\x02\x0a", 4));
  ASSERT_TRUE(a);
}

} // namespace
} // namespace rmha::netlink
