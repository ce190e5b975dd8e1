// Store contract: local workflows (`wf`) and their ids on each server. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

LocalWorkflow MakeWorkflow(const std::string& name, int64_t id = 0) {
  LocalWorkflow workflow;
  workflow.id = id;
  workflow.name = name;
  workflow.file = "/work/flows/" + name + ".json";
  workflow.file_sha256 = std::string(60, 'f') + (name + "0000").substr(0, 4);
  return workflow;
}

WorkflowMapping MakeMapping(const std::string& server, const std::string& remote_id,
                            const std::string& action = "pull", int64_t at = 1760000100) {
  return WorkflowMapping{server, remote_id,
                         "2026-03-0" + remote_id.substr(remote_id.size() - 1) + "T10:00:00.000Z",
                         action, at};
}

// "name: server=remote_id/action ..." for every local workflow, in the order listed.
std::vector<std::string> Mappings(Store& store) {
  std::vector<std::string> rows;
  auto workflows = store.ListLocalWorkflows();
  EXPECT_TRUE(workflows.has_value()) << workflows.error().message;
  for (const LocalWorkflow& workflow : workflows.value_or(std::vector<LocalWorkflow>{})) {
    std::string row = workflow.name + ":";
    for (const WorkflowMapping& mapping : workflow.mappings) {
      row += " " + mapping.server + "=" + mapping.remote_id + "/" + mapping.last_action;
    }
    rows.push_back(row);
  }
  return rows;
}

TEST_P(StoreContractTest, SaveLocalWorkflowInsertsAndListsEveryFieldByName) {
  auto zeta = store_->SaveLocalWorkflow(MakeWorkflow("zeta"), kNow);
  auto alpha = store_->SaveLocalWorkflow(MakeWorkflow("alpha"), kNow + 1);

  ASSERT_TRUE(zeta.has_value()) << zeta.error().message;
  ASSERT_TRUE(alpha.has_value()) << alpha.error().message;
  EXPECT_GT(zeta->id, 0);
  EXPECT_NE(zeta->id, alpha->id);
  EXPECT_EQ(alpha->created_at, kNow + 1);
  EXPECT_EQ(alpha->updated_at, kNow + 1);
  EXPECT_EQ(alpha->file, "/work/flows/alpha.json");
  auto listed = store_->ListLocalWorkflows();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  const LocalWorkflow& first = (*listed)[0];
  EXPECT_EQ(first.id, alpha->id);
  EXPECT_EQ(first.name, "alpha");
  EXPECT_EQ(first.file, "/work/flows/alpha.json");
  EXPECT_EQ(first.file_sha256, MakeWorkflow("alpha").file_sha256);
  EXPECT_EQ(first.created_at, kNow + 1);
  EXPECT_EQ(first.updated_at, kNow + 1);
  EXPECT_THAT(first.mappings, IsEmpty());
  EXPECT_EQ((*listed)[1].id, zeta->id);
  EXPECT_EQ((*listed)[1].created_at, kNow);
}

TEST_P(StoreContractTest, SaveLocalWorkflowUpdatesNameFileAndShaAndKeepsCreatedAtAndMappings) {
  AddServer("alpha");
  auto created = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_TRUE(store_->SaveWorkflowMapping(created->id, MakeMapping("alpha", "r1")).has_value());
  LocalWorkflow renamed = MakeWorkflow("billing", created->id);
  renamed.file_sha256 = std::string(64, 'a');

  auto updated = store_->SaveLocalWorkflow(renamed, kNow + 10);
  auto unchanged = store_->SaveLocalWorkflow(renamed, kNow + 20);  // its own name and file

  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ(updated->id, created->id);
  EXPECT_EQ(updated->created_at, kNow);
  EXPECT_EQ(updated->updated_at, kNow + 10);
  EXPECT_THAT(updated->mappings, IsEmpty());
  ASSERT_TRUE(unchanged.has_value()) << unchanged.error().message;
  auto listed = store_->ListLocalWorkflows();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].name, "billing");
  EXPECT_EQ((*listed)[0].file, "/work/flows/billing.json");
  EXPECT_EQ((*listed)[0].file_sha256, std::string(64, 'a'));
  EXPECT_EQ((*listed)[0].created_at, kNow);
  EXPECT_EQ((*listed)[0].updated_at, kNow + 20);
  EXPECT_THAT(Mappings(*store_), ElementsAre("billing: alpha=r1/pull"));
}

