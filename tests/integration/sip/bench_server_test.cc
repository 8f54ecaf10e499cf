// Not a test: the resource manager as a standalone process for scripts/bench-sip.
// Disabled in normal runs; the benchmark starts it with
//   RMHA_SIP_BENCH_CONFIG=rm.conf integration_sip --gtest_also_run_disabled_tests
//       --gtest_filter=SipBenchServer.DISABLED_Serve
// It serves until SIGTERM or SIGINT, then prints its counters.
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <gtest/gtest.h>

#include "core/log.h"
#include "tests/integration/sip/sipp_rig.h"

namespace rmha::test {
namespace {

TEST(SipBenchServer, DISABLED_Serve) {
  const char* path = std::getenv("RMHA_SIP_BENCH_CONFIG");
  ASSERT_NE(path, nullptr) << "set RMHA_SIP_BENCH_CONFIG to an INI file with [sip]";
  core::Log::setLevel(core::LogLevel::Warn);
  auto doc = core::IniDocument::load(path);
  core::ConfigIssues issues(path);
  const auto cfg = core::sip::parseSipConfig(doc, issues);
  ASSERT_TRUE(issues.empty()) << issues.all().front().format();
  // Block the signals before the io thread exists, then wait for them here.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  SipRig rig(cfg);
  ASSERT_FALSE(rig.startError()) << rig.startError().message();
  rig.service().setSessionObserver(nullptr);  // measure the proxy, not the test's waiter
  rig.service().startServing();
  std::cout << "rmha-sip ready on port " << rig.port() << std::endl;
  int sig = 0;
  sigwait(&set, &sig);
  std::cout << rig.service().statusJson().dump() << std::endl;
}

} // namespace
} // namespace rmha::test
