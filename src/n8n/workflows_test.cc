#include "n8n/workflows.h"

#include <functional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "testing/fake_n8n.h"

namespace fleet::n8n {
namespace {

using testing::FakeN8n;
using testing::WebhookWorkflow;
using Json = nlohmann::json;

constexpr char kKey[] = "key-1";

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The fake n8n over the real curl transport, with a key it accepts.
class WorkflowsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fake_.AcceptApiKey(kKey);
    fake_.UseN8nWorkflowIds();
    endpoint_.base_url = fake_.url();
  }

  FakeN8n fake_;
  std::unique_ptr<HttpTransport> transport_ = MakeCurlTransport();
  Endpoint endpoint_{};
  ApiAuth auth_ = ApiAuth::ApiKey(kKey);
};

TEST_F(WorkflowsTest, ListFollowsNextCursorAcrossPages) {
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i) ids.push_back(fake_.AddWorkflow("wf" + std::to_string(i)));
  fake_.SeedWorkflow({{"name", "live"}, {"active", true}});

  Result<std::vector<WorkflowSummary>> list = ListWorkflows(*transport_, endpoint_, auth_, 3);

  ASSERT_TRUE(list.has_value()) << list.error().message;
  ASSERT_EQ(list->size(), 8u);
  for (int i = 0; i < 7; ++i) {
    EXPECT_EQ((*list)[i].id, ids[i]);
    EXPECT_EQ((*list)[i].name, "wf" + std::to_string(i));
    EXPECT_FALSE((*list)[i].active);
    EXPECT_EQ((*list)[i].updated_at, fake_.Workflow(ids[i])->at("updatedAt"));
  }
  EXPECT_EQ(ids[0].size(), 16u);  // n8n-like ids
  EXPECT_EQ((*list)[7].name, "live");
  EXPECT_TRUE((*list)[7].active);
  EXPECT_EQ(fake_.Requests(), (std::vector<std::string>{"GET /api/v1/workflows?limit=3",
                                                        "GET /api/v1/workflows?limit=3&cursor=3",
                                                        "GET /api/v1/workflows?limit=3&cursor=6"}));
}

TEST_F(WorkflowsTest, ListOfAnEmptyInstanceIsOneRequest) {
  Result<std::vector<WorkflowSummary>> list = ListWorkflows(*transport_, endpoint_, auth_);

  ASSERT_TRUE(list.has_value()) << list.error().message;
  EXPECT_TRUE(list->empty());
  EXPECT_EQ(fake_.Requests(), std::vector<std::string>{"GET /api/v1/workflows?limit=100"});
}

TEST_F(WorkflowsTest, CreateGetUpdateRoundTrip) {
  Json workflow = WebhookWorkflow("Billing");
  workflow["staticData"] = {{"lastId", 7}};

  Result<Json> created = CreateWorkflow(*transport_, endpoint_, auth_, workflow);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  std::string id = (*created)["id"];
  Result<Json> read = GetWorkflow(*transport_, endpoint_, auth_, id);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  Json changed = *read;  // as n8n sent it, read-only fields and all
  changed["name"] = "Billing v2";
  changed["nodes"][0]["parameters"]["path"] = "hook-2";
  Result<Json> updated = UpdateWorkflow(*transport_, endpoint_, auth_, id, changed);

  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  EXPECT_EQ((*read)["name"], "Billing");
  EXPECT_EQ((*read)["nodes"], workflow["nodes"]);
  EXPECT_EQ((*read)["settings"], workflow["settings"]);
  EXPECT_EQ((*read)["staticData"], workflow["staticData"]);
  EXPECT_EQ((*read)["active"], false);
  EXPECT_EQ((*updated)["id"], id);
  EXPECT_EQ((*updated)["name"], "Billing v2");
  EXPECT_NE((*updated)["versionId"], (*read)["versionId"]);
  std::optional<Json> stored = fake_.Workflow(id);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ((*stored)["name"], "Billing v2");
  EXPECT_EQ((*stored)["nodes"][0]["parameters"]["path"], "hook-2");
  EXPECT_EQ(fake_.Requests(),
            (std::vector<std::string>{"POST /api/v1/workflows", "GET /api/v1/workflows/" + id,
                                      "PUT /api/v1/workflows/" + id}));
}

