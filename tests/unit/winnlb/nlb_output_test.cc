#include "winnlb/nlb_output.h"

#include <string>

#include <gtest/gtest.h>

namespace rmha::winnlb {
namespace {

TEST(NlbStateName, KnownNamesAndCodes) {
  struct Row { const char* text; NlbNodeState state; };
  for (const auto& r : {Row{"Converged", NlbNodeState::Converged},
                        Row{"converged(default)", NlbNodeState::ConvergedDefault},
                        Row{"Converged (Default)", NlbNodeState::ConvergedDefault},
                        Row{"ConvergedDefault", NlbNodeState::ConvergedDefault},
                        Row{"CONVERGING", NlbNodeState::Converging},
                        Row{"Draining", NlbNodeState::Draining},
                        Row{" Stopped ", NlbNodeState::Stopped},
                        Row{"Suspended", NlbNodeState::Suspended},
                        Row{"MediaDisconnected", NlbNodeState::MediaDisconnected},
                        Row{"media disconnected", NlbNodeState::MediaDisconnected},
                        Row{"Unknown", NlbNodeState::Unknown},
                        Row{"1007", NlbNodeState::Converged},
                        Row{"1014", NlbNodeState::MediaDisconnected}}) {
    auto s = parseStateName(r.text);
    ASSERT_TRUE(s) << r.text << ": " << s.error();
    EXPECT_EQ(s.value(), r.state) << r.text;
  }
  for (const char* bad : {"", "Convergedx", "1000", "1003", "99999999999999999999", "\x01\xff"}) {
    auto s = parseStateName(bad);
    EXPECT_FALSE(s) << bad;
    EXPECT_NE(s.error().find("unknown NLB node state"), std::string::npos);
  }
}

TEST(NlbNodeJson, SingleObject) {
  auto st = parseNodeJson(
      R"({"Name":"RM-NODE1","InterfaceName":"Ethernet 2","HostPriority":1,"State":"Converged"})",
      "rm-node1");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->state, NlbNodeState::Converged);
  EXPECT_EQ(st->name, "RM-NODE1");
  EXPECT_EQ(st->interfaceName, "Ethernet 2");
  EXPECT_EQ(st->hostPriority, 1);
  EXPECT_EQ(st->reported, "Converged");
}

TEST(NlbNodeJson, ArrayPicksOurNodeByShortOrFullName) {
  const std::string json =
      "\xEF\xBB\xBF[{\"Name\":\"node1.example.com\",\"State\":\"Converged(default)\"},"
      "{\"Name\":\"node2.example.com\",\"State\":\"Stopped\"}]\r\n";
  auto st = parseNodeJson(json, "NODE2");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->state, NlbNodeState::Stopped);
  auto first = parseNodeJson(json, "node1.example.com");
  ASSERT_TRUE(first) << first.error();
  EXPECT_EQ(first->state, NlbNodeState::ConvergedDefault);
  EXPECT_FALSE(parseNodeJson(json, "node3"));
  EXPECT_FALSE(parseNodeJson(json, "node1.other.org"));
  auto noName = parseNodeJson(json, "");
  ASSERT_FALSE(noName);
  EXPECT_NE(noName.error().find("nlb-host"), std::string::npos);
}

TEST(NlbNodeJson, SingleElementArrayNeedsNoName) {
  auto st = parseNodeJson(R"([{"Name":"n","State":"Draining"}])", "");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->state, NlbNodeState::Draining);
}

TEST(NlbNodeJson, NumericStateAndUnknownState) {
  auto code = parseNodeJson(R"({"Name":"n","State":1006})", "n");
  ASSERT_TRUE(code);
  EXPECT_EQ(code->state, NlbNodeState::Converging);
  auto odd = parseNodeJson(R"({"Name":"n","State":"Misconfigured"})", "n");
  ASSERT_TRUE(odd);
  EXPECT_EQ(odd->state, NlbNodeState::Unknown);
  EXPECT_EQ(odd->reported, "Misconfigured");
  auto num = parseNodeJson(R"({"Name":"n","State":3})", "n");
  ASSERT_TRUE(num);
  EXPECT_EQ(num->state, NlbNodeState::Unknown);
}

