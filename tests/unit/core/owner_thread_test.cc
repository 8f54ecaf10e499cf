#include "core/owner_thread.h"

#include <thread>

#include <gtest/gtest.h>

namespace rmha::core {
namespace {

TEST(OwnerThread, TheFirstCallerOwnsItAndNoOtherThreadDoes) {
  OwnerThread owner;
  EXPECT_TRUE(owner.owned());
  EXPECT_TRUE(owner.owned());
  bool elsewhere = true;
  std::thread other([&] { elsewhere = owner.owned(); });
  other.join();
  EXPECT_FALSE(elsewhere);
  EXPECT_TRUE(owner.owned());
}

TEST(OwnerThread, AnotherThreadCanBeTheOwner) {
  OwnerThread owner;
  bool first = false;
  std::thread other([&] { first = owner.owned(); });
  other.join();
  EXPECT_TRUE(first);
  EXPECT_FALSE(owner.owned());
}

} // namespace
} // namespace rmha::core