TEST_F(WorkflowsTest, UpdateSendsOnlyWritableFields) {
  std::string id = fake_.SeedWorkflow(
      {{"name", "Sync"},
       {"active", true},
       {"nodes", Json::array({{{"name", "Cron"}, {"type", "n8n-nodes-base.scheduleTrigger"}}})},
       {"connections", {{"Cron", {{"main", Json::array()}}}}},
       {"settings", {{"executionOrder", "v1"}, {"binaryMode", "separate"}, {"futureKnob", true}}},
       {"staticData", {{"lastId", 1}}},
       {"pinData", {{"Cron", Json::array()}}},
       {"meta", {{"templateCredsSetupCompleted", true}}},
       {"tags", Json::array({{{"id", "t1"}, {"name", "prod"}}})},
       {"triggerCount", 1}});
  Result<Json> read = GetWorkflow(*transport_, endpoint_, auth_, id);
  ASSERT_TRUE(read.has_value()) << read.error().message;
  fake_.ResetStats();

  Result<Json> updated = UpdateWorkflow(*transport_, endpoint_, auth_, id, *read);

  ASSERT_TRUE(updated.has_value()) << updated.error().message;
  auto recorded = fake_.RecordedRequests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].method, "PUT");
  EXPECT_EQ(recorded[0].Header("content-type"), "application/json");
  EXPECT_EQ(recorded[0].Header("x-n8n-api-key"), kKey);
  EXPECT_EQ(recorded[0].body,
            R"({"connections":{"Cron":{"main":[]}},"name":"Sync",)"
            R"("nodes":[{"name":"Cron","type":"n8n-nodes-base.scheduleTrigger"}],)"
            R"("settings":{"executionOrder":"v1"},"staticData":{"lastId":1}})");
  EXPECT_EQ((*updated)["active"], true);
}

TEST_F(WorkflowsTest, CreateSendsSettingsAsAnEmptyObjectWhenAbsent) {
  Json workflow = {{"id", "old"},
                   {"name", "Bare"},
                   {"nodes", Json::array()},
                   {"connections", Json::object()},
                   {"active", true},
                   {"staticData", nullptr}};

  Result<Json> created = CreateWorkflow(*transport_, endpoint_, auth_, workflow);

  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_NE((*created)["id"], "old");
  EXPECT_EQ((*created)["active"], false);
  auto recorded = fake_.RecordedRequests();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].body, R"({"connections":{},"name":"Bare","nodes":[],"settings":{}})");
}

TEST_F(WorkflowsTest, MalformedWorkflowIsRefusedWithoutARequest) {
  Json no_nodes = {{"name", "Half"}, {"connections", Json::object()}};
  Json bad_settings = WebhookWorkflow("Odd");
  bad_settings["settings"] = "v1";

  Result<Json> created = CreateWorkflow(*transport_, endpoint_, auth_, no_nodes);
  Result<Json> updated = UpdateWorkflow(*transport_, endpoint_, auth_, "x", bad_settings);
  Result<Json> unnamed = CreateWorkflow(*transport_, endpoint_, auth_, Json::array());

  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(created.error().message, "workflow 'Half': 'nodes'"))
      << created.error().message;
  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(Contains(updated.error().message, "'settings'")) << updated.error().message;
  ASSERT_FALSE(unnamed.has_value());
  EXPECT_EQ(unnamed.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(fake_.Requests().empty());
}