TEST(NlbNodeJson, MissingFieldsAndWrongTypes) {
  auto noState = parseNodeJson(R"({"Name":"n"})", "n");
  ASSERT_FALSE(noState);
  EXPECT_NE(noState.error().find("no State"), std::string::npos);
  EXPECT_FALSE(parseNodeJson(R"({"Name":"n","State":null})", "n"));
  EXPECT_FALSE(parseNodeJson(R"({"Name":"n","State":{"a":1}})", "n"));
  EXPECT_FALSE(parseNodeJson(R"({"Name":"n","State":1.5})", "n"));
  auto st = parseNodeJson(R"({"State":"Stopped","HostPriority":"x","Name":7})", "");
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->name, "");
  EXPECT_EQ(st->hostPriority, 0);
  auto other = parseNodeJson(R"({"Name":"someone-else","State":"Converged"})", "me");
  ASSERT_FALSE(other);
  EXPECT_NE(other.error().find("someone-else"), std::string::npos);
}

TEST(NlbNodeJson, GarbageGivesErrorsNotCrashes) {
  for (const std::string& bad :
       {std::string(""), std::string("   \r\n"), std::string("Get-NlbClusterNode : The term"),
        std::string("{\"Name\":"), std::string("[1,2,3]"), std::string("[[]]"),
        std::string("\"Converged\""), std::string("42"), std::string("null"), std::string("[]"),
        std::string("{\"State\":\"Converged\"}{"), std::string(5000, '['),
        std::string("[{\"Name\":\"a\",\"State\":\"Converged\"},null]"),
        std::string("\xff\xfe{\x00}", 5)}) {
    auto st = parseNodeJson(bad, "a");
    if (bad.rfind("[{\"Name\":\"a\"", 0) == 0) {
      EXPECT_TRUE(st) << st.error();  // the null entry is skipped: ours is found
      continue;
    }
    EXPECT_FALSE(st) << bad.substr(0, 40);
    EXPECT_FALSE(st.error().empty());
  }
  EXPECT_FALSE(parseNodeJson(std::string((1 << 20) + 1, ' '), "a"));
}

TEST(NlbQueryText, ConvergedAsDefault) {
  const char* text =
      "WLBS Cluster Control Utility V2.6 (c) 1997-2007 Microsoft Corporation.\r\n"
      "Cluster 192.0.2.10\r\n"
      "Host 1 has entered a converging state 3 time(s) since joining the cluster\r\n"
      "  and the last convergence completed at approximately: 2/2/2026 2:54:00 PM\r\n"
      "Host 1 converged as DEFAULT with the following host(s) as part of the cluster:\r\n"
      "1, 2\r\n";
  auto st = parseQueryText(text);
  ASSERT_TRUE(st) << st.error();
  EXPECT_EQ(st->state, NlbNodeState::ConvergedDefault);
  EXPECT_EQ(st->hostId, 1);
}

TEST(NlbQueryText, EachState) {
  struct Row { const char* line; NlbNodeState state; };
  for (const auto& r :
       {Row{"Host 2 converged with the following host(s) as part of the cluster:\n1, 2",
            NlbNodeState::Converged},
        Row{"Host 2 is converging with the following host(s) as part of the cluster:",
            NlbNodeState::Converging},
        Row{"Host 2 is stopped and does not know convergence state of the cluster.",
            NlbNodeState::Stopped},
        Row{"Host 2 is draining existing connections.", NlbNodeState::Draining},
        Row{"Host 2 converged as DEFAULT and is draining existing connections.",
            NlbNodeState::Draining},
        Row{"Host 2 cluster operations are suspended.", NlbNodeState::Suspended},
        Row{"Host 2 reports that the network adapter is media disconnected.",
            NlbNodeState::MediaDisconnected}}) {
    std::string text = std::string("Cluster 192.0.2.10\n") + r.line + "\n";
    auto st = parseQueryText(text);
    ASSERT_TRUE(st) << r.line << ": " << st.error();
    EXPECT_EQ(st->state, r.state) << r.line;
    EXPECT_EQ(st->hostId, 2) << r.line;
  }
}

