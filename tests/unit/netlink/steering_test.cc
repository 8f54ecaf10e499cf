#include <boost/asio/io_context.hpp>
#include <gtest/gtest.h>

#include "netlink/no_steering.h"
#include "netlink/vip_steering.h"
#include "tests/fakes/fake_clock.h"

namespace rmha::netlink {
namespace {

using namespace std::chrono_literals;

TEST(NoSteering, AcquireSucceedsWithoutReentrancy) {
  boost::asio::io_context io;
  NoSteering steering(io.get_executor());
  int calls = 0;
  std::error_code got = make_error_code(SteeringError::Busy);
  steering.acquire([&](std::error_code ec) {
    ++calls;
    got = ec;
  });
  EXPECT_EQ(calls, 0);
  io.run();
  EXPECT_EQ(calls, 1);
  EXPECT_FALSE(got);
  steering.release();
  steering.reassert();
  steering.clearStale();
  EXPECT_EQ(steering.describe(), "no traffic steering");
}

VipOptions good() {
  VipOptions o;
  o.address = "192.0.2.10";
  o.prefixLength = 24;
  o.interfaceName = "eth0";
  return o;
}

TEST(VipOptions, DefaultsWithAddressAndInterfaceAreValid) { EXPECT_EQ(validate(good()), ""); }

TEST(VipOptions, RangesAreChecked) {
  auto o = good();
  o.address = "2001:db8::1";
  EXPECT_NE(validate(o), "");
  o = good();
  o.prefixLength = 33;
  EXPECT_NE(validate(o), "");
  o = good();
  o.interfaceName = "a-very-long-interface-name";
  EXPECT_NE(validate(o), "");
  o = good();
  o.renewInterval = o.lifetime;
  EXPECT_NE(validate(o), "");
  o = good();
  o.garpCount = 101;
  EXPECT_NE(validate(o), "");
  o = good();
  o.garpRefresh = 10ms;
  EXPECT_NE(validate(o), "");
  o = good();
  o.peerAddresses = {"192.0.2.12", "peer"};
  EXPECT_NE(validate(o), "");
  o.peerAddresses = {"192.0.2.12", "198.51.100.12"};
  EXPECT_EQ(validate(o), "");
}

TEST(VipSteering, BadOptionsFailAcquireWithoutTouchingTheSystem) {
  boost::asio::io_context io;
  rmha::test::FakeClock clock;
  auto o = good();
  o.address = "not-an-address";
  VipSteering steering(io, o, clock);
  std::error_code got;
  steering.acquire([&](std::error_code ec) { got = ec; });
  io.run();
  EXPECT_EQ(got, make_error_code(SteeringError::BadOptions));
  EXPECT_FALSE(steering.owned());
  steering.release();  // nothing prepared: nothing to do, no crash
}

TEST(SteeringError, HasReadableMessages) {
  EXPECT_EQ(std::error_code(SteeringError::AddressConflict).category().name(),
            std::string("rmha.steering"));
  EXPECT_FALSE(std::error_code(SteeringError::AddressConflict).message().empty());
}

} // namespace
} // namespace rmha::netlink