TEST_F(WorkflowsTest, UnknownWorkflowIsNotFoundNamingIdAndServer) {
  Result<Json> read = GetWorkflow(*transport_, endpoint_, auth_, "nOpE0000nOpE0000");
  Result<Json> updated =
      UpdateWorkflow(*transport_, endpoint_, auth_, "nOpE0000nOpE0000", WebhookWorkflow("X"));
  Result<Json> activated =
      ActivateWorkflow(*transport_, endpoint_, auth_, "nOpE0000nOpE0000", true);

  for (const Result<Json>* result : {&read, &updated, &activated}) {
    ASSERT_FALSE(result->has_value());
    EXPECT_EQ(result->error().code, ErrorCode::kNotFound);
    EXPECT_TRUE(Contains(result->error().message, "no workflow 'nOpE0000nOpE0000'"))
        << result->error().message;
    EXPECT_TRUE(Contains(result->error().message, "server '" + fake_.url() + "'"))
        << result->error().message;
  }
  EXPECT_TRUE(Contains(updated.error().message, "404 on PUT /api/v1/workflows/nOpE0000nOpE0000"))
      << updated.error().message;
}

TEST_F(WorkflowsTest, RefusedCredentialsAreAuthErrors) {
  std::string id = fake_.AddWorkflow("Billing");

  Result<Json> wrong_key = GetWorkflow(*transport_, endpoint_, ApiAuth::ApiKey("nope"), id);
  fake_.FailNext(1, 403);
  Result<std::vector<WorkflowSummary>> forbidden = ListWorkflows(*transport_, endpoint_, auth_);

  ASSERT_FALSE(wrong_key.has_value());
  EXPECT_EQ(wrong_key.error().code, ErrorCode::kUnauthenticated);
  EXPECT_TRUE(Contains(wrong_key.error().message, "reading workflow '" + id + "'"))
      << wrong_key.error().message;
  EXPECT_TRUE(Contains(wrong_key.error().message, "refused the API key (401)"))
      << wrong_key.error().message;
  EXPECT_FALSE(Contains(wrong_key.error().message, "nope"));  // never the credential
  ASSERT_FALSE(forbidden.has_value());
  EXPECT_EQ(forbidden.error().code, ErrorCode::kPermissionDenied);
  EXPECT_TRUE(Contains(forbidden.error().message, "listing workflows: server '" + fake_.url()))
      << forbidden.error().message;
}

TEST_F(WorkflowsTest, ServerErrorsCarryStatusAndN8nMessage) {
  std::string id = fake_.AddWorkflow("No trigger");
  Result<Json> refused = ActivateWorkflow(*transport_, endpoint_, auth_, id, true);
  fake_.FailNext(1, 503);
  Result<Json> unavailable = GetWorkflow(*transport_, endpoint_, auth_, id);

  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Contains(refused.error().message, "activating workflow '" + id + "'"))
      << refused.error().message;
  EXPECT_TRUE(Contains(refused.error().message, "HTTP 400")) << refused.error().message;
  EXPECT_TRUE(Contains(refused.error().message,
                       "Workflow cannot be activated because it has no trigger node"))
      << refused.error().message;
  ASSERT_FALSE(unavailable.has_value());
  EXPECT_EQ(unavailable.error().code, ErrorCode::kUnavailable);
  EXPECT_TRUE(Contains(unavailable.error().message, "HTTP 503")) << unavailable.error().message;
  EXPECT_TRUE(Contains(unavailable.error().message, "Injected failure"))
      << unavailable.error().message;
}

TEST_F(WorkflowsTest, ActivatesAndDeactivates) {
  std::string id = fake_.SeedWorkflow(WebhookWorkflow("Hook"));

  Result<Json> on = ActivateWorkflow(*transport_, endpoint_, auth_, id, true);
  ASSERT_TRUE(on.has_value()) << on.error().message;
  bool stored_on = (*fake_.Workflow(id))["active"];
  Result<Json> off = ActivateWorkflow(*transport_, endpoint_, auth_, id, false);
  ASSERT_TRUE(off.has_value()) << off.error().message;

  EXPECT_EQ((*on)["active"], true);
  EXPECT_TRUE(stored_on);
  EXPECT_EQ((*off)["active"], false);
  EXPECT_EQ((*fake_.Workflow(id))["active"], false);
  auto recorded = fake_.RecordedRequests();
  ASSERT_EQ(recorded.size(), 2u);
  EXPECT_EQ(recorded[0].body, "{}");
  EXPECT_EQ(recorded[0].Header("content-type"), "application/json");
  EXPECT_EQ(fake_.Requests(),
            (std::vector<std::string>{"POST /api/v1/workflows/" + id + "/activate",
                                      "POST /api/v1/workflows/" + id + "/deactivate"}));
}

