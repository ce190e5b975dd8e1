#include "workflows/push.h"

#include <algorithm>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "testing/fake_n8n.h"

namespace fleet::workflows {
namespace {

using testing::FakeN8n;
using testing::WebhookWorkflow;
using Json = nlohmann::json;

constexpr char kKey[] = "key-1";

int Count(const std::vector<std::string>& requests, const std::string& prefix) {
  return static_cast<int>(std::count_if(requests.begin(), requests.end(),
                                        [&](const auto& r) { return r.rfind(prefix, 0) == 0; }));
}

class PushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AcceptApiKey(kKey);
    fake_.UseN8nWorkflowIds();
  }

  ServerPusher Pusher(PushOptions options = {}) {
    return ServerPusher(*transport_, n8n::Endpoint{fake_.url(), true}, n8n::ApiAuth::ApiKey(kKey),
                        "eu-1", options);
  }

  static WorkflowMapping MappingOf(const PushOutcome& outcome) {
    return WorkflowMapping{"eu-1", outcome.remote_id, outcome.remote_updated_at, "push", 1};
  }

  FakeN8n fake_;
  std::unique_ptr<n8n::HttpTransport> transport_ = n8n::MakeCurlTransport();
};

TEST_F(PushTest, CreatesThenUpdatesThenLeavesAlone) {
  auto pusher = Pusher();
  PushOutcome created = pusher.Push(WebhookWorkflow("Billing"), std::nullopt);
  ASSERT_TRUE(created.ok()) << created.error->message;
  EXPECT_EQ(created.action, PushAction::kCreated);
  ASSERT_TRUE(created.should_record());
  auto stored = fake_.Workflow(created.remote_id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(created.remote_updated_at, (*stored)["updatedAt"]);

  Json edited = WebhookWorkflow("Billing", "hook-2");
  PushOutcome updated = Pusher().Push(edited, MappingOf(created));
  ASSERT_TRUE(updated.ok()) << updated.error->message;
  EXPECT_EQ(updated.action, PushAction::kUpdated);
  EXPECT_EQ(updated.remote_id, created.remote_id);
  EXPECT_EQ((*fake_.Workflow(created.remote_id))["nodes"][0]["parameters"]["path"], "hook-2");
  EXPECT_NE(updated.remote_updated_at, created.remote_updated_at);

  auto before = fake_.Requests().size();
  PushOutcome again = Pusher().Push(edited, MappingOf(updated));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.action, PushAction::kUnchanged);
  auto requests = fake_.Requests();
  EXPECT_EQ(requests.size(), before + 1);  // one GET, no PUT
  EXPECT_EQ(Count(requests, "PUT "), 1);
  EXPECT_EQ(fake_.Workflows().size(), 1u);
}

TEST_F(PushTest, RefusesToOverwriteAChangeOnTheServerUnlessForced) {
  PushOutcome created = Pusher().Push(WebhookWorkflow("Billing"), std::nullopt);
  ASSERT_TRUE(created.ok());
  // Someone edits the workflow on the server.
  ASSERT_TRUE(n8n::UpdateWorkflow(*transport_, n8n::Endpoint{fake_.url(), true},
                                  n8n::ApiAuth::ApiKey(kKey), created.remote_id,
                                  WebhookWorkflow("Billing", "theirs"))
                  .has_value());

  PushOutcome refused = Pusher().Push(WebhookWorkflow("Billing", "mine"), MappingOf(created));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.action, PushAction::kFailed);
  EXPECT_FALSE(refused.should_record());
  EXPECT_EQ(refused.error->code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error->message.find("server 'eu-1'"), std::string::npos);
  EXPECT_NE(refused.error->message.find("changed on the server"), std::string::npos);
  EXPECT_NE(refused.error->message.find("--force"), std::string::npos);
  EXPECT_EQ((*fake_.Workflow(created.remote_id))["nodes"][0]["parameters"]["path"], "theirs");

  // The same content as the server's is no conflict: nothing would be lost.
  PushOutcome same = Pusher().Push(WebhookWorkflow("Billing", "theirs"), MappingOf(created));
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same.action, PushAction::kUnchanged);

  PushOutcome forced =
      Pusher({.force = true}).Push(WebhookWorkflow("Billing", "mine"), MappingOf(created));
  ASSERT_TRUE(forced.ok()) << forced.error->message;
  EXPECT_EQ(forced.action, PushAction::kUpdated);
  EXPECT_EQ((*fake_.Workflow(created.remote_id))["nodes"][0]["parameters"]["path"], "mine");
}

