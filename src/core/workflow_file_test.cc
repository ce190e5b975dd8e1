#include "core/workflow_file.h"

#include <string>

#include <gtest/gtest.h>

namespace fleet {
namespace {

using Json = nlohmann::json;

TEST(CanonicalWorkflowJsonTest, SortsKeysAtEveryLevelWithTwoSpacesAndANewline) {
  Json workflow = Json::parse(R"({"name":"B","nodes":[{"type":"t","id":"n1"}],"active":true,
                                  "settings":{"timezone":"UTC","executionOrder":"v1"}})");

  EXPECT_EQ(CanonicalWorkflowJson(workflow),
            "{\n"
            "  \"active\": true,\n"
            "  \"name\": \"B\",\n"
            "  \"nodes\": [\n"
            "    {\n"
            "      \"id\": \"n1\",\n"
            "      \"type\": \"t\"\n"
            "    }\n"
            "  ],\n"
            "  \"settings\": {\n"
            "    \"executionOrder\": \"v1\",\n"
            "    \"timezone\": \"UTC\"\n"
            "  }\n"
            "}\n");
}

TEST(CanonicalWorkflowJsonTest, IsStableWhateverTheInputOrderAndSpacing) {
  Json a = Json::parse(R"({"b":{"y":1,"x":[1.5,"é",null]},"a":false})");
  Json b = Json::parse(
      "{ \"a\" : false,\n \"b\" : { \"x\" : [ 1.5, \"\xC3\xA9\", null ], \"y\" : 1 } }");

  std::string text = CanonicalWorkflowJson(a);

  EXPECT_EQ(text, CanonicalWorkflowJson(b));
  EXPECT_EQ(CanonicalWorkflowJson(Json::parse(text)), text);  // a round trip changes nothing
  EXPECT_NE(text.find("\"\xC3\xA9\""), std::string::npos);    // UTF-8 kept, not \u-escaped
}

TEST(CanonicalWorkflowJsonTest, ReplacesInvalidUtf8InsteadOfThrowing) {
  Json workflow = {{"name", std::string("bad \xFF byte")}};

  EXPECT_EQ(CanonicalWorkflowJson(workflow), "{\n  \"name\": \"bad \xEF\xBF\xBD byte\"\n}\n");
}

TEST(WorkflowSlugTest, LowerCasesAndJoinsRunsWithOneDash) {
  EXPECT_EQ(WorkflowSlug("Billing: Daily (EU)"), "billing-daily-eu");
  EXPECT_EQ(WorkflowSlug("  --Sync_CRM v2--  "), "sync-crm-v2");
  EXPECT_EQ(WorkflowSlug("Grüße an Zoë"), "gr-e-an-zo");
  EXPECT_EQ(WorkflowSlug("ABC123"), "abc123");
}

TEST(WorkflowSlugTest, FallsBackToWorkflowWhenNothingIsLeft) {
  EXPECT_EQ(WorkflowSlug(""), "workflow");
  EXPECT_EQ(WorkflowSlug("!!! ???"), "workflow");
  EXPECT_EQ(WorkflowSlug("日本語"), "workflow");
}

TEST(WorkflowSlugTest, KeepsAtMostEightyCharactersAndNoTrailingDash) {
  EXPECT_EQ(WorkflowSlug(std::string(100, 'a')), std::string(80, 'a'));
  std::string slug = WorkflowSlug(std::string(79, 'a') + " b");
  EXPECT_EQ(slug, std::string(79, 'a'));
  slug = WorkflowSlug(std::string(78, 'a') + " bcd");
  EXPECT_EQ(slug, std::string(78, 'a') + "-b");
  EXPECT_EQ(slug.size(), 80u);
}

TEST(SafeFlowPathTest, JoinsAPlainFileNameToTheDirectory) {
  EXPECT_EQ(*SafeFlowPath("flows/acme", "billing.json"), "flows/acme/billing.json");
  EXPECT_EQ(*SafeFlowPath("flows/acme/", "billing.json"), "flows/acme/billing.json");
  EXPECT_EQ(*SafeFlowPath("flows", "a..b.json"), "flows/a..b.json");
}

TEST(SafeFlowPathTest, RejectsNamesThatLeaveTheDirectory) {
  for (std::string bad :
       {std::string(""), std::string("."), std::string(".."), std::string("/etc/passwd"),
        std::string("../x.json"), std::string("sub/x.json"), std::string("..\\x.json"),
        std::string("x\0.json", 7)}) {
    Result<std::string> path = SafeFlowPath("flows", bad);
    ASSERT_FALSE(path.has_value()) << bad;
    EXPECT_EQ(path.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(path.error().message.find("workflow file name '"), std::string::npos);
  }
}

TEST(SafeFlowPathTest, MessageNamesTheFileAndEscapesControlBytes) {
  EXPECT_NE(SafeFlowPath("flows", "../x.json").error().message.find("'../x.json'"),
            std::string::npos);
  EXPECT_NE(SafeFlowPath("flows", std::string("x\0y", 3)).error().message.find("'x\\x00y'"),
            std::string::npos);
}

}  // namespace
}  // namespace fleet