TEST(NlbQueryText, NothingUsable) {
  for (const char* bad : {"", "\n\n", "Did not receive response from the load balancing driver.",
                          "Host 1 has entered a converging state 3 time(s)",
                          "WLBS Cluster Control Utility\r\nCluster 192.0.2.10"}) {
    auto st = parseQueryText(bad);
    EXPECT_FALSE(st) << bad;
    EXPECT_NE(st.error().find("no host state"), std::string::npos);
  }
  auto huge = parseQueryText(std::string(5, 'x') + "Host 99999999999999999999 converged");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->hostId, 0);
}

Command queryCmd(NlbControl control) {
  return buildNlbCommand(control, NlbVerb::Query, {}).value();
}

TEST(NlbQueryResult, PowerShellExitCodeAndLaunchFailure) {
  const auto ps = queryCmd(NlbControl::PowerShell);
  CommandResult failed{.launchError = {}, .exitCode = 1, .out = "",
                       .err = "Get-NlbClusterNode : The term is not recognized\r\nmore"};
  auto st = parseQueryResult(ps, failed, "n");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error(), "powershell.exe exited with 1: Get-NlbClusterNode : The term is not "
                        "recognized");
  CommandResult noLaunch{.launchError = std::make_error_code(std::errc::no_such_file_or_directory),
                         .exitCode = -1, .out = "", .err = ""};
  auto nl = parseQueryResult(ps, noLaunch, "n");
  ASSERT_FALSE(nl);
  EXPECT_NE(nl.error().find("could not run powershell.exe"), std::string::npos);
  CommandResult good{.launchError = {}, .exitCode = 0, .out = R"({"Name":"n","State":"Stopped"})",
                     .err = ""};
  auto ok = parseQueryResult(ps, good, "n");
  ASSERT_TRUE(ok) << ok.error();
  EXPECT_EQ(ok->state, NlbNodeState::Stopped);
}

TEST(NlbQueryResult, NlbExeTextFirstThenExitCode) {
  const auto exe = queryCmd(NlbControl::NlbExe);
  CommandResult text{.launchError = {}, .exitCode = 1005,
                     .out = "Host 1 converged with the following host(s)", .err = ""};
  auto st = parseQueryResult(exe, text, "");
  ASSERT_TRUE(st);
  EXPECT_EQ(st->state, NlbNodeState::Converged);  // the text wins over the code
  CommandResult codeOnly{.launchError = {}, .exitCode = 1013, .out = "", .err = ""};
  auto byCode = parseQueryResult(exe, codeOnly, "");
  ASSERT_TRUE(byCode) << byCode.error();
  EXPECT_EQ(byCode->state, NlbNodeState::Suspended);
  EXPECT_EQ(byCode->reported, "1013 (suspended)");
  CommandResult notFound{.launchError = {}, .exitCode = 1004, .out = "Cluster not found",
                         .err = ""};
  auto nf = parseQueryResult(exe, notFound, "");
  ASSERT_FALSE(nf);
  EXPECT_NE(nf.error().find("1004 (not-found)"), std::string::npos);
  CommandResult garbage{.launchError = {}, .exitCode = 0, .out = "\x01\x02garbage", .err = ""};
  EXPECT_FALSE(parseQueryResult(exe, garbage, ""));
}

TEST(NlbFirstLine, TrimsCutsAndSanitises) {
  EXPECT_EQ(firstLine("  \r\n hello \x01world\r\nsecond"), "hello ?world");
  EXPECT_EQ(firstLine(std::string(300, 'a'), 10), "aaaaaaaaaa");
  EXPECT_EQ(firstLine(""), "");
}

} // namespace
} // namespace rmha::winnlb
