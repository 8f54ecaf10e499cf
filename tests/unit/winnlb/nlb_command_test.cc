#include "winnlb/nlb_command.h"

#include <gtest/gtest.h>

#include "winnlb/nlb_state.h"

namespace rmha::winnlb {
namespace {

constexpr const char* kPsPrefix =
    "$ErrorActionPreference = 'Stop'; Import-Module NetworkLoadBalancingClusters; ";

Command build(NlbControl c, NlbVerb v, const NlbTarget& t) {
  auto cmd = buildNlbCommand(c, v, t);
  EXPECT_TRUE(cmd) << cmd.error();
  return cmd ? cmd.value() : Command{};
}

TEST(NlbCommand, PowerShellQueryGolden) {
  NlbTarget t{.hostName = "RM-NODE1", .interfaceName = "Ethernet 2", .cluster = ""};
  auto cmd = build(NlbControl::PowerShell, NlbVerb::Query, t);
  EXPECT_EQ(cmd.program, "powershell.exe");
  ASSERT_EQ(cmd.args.size(), 6u);
  EXPECT_EQ(cmd.args[5],
            std::string(kPsPrefix) +
                "Get-NlbClusterNode -NodeName 'RM-NODE1' -InterfaceName 'Ethernet 2' | "
                "Select-Object Name,InterfaceName,HostPriority,"
                "@{Name='State';Expression={[string]$_.State}} | ConvertTo-Json -Compress");
  EXPECT_EQ(cmd.commandLine(),
            "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -Command \"" +
                cmd.args[5] + "\"");
}

TEST(NlbCommand, PowerShellControlVerbsGolden) {
  NlbTarget t{.hostName = "", .interfaceName = "vEthernet (NLB)", .cluster = "",
              .drainTimeoutMinutes = 2};
  const std::string iface = " -InterfaceName 'vEthernet (NLB)'";
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::Start, t).args.back(),
            std::string(kPsPrefix) + "Start-NlbClusterNode" + iface + " | Out-Null");
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::Stop, t).args.back(),
            std::string(kPsPrefix) + "Stop-NlbClusterNode" + iface + " | Out-Null");
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::DrainStop, t).args.back(),
            std::string(kPsPrefix) + "Stop-NlbClusterNode" + iface +
                " -Drain -Timeout 2 | Out-Null");
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::Suspend, t).args.back(),
            std::string(kPsPrefix) + "Suspend-NlbClusterNode" + iface + " | Out-Null");
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::Resume, t).args.back(),
            std::string(kPsPrefix) + "Resume-NlbClusterNode" + iface + " | Out-Null");
}

TEST(NlbCommand, PowerShellControlAddressesHostByHostName) {
  NlbTarget t{.hostName = "node2.example.com", .interfaceName = "", .cluster = ""};
  EXPECT_EQ(build(NlbControl::PowerShell, NlbVerb::Start, t).args.back(),
            std::string(kPsPrefix) + "Start-NlbClusterNode -HostName 'node2.example.com' | Out-Null");
}

TEST(NlbCommand, PowerShellQueryWithoutNamesAsksLocalNode) {
  auto cmd = build(NlbControl::PowerShell, NlbVerb::Query, {});
  EXPECT_NE(cmd.args.back().find("Get-NlbClusterNode | Select-Object"), std::string::npos);
}

TEST(NlbCommand, NlbExeVerbsGolden) {
  NlbTarget t{.hostName = "", .interfaceName = "", .cluster = "192.0.2.10"};
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Query, t).commandLine(), "nlb.exe query 192.0.2.10");
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Start, t).commandLine(), "nlb.exe start 192.0.2.10");
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Stop, t).commandLine(), "nlb.exe stop 192.0.2.10");
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::DrainStop, t).commandLine(),
            "nlb.exe drainstop 192.0.2.10");
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Suspend, t).commandLine(),
            "nlb.exe suspend 192.0.2.10");
  EXPECT_EQ(build(NlbControl::WlbsExe, NlbVerb::Resume, t).commandLine(),
            "wlbs.exe resume 192.0.2.10");
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Query, {}).commandLine(), "nlb.exe query");
}

TEST(NlbCommand, NlbExeQuotesClusterNameWithSpace) {
  NlbTarget t{.hostName = "", .interfaceName = "", .cluster = "rm cluster"};
  EXPECT_EQ(build(NlbControl::NlbExe, NlbVerb::Query, t).commandLine(),
            "nlb.exe query \"rm cluster\"");
}