TEST_F(PushTest, AMappedWorkflowDeletedOnTheServerIsCreatedAgain) {
  PushOutcome created = Pusher().Push(WebhookWorkflow("Billing"), std::nullopt);
  ASSERT_TRUE(created.ok());
  auto deleted = transport_->Send({"DELETE",
                                   fake_.url() + "/api/v1/workflows/" + created.remote_id,
                                   {{"X-N8N-API-KEY", kKey}}});
  ASSERT_TRUE(deleted.has_value());
  ASSERT_EQ(deleted->status, 200);

  PushOutcome again = Pusher().Push(WebhookWorkflow("Billing"), MappingOf(created));
  ASSERT_TRUE(again.ok()) << again.error->message;
  EXPECT_EQ(again.action, PushAction::kCreated);
  EXPECT_NE(again.remote_id, created.remote_id);
  EXPECT_NE(again.note.find("deleted"), std::string::npos);
  EXPECT_TRUE(again.should_record());
  EXPECT_EQ(fake_.Workflows().size(), 1u);
}

TEST_F(PushTest, AnUnmappedPushAdoptsTheSameWorkflowByNameAndRefusesADifferentOne) {
  Json existing = WebhookWorkflow("Billing");
  std::string id = fake_.SeedWorkflow(existing);

  PushOutcome adopted = Pusher().Push(WebhookWorkflow("Billing"), std::nullopt);
  ASSERT_TRUE(adopted.ok()) << adopted.error->message;
  EXPECT_EQ(adopted.action, PushAction::kUnchanged);
  EXPECT_EQ(adopted.remote_id, id);
  EXPECT_TRUE(adopted.should_record());

  PushOutcome refused = Pusher().Push(WebhookWorkflow("Billing", "other"), std::nullopt);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error->code, ErrorCode::kFailedPrecondition);
  EXPECT_NE(refused.error->message.find("never pulled or pushed"), std::string::npos);
  EXPECT_EQ(fake_.Workflows().size(), 1u);

  PushOutcome forced =
      Pusher({.force = true}).Push(WebhookWorkflow("Billing", "other"), std::nullopt);
  ASSERT_TRUE(forced.ok());
  EXPECT_EQ(forced.action, PushAction::kUpdated);
  EXPECT_EQ(forced.remote_id, id);
  EXPECT_EQ(fake_.Workflows().size(), 1u);

  fake_.SeedWorkflow(WebhookWorkflow("Billing"));
  PushOutcome ambiguous = Pusher({.force = true}).Push(WebhookWorkflow("Billing"), std::nullopt);
  ASSERT_FALSE(ambiguous.ok());
  EXPECT_NE(ambiguous.error->message.find("2 workflows named 'Billing'"), std::string::npos);
}

