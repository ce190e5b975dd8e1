#include "workflows/compare.h"

#include <gtest/gtest.h>

namespace fleet::workflows {
namespace {

using Json = nlohmann::json;

Json Workflow() {
  return Json{{"name", "Billing"},
              {"nodes", Json::array({{{"name", "Start"}, {"parameters", {{"a", 1}}}},
                                     {{"name", "Set"}, {"parameters", {{"b", 2}}}}})},
              {"connections", {{"Start", {{"main", Json::array()}}}}},
              {"settings", {{"executionOrder", "v1"}}}};
}

TEST(CompareTest, EqualWorkflowsHaveNoDifferenceWhateverTheBookkeeping) {
  Json local = Workflow();
  Json remote = Workflow();
  remote["id"] = "abc";
  remote["active"] = true;
  remote["updatedAt"] = "2026-11-20T08:15:02.123Z";
  remote["settings"]["binaryMode"] = "separate";  // n8n reports it; push never sends it
  remote["staticData"] = nullptr;
  EXPECT_TRUE(DiffWorkflows(local, remote).empty());
  EXPECT_TRUE(SameWorkflow(local, remote));
}

TEST(CompareTest, EmptySettingsEqualAbsentOnes) {
  Json local = Workflow();
  local.erase("settings");
  Json remote = Workflow();
  remote["settings"] = Json::object();
  EXPECT_TRUE(SameWorkflow(local, remote));
}

TEST(CompareTest, ShowsTheChangedSectionAsAUnifiedDiff) {
  Json local = Workflow();
  local["nodes"][1]["parameters"]["b"] = 3;
  Json remote = Workflow();

  auto diffs = DiffWorkflows(local, remote);

  ASSERT_EQ(diffs.size(), 1u);
  EXPECT_EQ(diffs[0].section, "nodes");
  EXPECT_FALSE(SameWorkflow(local, remote));
  std::vector<std::string> changes;
  for (const auto& line : diffs[0].lines) {
    if (line[0] == '-' || line[0] == '+') changes.push_back(line);
  }
  EXPECT_EQ(changes, (std::vector<std::string>{"-       \"b\": 2", "+       \"b\": 3"}));
  EXPECT_EQ(diffs[0].lines.front().rfind("@@ -", 0), 0u);
}

TEST(CompareTest, NameAndSettingsAreSectionsToo) {
  Json local = Workflow();
  local["name"] = "Billing v2";
  local["settings"]["timezone"] = "Europe/Berlin";
  auto diffs = DiffWorkflows(local, Workflow());
  ASSERT_EQ(diffs.size(), 2u);
  EXPECT_EQ(diffs[0].section, "name");
  EXPECT_EQ(diffs[0].lines,
            (std::vector<std::string>{"@@ -1 +1 @@", "- \"Billing\"", "+ \"Billing v2\""}));
  EXPECT_EQ(diffs[1].section, "settings");
}

TEST(CompareTest, DiffLinesKeepsContextAndSplitsHunks) {
  std::vector<std::string> from;
  for (int i = 1; i <= 20; ++i) from.push_back("l" + std::to_string(i));
  std::vector<std::string> to = from;
  to[1] = "x2";    // line 2
  to[17] = "x18";  // line 18
  auto lines = DiffLines(from, to, 1);
  EXPECT_EQ(lines, (std::vector<std::string>{"@@ -1 +1 @@", "  l1", "- l2", "+ x2", "  l3",
                                             "@@ -17 +17 @@", "  l17", "- l18", "+ x18", "  l19"}));
  EXPECT_TRUE(DiffLines(from, from).empty());
}

TEST(CompareTest, InsertionsAndDeletionsAlign) {
  std::vector<std::string> from = {"a", "b", "c", "d"};
  std::vector<std::string> to = {"a", "c", "d", "e"};
  auto lines = DiffLines(from, to, 0);
  EXPECT_EQ(lines, (std::vector<std::string>{"@@ -2 +2 @@", "- b", "@@ -5 +4 @@", "+ e"}));
}

}  // namespace
}  // namespace fleet::workflows