TEST(NlbCommand, RejectsNamesThatCannotBeQuotedSafely) {
  for (const char* bad : {"a'b", "a\"b", "x;Remove-Item", "$env:x", "a`b", "a|b", "a&b", "a%b",
                          "-Force", " lead", "trail ", "caf\xc3\xa9", "a\nb", "a:b", "a\\b"}) {
    SCOPED_TRACE(bad);
    NlbTarget t{.hostName = "", .interfaceName = bad, .cluster = ""};
    auto cmd = buildNlbCommand(NlbControl::PowerShell, NlbVerb::Start, t);
    ASSERT_FALSE(cmd);
    EXPECT_NE(cmd.error().find("nlb-interface"), std::string::npos) << cmd.error();
  }
  NlbTarget longName{.hostName = std::string(256, 'h'), .interfaceName = "", .cluster = ""};
  auto cmd = buildNlbCommand(NlbControl::NlbExe, NlbVerb::Query, longName);
  ASSERT_FALSE(cmd);
  EXPECT_NE(cmd.error().find("nlb-host"), std::string::npos);
}

TEST(NlbCommand, AcceptsUsualWindowsInterfaceNames) {
  for (const char* ok : {"Ethernet", "Ethernet 2", "Local Area Connection #2",
                         "vEthernet (Default Switch)", "NIC_team-1.a"}) {
    EXPECT_EQ(checkNlbName("nlb-interface", ok), std::nullopt) << ok;
  }
}

TEST(NlbCommand, QuoteWindowsArgFollowsMsvcrtRules) {
  EXPECT_EQ(quoteWindowsArg("plain"), "plain");
  EXPECT_EQ(quoteWindowsArg(""), "\"\"");
  EXPECT_EQ(quoteWindowsArg("a b"), "\"a b\"");
  EXPECT_EQ(quoteWindowsArg("a\"b"), "\"a\\\"b\"");
  EXPECT_EQ(quoteWindowsArg("C:\\dir with space\\"), "\"C:\\dir with space\\\\\"");
  EXPECT_EQ(quoteWindowsArg("a\\\\\"b c"), "\"a\\\\\\\\\\\"b c\"");
  EXPECT_EQ(quoteWindowsArg("C:\\no\\space"), "C:\\no\\space");
}

TEST(NlbCommand, ControlNamesRoundTrip) {
  for (auto c : {NlbControl::PowerShell, NlbControl::NlbExe, NlbControl::WlbsExe}) {
    EXPECT_EQ(parseNlbControl(toString(c)), c);
  }
  EXPECT_EQ(parseNlbControl("PowerShell "), std::nullopt);
  EXPECT_EQ(parseNlbControl(""), std::nullopt);
}

TEST(NlbState, WlbsCodesMapToStates) {
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Stopped), NlbNodeState::Stopped);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Converging), NlbNodeState::Converging);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Converged), NlbNodeState::Converged);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::ConvergedDefault), NlbNodeState::ConvergedDefault);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Draining), NlbNodeState::Draining);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Suspended), NlbNodeState::Suspended);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::MediaDisconnected), NlbNodeState::MediaDisconnected);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::Ok), std::nullopt);
  EXPECT_EQ(stateFromWlbsCode(WlbsCode::NotFound), std::nullopt);
}

TEST(NlbState, WlbsCodeFromIntKnowsOnlyDocumentedCodes) {
  for (int v : {1000, 1001, 1002, 1003, 1004, 1005, 1006, 1007, 1008, 1009, 1013, 1014}) {
    auto code = wlbsCodeFromInt(v);
    ASSERT_TRUE(code) << v;
    EXPECT_EQ(static_cast<int>(*code), v);
    EXPECT_NE(toString(*code), "unknown");
  }
  for (int v : {0, -1, 999, 1010, 1011, 1012, 1015, 65535}) {
    EXPECT_EQ(wlbsCodeFromInt(v), std::nullopt) << v;
  }
  EXPECT_EQ(toString(WlbsCode::DrainStop), "drain-stop");
  EXPECT_FALSE(wlbsCodeIsSuccess(WlbsCode::BadParams));
  EXPECT_FALSE(wlbsCodeIsSuccess(WlbsCode::NotFound));
  EXPECT_TRUE(wlbsCodeIsSuccess(WlbsCode::Already));
}

TEST(NlbState, ToStringAndPredicates) {
  EXPECT_EQ(toString(NlbNodeState::ConvergedDefault), "converged-default");
  EXPECT_EQ(toString(NlbNodeState::MediaDisconnected), "media-disconnected");
  EXPECT_TRUE(isConverged(NlbNodeState::ConvergedDefault));
  EXPECT_FALSE(isConverged(NlbNodeState::Converging));
  EXPECT_FALSE(isFitForActive(NlbNodeState::MediaDisconnected));
  EXPECT_TRUE(isFitForActive(NlbNodeState::Stopped));
}

} // namespace
} // namespace rmha::winnlb