// A transport that answers from a script, for what the fake n8n cannot be made to do.
class ScriptedTransport : public HttpTransport {
 public:
  explicit ScriptedTransport(std::function<HttpResponse(const HttpRequest&)> answer)
      : answer_(std::move(answer)) {}
  Result<HttpResponse> Send(const HttpRequest& request) override {
    urls.push_back(request.url);
    return answer_(request);
  }
  void Submit(HttpRequest, HttpCallback done) override {
    done(MakeError(ErrorCode::kInternal, "not scripted"));
  }
  void Run(int) override {}
  void Abort() override {}

  std::vector<std::string> urls{};

 private:
  std::function<HttpResponse(const HttpRequest&)> answer_;
};

HttpResponse Page(const std::string& id, const Json& next_cursor) {
  HttpResponse response;
  response.status = 200;
  response.body = Json{
      {"data", Json::array({{{"id", id}, {"name", "wf " + id}}})},
      {"nextCursor",
       next_cursor}}.dump();
  return response;
}

TEST(ListWorkflowsTest, RepeatedCursorIsABadResponse) {
  ScriptedTransport transport([](const HttpRequest& request) {
    return Contains(request.url, "cursor=b") ? Page("2", "a") : Page("1", "b");
  });
  Endpoint endpoint{"https://n8n.example.com", true};

  auto list = ListWorkflows(transport, endpoint, ApiAuth::ApiKey("k"));

  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Contains(list.error().message, "repeated")) << list.error().message;
  EXPECT_TRUE(Contains(list.error().message, "server 'https://n8n.example.com'"));
  EXPECT_EQ(transport.urls.size(), 3u);  // first page (-> b), b (-> a), a (-> b again)
}

TEST(ListWorkflowsTest, StopsAfterTheMaximumNumberOfPages) {
  int served = 0;
  ScriptedTransport transport(
      [&served](const HttpRequest&) { return Page("w", "c" + std::to_string(++served)); });

  auto list = ListWorkflows(transport, Endpoint{"http://h", true}, ApiAuth::ApiKey("k"));

  ASSERT_FALSE(list.has_value());
  EXPECT_EQ(list.error().code, ErrorCode::kBadResponse);
  EXPECT_TRUE(Contains(list.error().message, "more than 10000 pages")) << list.error().message;
  EXPECT_EQ(served, kMaxWorkflowPages);
}

TEST(ListWorkflowsTest, MalformedPagesAreBadResponses) {
  for (const char* body :
       {R"({"nextCursor":null})", R"({"data":[{"name":"x"}]})", R"({"data":[{"id":"1"}]})",
        R"({"data":[],"nextCursor":5})", R"([1,2])", "not json"}) {
    ScriptedTransport transport([body](const HttpRequest&) {
      HttpResponse response;
      response.status = 200;
      response.body = body;
      return response;
    });

    auto list = ListWorkflows(transport, Endpoint{"http://h", true}, ApiAuth::ApiKey("k"));

    ASSERT_FALSE(list.has_value()) << body;
    EXPECT_EQ(list.error().code, ErrorCode::kBadResponse) << body;
  }
}

TEST(WritableWorkflowTest, KeepsOnlyFieldsAndSettingsN8nAccepts) {
  Json workflow = WebhookWorkflow("W");
  workflow["settings"] = {{"timezone", "Europe/Berlin"},
                          {"callerPolicy", "any"},
                          {"availableInMCP", false},
                          {"credentialResolverId", "r1"},
                          {"somethingNew", 1}};
  for (const char* field :
       {"id", "active", "createdAt", "updatedAt", "versionId", "tags", "shared", "meta", "pinData",
        "triggerCount", "isArchived", "activeVersion", "parentFolder"}) {
    workflow[field] = "x";
  }

  Result<Json> body = WritableWorkflow(workflow);

  ASSERT_TRUE(body.has_value()) << body.error().message;
  std::vector<std::string> fields;
  for (const auto& [field, value] : body->items()) fields.push_back(field);
  EXPECT_EQ(fields, (std::vector<std::string>{"connections", "name", "nodes", "settings"}));
  EXPECT_EQ(
      (*body)["settings"],
      (Json{{"timezone", "Europe/Berlin"}, {"callerPolicy", "any"}, {"availableInMCP", false}}));
}