TEST_P(StoreContractTest, ANameOrFileTakenByAnotherWorkflowIsRefusedNamingIt) {
  auto invoices = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  auto leads = store_->SaveLocalWorkflow(MakeWorkflow("leads"), kNow);
  ASSERT_TRUE(invoices.has_value() && leads.has_value());
  LocalWorkflow same_name = MakeWorkflow("invoices");
  same_name.file = "/work/flows/other.json";
  LocalWorkflow same_file = MakeWorkflow("crm");
  same_file.file = leads->file;
  LocalWorkflow both = MakeWorkflow("leads");  // leads' name and file: the name is named
  LocalWorkflow rename_onto = MakeWorkflow("invoices", leads->id);
  rename_onto.file = leads->file;

  auto by_name = store_->SaveLocalWorkflow(same_name, kNow + 1);
  auto by_file = store_->SaveLocalWorkflow(same_file, kNow + 1);
  auto by_both = store_->SaveLocalWorkflow(both, kNow + 1);
  auto by_rename = store_->SaveLocalWorkflow(rename_onto, kNow + 1);

  ASSERT_FALSE(by_name.has_value());
  EXPECT_EQ(by_name.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(by_name.error().message, HasSubstr("'invoices'"));
  EXPECT_THAT(by_name.error().message, HasSubstr("/work/flows/invoices.json"));
  ASSERT_FALSE(by_file.has_value());
  EXPECT_EQ(by_file.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(by_file.error().message, HasSubstr("/work/flows/leads.json"));
  EXPECT_THAT(by_file.error().message, HasSubstr("'leads'"));
  ASSERT_FALSE(by_both.has_value());
  EXPECT_THAT(by_both.error().message, HasSubstr("named 'leads'"));
  ASSERT_FALSE(by_rename.has_value());
  EXPECT_EQ(by_rename.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(by_rename.error().message, HasSubstr("/work/flows/invoices.json"));
  auto listed = store_->ListLocalWorkflows();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  ASSERT_EQ(listed->size(), 2u);
  EXPECT_EQ((*listed)[0].name, "invoices");
  EXPECT_EQ((*listed)[1].name, "leads");
  EXPECT_EQ((*listed)[1].updated_at, kNow);
}

TEST_P(StoreContractTest, SaveLocalWorkflowRefusesAnUnknownIdAndAnEmptyNameOrFile) {
  auto kept = store_->SaveLocalWorkflow(MakeWorkflow("kept"), kNow);
  ASSERT_TRUE(kept.has_value()) << kept.error().message;
  LocalWorkflow no_name = MakeWorkflow("x");
  no_name.name.clear();
  LocalWorkflow no_file = MakeWorkflow("y");
  no_file.file.clear();

  auto unknown = store_->SaveLocalWorkflow(MakeWorkflow("ghost", kept->id + 100), kNow);
  auto nameless = store_->SaveLocalWorkflow(no_name, kNow);
  auto fileless = store_->SaveLocalWorkflow(no_file, kNow);

  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown.error().message, HasSubstr(std::to_string(kept->id + 100)));
  ASSERT_FALSE(nameless.has_value());
  EXPECT_EQ(nameless.error().code, ErrorCode::kInvalidArgument);
  ASSERT_FALSE(fileless.has_value());
  EXPECT_EQ(fileless.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(fileless.error().message, HasSubstr("'y'"));
  EXPECT_THAT(Mappings(*store_), ElementsAre("kept:"));
}

TEST_P(StoreContractTest, AFailedSaveInsideATransactionLeavesItUsable) {
  ASSERT_TRUE(store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow).has_value());

  auto done = store_->Transaction([&]() -> Result<void> {
    auto taken = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
    EXPECT_EQ(taken.error().code, ErrorCode::kAlreadyExists);
    auto saved = store_->SaveLocalWorkflow(MakeWorkflow("leads"), kNow);
    if (!saved) return tl::unexpected(saved.error());
    return {};
  });

  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices:", "leads:"));
}

TEST_P(StoreContractTest, SaveWorkflowMappingSetsOneMappingPerServerListedByServerName) {
  AddServer("beta");
  AddServer("alpha");
  auto invoices = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  ASSERT_TRUE(invoices.has_value()) << invoices.error().message;

  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("beta", "b7")).has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("alpha", "a1")).has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("alpha", "a2", "push", kNow))
                  .has_value());  // replaces alpha's

  auto listed = store_->ListLocalWorkflows();
  ASSERT_TRUE(listed.has_value()) << listed.error().message;
  ASSERT_EQ(listed->size(), 1u);
  const std::vector<WorkflowMapping>& mappings = (*listed)[0].mappings;
  ASSERT_EQ(mappings.size(), 2u);
  EXPECT_EQ(mappings[0].server, "alpha");
  EXPECT_EQ(mappings[0].remote_id, "a2");
  EXPECT_EQ(mappings[0].remote_updated_at, "2026-03-02T10:00:00.000Z");
  EXPECT_EQ(mappings[0].last_action, "push");
  EXPECT_EQ(mappings[0].last_at, kNow);
  EXPECT_EQ(mappings[1].server, "beta");
  EXPECT_EQ(mappings[1].remote_id, "b7");
  EXPECT_EQ(mappings[1].last_action, "pull");
  EXPECT_EQ(mappings[1].last_at, 1760000100);
}