TEST_F(PushTest, DryRunReadsButChangesNothing) {
  PushOutcome would =
      Pusher({.activate = true, .dry_run = true}).Push(WebhookWorkflow("A"), std::nullopt);
  ASSERT_TRUE(would.ok());
  EXPECT_EQ(would.action, PushAction::kWouldCreate);
  EXPECT_FALSE(would.should_record());
  EXPECT_TRUE(fake_.Workflows().empty());

  PushOutcome created = Pusher().Push(WebhookWorkflow("A"), std::nullopt);
  PushOutcome would_update =
      Pusher({.dry_run = true}).Push(WebhookWorkflow("A", "changed"), MappingOf(created));
  ASSERT_TRUE(would_update.ok());
  EXPECT_EQ(would_update.action, PushAction::kWouldUpdate);
  EXPECT_EQ((*fake_.Workflow(created.remote_id))["nodes"][0]["parameters"]["path"], "hook");
  for (const auto& request : fake_.Requests()) {
    if (request.rfind("PUT", 0) == 0) ADD_FAILURE() << request;
  }
}

TEST_F(PushTest, ActivatesOnRequestAndKeepsTheMappingWhenActivationFails) {
  PushOutcome active = Pusher({.activate = true}).Push(WebhookWorkflow("A"), std::nullopt);
  ASSERT_TRUE(active.ok()) << active.error->message;
  EXPECT_TRUE(active.active);
  EXPECT_EQ((*fake_.Workflow(active.remote_id))["active"], true);
  EXPECT_EQ(active.remote_updated_at, (*fake_.Workflow(active.remote_id))["updatedAt"]);

  Json no_trigger = {{"name", "B"},
                     {"nodes", Json::array({{{"name", "Set"}, {"type", "n8n-nodes-base.set"}}})},
                     {"connections", Json::object()}};
  PushOutcome half = Pusher({.activate = true}).Push(no_trigger, std::nullopt);
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.action, PushAction::kCreated);
  EXPECT_TRUE(half.should_record());  // it exists there: a re-push must update, not duplicate
  EXPECT_NE(half.error->message.find("trigger"), std::string::npos);
}

TEST_F(PushTest, ADownServerIsAnErrorNamingIt) {
  auto pusher = ServerPusher(*transport_, n8n::Endpoint{"http://127.0.0.1:1", true},
                             n8n::ApiAuth::ApiKey(kKey), "down-1", {});
  PushOutcome outcome = pusher.Push(WebhookWorkflow("A"), std::nullopt);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.error->code, ErrorCode::kUnavailable);
  EXPECT_NE(outcome.error->message.find("server 'down-1'"), std::string::npos);
}

}  // namespace
}  // namespace fleet::workflows

namespace fleet::workflows {
namespace {

// n8n keeps a save of an active workflow that removes its last trigger as a draft and answers
// 400; the running version is the old one. A re-push must not call that "unchanged".
TEST_F(PushTest, ADraftN8nKeptWithoutPublishingIsNotUnchanged) {
  PushOutcome active = Pusher({.activate = true}).Push(WebhookWorkflow("A"), std::nullopt);
  ASSERT_TRUE(active.ok());
  nlohmann::json no_trigger = WebhookWorkflow("A");
  no_trigger["nodes"][0]["type"] = "n8n-nodes-base.set";

  PushOutcome failed = Pusher().Push(no_trigger, MappingOf(active));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error->message.find("trigger"), std::string::npos);
  EXPECT_NE(failed.error->message.find("unpublished draft"), std::string::npos)
      << failed.error->message;
  EXPECT_EQ(failed.action, PushAction::kUpdated);
  ASSERT_TRUE(failed.should_record());  // our own save: not someone else's change next time

  PushOutcome again = Pusher().Push(no_trigger, MappingOf(failed));
  EXPECT_FALSE(again.ok());
  EXPECT_NE(again.action, PushAction::kUnchanged);
  // Putting the trigger back publishes again, and then it is in step.
  PushOutcome fixed = Pusher().Push(WebhookWorkflow("A"), MappingOf(again));
  ASSERT_TRUE(fixed.ok()) << fixed.error->message;
  EXPECT_EQ(fixed.action, PushAction::kUpdated);
  EXPECT_EQ(Pusher().Push(WebhookWorkflow("A"), MappingOf(fixed)).action, PushAction::kUnchanged);
}

}  // namespace
}  // namespace fleet::workflows