// The fake n8n's own checks, which the tests above rely on.
TEST_F(WorkflowsTest, FakeRejectsWhatN8nRejects) {
  auto post = [&](const std::string& method, const std::string& path, const std::string& body) {
    HttpRequest request;
    request.method = method;
    request.url = fake_.url() + path;
    request.headers = {{"X-N8N-API-KEY", kKey}, {"Content-Type", "application/json"}};
    request.body = body;
    Result<HttpResponse> response = transport_->Send(request);
    EXPECT_TRUE(response.has_value());
    return response ? *response : HttpResponse{};
  };
  std::string id = fake_.AddWorkflow("Existing");

  HttpResponse extra = post("POST", "/api/v1/workflows", R"({"name":"a","active":true})");
  HttpResponse setting =
      post("POST", "/api/v1/workflows", R"({"name":"a","settings":{"bogus":1}})");
  HttpResponse partial = post("PUT", "/api/v1/workflows/" + id, R"({"name":"a"})");
  HttpResponse deleted = post("DELETE", "/api/v1/workflows/" + id, "");
  HttpResponse gone = post("GET", "/api/v1/workflows/" + id, "");

  EXPECT_EQ(extra.status, 400);
  EXPECT_EQ(extra.body, R"({"message":"request/body must NOT have additional properties"})");
  EXPECT_EQ(setting.status, 400);
  EXPECT_EQ(setting.body,
            R"({"message":"request/body/settings must NOT have additional properties"})");
  EXPECT_EQ(partial.status, 400);
  EXPECT_EQ(partial.body, R"({"message":"request/body must have required property 'nodes'"})");
  EXPECT_EQ(deleted.status, 200);
  EXPECT_EQ(Json::parse(deleted.body)["name"], "Existing");
  EXPECT_EQ(gone.status, 404);
  EXPECT_TRUE(fake_.Workflows().empty());
}

}  // namespace
}  // namespace fleet::n8n

namespace fleet::n8n {
namespace {

// The fake saves like n8n 2.40.7 (tests/real_n8n/WORKFLOWS.md), which `wf push` and `wf diff`
// rely on: settings merged, ids given to nodes without one, activation leaving updatedAt alone.
TEST_F(WorkflowsTest, TheFakeSavesLikeN8n) {
  Json workflow = WebhookWorkflow("Saved");
  workflow["settings"]["timezone"] = "Europe/Berlin";
  workflow["nodes"][0].erase("id");
  workflow["nodes"][0].erase("webhookId");
  auto created = CreateWorkflow(*transport_, endpoint_, auth_, workflow);
  ASSERT_TRUE(created.has_value()) << created.error().message;
  std::string id = (*created)["id"];
  EXPECT_TRUE((*created)["nodes"][0].contains("id"));
  EXPECT_TRUE((*created)["nodes"][0].contains("webhookId"));

  workflow["settings"].erase("timezone");
  auto updated = UpdateWorkflow(*transport_, endpoint_, auth_, id, workflow);
  ASSERT_TRUE(updated.has_value());
  EXPECT_EQ((*updated)["settings"]["timezone"], "Europe/Berlin");         // merged, not replaced
  EXPECT_NE((*updated)["nodes"][0]["id"], (*created)["nodes"][0]["id"]);  // new on every save

  auto active = ActivateWorkflow(*transport_, endpoint_, auth_, id, true);
  ASSERT_TRUE(active.has_value());
  EXPECT_EQ((*active)["updatedAt"], (*updated)["updatedAt"]);
  auto refused = transport_->Send(
      {"DELETE", endpoint_.base_url + "/api/v1/workflows/" + id, {{"X-N8N-API-KEY", kKey}}});
  ASSERT_TRUE(refused.has_value());
  EXPECT_EQ(refused->status, 409);
}

}  // namespace
}  // namespace fleet::n8n