TEST_P(StoreContractTest, ARemoteWorkflowMappedByAnotherLocalWorkflowLeavesTheFirstOne) {
  AddServer("alpha");
  AddServer("beta");
  auto invoices = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  auto leads = store_->SaveLocalWorkflow(MakeWorkflow("leads"), kNow);
  ASSERT_TRUE(invoices.has_value() && leads.has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("alpha", "r1")).has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("beta", "r1")).has_value());

  // The same remote id on alpha now belongs to leads; beta's "r1" is another workflow.
  auto moved = store_->SaveWorkflowMapping(leads->id, MakeMapping("alpha", "r1", "push"));

  ASSERT_TRUE(moved.has_value()) << moved.error().message;
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices: beta=r1/pull", "leads: alpha=r1/push"));
}

TEST_P(StoreContractTest, SaveWorkflowMappingRefusesUnknownWorkflowsServersAndBadMappings) {
  AddServer("alpha");
  auto invoices = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  ASSERT_TRUE(invoices.has_value()) << invoices.error().message;

  auto no_workflow = store_->SaveWorkflowMapping(invoices->id + 100, MakeMapping("alpha", "r1"));
  auto no_server = store_->SaveWorkflowMapping(invoices->id, MakeMapping("ghost", "r1"));
  auto no_remote_id =
      store_->SaveWorkflowMapping(invoices->id, WorkflowMapping{"alpha", "", "", "pull", kNow});
  auto bad_action = store_->SaveWorkflowMapping(invoices->id, MakeMapping("alpha", "r1", "sync"));

  ASSERT_FALSE(no_workflow.has_value());
  EXPECT_EQ(no_workflow.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(no_workflow.error().message, HasSubstr(std::to_string(invoices->id + 100)));
  ASSERT_FALSE(no_server.has_value());
  EXPECT_EQ(no_server.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(no_server.error().message, HasSubstr("'ghost'"));
  EXPECT_THAT(no_server.error().message, HasSubstr("'invoices'"));
  ASSERT_FALSE(no_remote_id.has_value());
  EXPECT_EQ(no_remote_id.error().code, ErrorCode::kInvalidArgument);
  ASSERT_FALSE(bad_action.has_value());
  EXPECT_EQ(bad_action.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(bad_action.error().message, HasSubstr("'sync'"));
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices:"));
}

TEST_P(StoreContractTest, DeletingAServerRemovesItsWorkflowMappingsAndKeepsTheWorkflows) {
  AddServer("alpha");
  AddServer("beta");
  auto invoices = store_->SaveLocalWorkflow(MakeWorkflow("invoices"), kNow);
  auto leads = store_->SaveLocalWorkflow(MakeWorkflow("leads"), kNow);
  ASSERT_TRUE(invoices.has_value() && leads.has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("alpha", "r1")).has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(invoices->id, MakeMapping("beta", "r2")).has_value());
  ASSERT_TRUE(store_->SaveWorkflowMapping(leads->id, MakeMapping("alpha", "r3")).has_value());

  auto deleted = store_->DeleteServer("alpha", false);

  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices: beta=r2/pull", "leads:"));
  // A new server of the same name starts without mappings, and r1 is free there again.
  AddServer("alpha");
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices: beta=r2/pull", "leads:"));
  ASSERT_TRUE(store_->SaveWorkflowMapping(leads->id, MakeMapping("alpha", "r1")).has_value());
  EXPECT_THAT(Mappings(*store_), ElementsAre("invoices: beta=r2/pull", "leads: alpha=r1/pull"));
}

}  // namespace
}  // namespace fleet::storage
