// End-to-end: `wf server|pull|push|diff|list` against fake n8n instances (the real binary as a
// subprocess). The same flows run against a real n8n in real_n8n_workflow_test.cc.
#include <filesystem>

#include "cli_test_util.h"
#include "n8n/workflows.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

using J = nlohmann::json;

std::string PathOf(const J& workflow) {
  return workflow["nodes"][0]["parameters"]["path"].get<std::string>();
}

int CountPrefix(const std::vector<std::string>& requests, const std::string& prefix) {
  int n = 0;
  for (const auto& r : requests) n += r.rfind(prefix, 0) == 0 ? 1 : 0;
  return n;
}

class WorkflowCliTest : public CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    flows_ = dir_.path() + "/flows";
    std::filesystem::create_directories(flows_);
  }

  // A fake instance registered as `name` (API-key auth). `offset` workflows are created first so
  // that ids differ between instances.
  FakeN8n& AddInstance(const std::string& name, int offset = 0,
                       const std::string& customer = "acme") {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    n8n.UseN8nWorkflowIds();
    for (int i = 0; i < offset; ++i) n8n.AddWorkflow("other " + std::to_string(i));
    std::string key = MakeApiKey(name, 1700000000);
    keys_.push_back(key);
    n8n.AcceptApiKey(key);
    Ok({"server", "create", name, n8n.url(), "--customer", customer});
    Ok({"apikey", "add", key, "--name", name + "-key", "--server", name});
    return n8n;
  }

  void WriteFlow(const std::string& file, const J& workflow) {
    std::ofstream(flows_ + "/" + file) << workflow.dump(2) << "\n";
  }
  J ReadFlow(const std::string& file) { return J::parse(ReadAll(flows_ + "/" + file)); }

  // Changes the workflow on the instance behind our back (someone in the editor).
  void EditOnServer(FakeN8n& n8n, const std::string& key, const std::string& id, const J& wf) {
    auto transport = n8n::MakeCurlTransport();
    auto updated = n8n::UpdateWorkflow(*transport, n8n::Endpoint{n8n.url(), true},
                                       n8n::ApiAuth::ApiKey(key), id, wf);
    ASSERT_TRUE(updated.has_value()) << updated.error().message;
  }

  std::string flows_;
  std::vector<std::string> keys_;
  std::vector<std::unique_ptr<FakeN8n>> instances_;
};

TEST_F(WorkflowCliTest, PullEditPushAndTheDiffIsEmptyAfterwards) {
  auto& n8n = AddInstance("a");
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("Billing: Daily (EU)"));

  auto pulled = Json({"wf", "pull", id, "--server", "a", "--flow-dir", flows_, "--json"});
  ASSERT_EQ(pulled.size(), 1u);
  std::string file = flows_ + "/billing-daily-eu.json";
  EXPECT_EQ(pulled[0]["file"], file);
  EXPECT_EQ(pulled[0]["id"], id);
  // Pretty, key-sorted, and without the server's bookkeeping.
  std::string text = ReadAll(file);
  EXPECT_EQ(text, J::parse(text).dump(2) + "\n");
  J kept = J::parse(text);
  EXPECT_FALSE(kept.contains("updatedAt"));
  EXPECT_FALSE(kept.contains("versionId"));
  EXPECT_EQ(kept["nodes"], WebhookWorkflow("x")["nodes"]);
  // Pulling again rewrites the same bytes.
  Ok({"wf", "pull", id, "--server", "a", "--flow-dir", flows_});
  EXPECT_EQ(ReadAll(file), text);

  auto listed = Json({"wf", "list", "--json"});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["name"], "Billing: Daily (EU)");
  EXPECT_EQ(listed[0]["servers"][0]["server"], "a");
  EXPECT_EQ(listed[0]["servers"][0]["id"], id);
  EXPECT_EQ(listed[0]["servers"][0]["last_action"], "pull");
  EXPECT_EQ(listed[0]["servers"][0]["updated_at"], (*n8n.Workflow(id))["updatedAt"]);

  EXPECT_EQ(Ok({"wf", "diff", file, "--server", "a"}).out, "");
  kept["nodes"][0]["parameters"]["path"] = "billing-v2";
  std::ofstream(file) << kept.dump(2) << "\n";
  auto diff = Run({"wf", "diff", file, "--server", "a"});
  EXPECT_EQ(diff.exit_code, 0);
  EXPECT_NE(diff.out.find("## nodes"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("-       \"path\": \"hook\"\n"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("+       \"path\": \"billing-v2\"\n"), std::string::npos) << diff.out;
  EXPECT_EQ(Run({"wf", "diff", file, "--server", "a", "--exit-code"}).exit_code, 1);

  auto pushed = Json({"wf", "push", file, "--server", "a", "--json"});
  EXPECT_EQ(pushed["summary"],
            (J{{"total", 1}, {"succeeded", 1}, {"failed", 0}, {"by_action", {{"updated", 1}}}}));
  EXPECT_EQ(pushed["results"][0]["id"], id);
  EXPECT_EQ(PathOf(*n8n.Workflow(id)), "billing-v2");
  EXPECT_EQ(Ok({"wf", "diff", file, "--server", "a"}).out, "");
  EXPECT_EQ(Json({"wf", "diff", "Billing: Daily (EU)", "--server", "a", "--json"})["identical"],
            true);
  // Pushing again sends nothing.
  size_t puts = CountPrefix(n8n.Requests(), "PUT ");
  auto again = Json({"wf", "push", "Billing: Daily (EU)", "--server", "a", "--json"});
  EXPECT_EQ(again["results"][0]["action"], "unchanged");
  EXPECT_EQ(CountPrefix(n8n.Requests(), "PUT "), static_cast<int>(puts));
  EXPECT_EQ(n8n.Workflows().size(), 1u);
  EXPECT_EQ(Json({"wf", "list", "--json"})[0]["servers"][0]["last_action"], "push");
}

TEST_F(WorkflowCliTest, PushToThreeServersThenRePushCreatesNoDuplicates) {
  auto& a = AddInstance("a", 0);
  auto& b = AddInstance("b", 2);
  auto& c = AddInstance("c", 5);
  AddInstance("other-customer", 0, "globex");
  WriteFlow("billing.json", WebhookWorkflow("Billing"));

  auto first = Run({"wf", "push", flows_ + "/billing.json", "--customer", "acme", "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.out << first.err;
  J result = J::parse(first.out);
  EXPECT_EQ(result["summary"]["total"], 3);
  EXPECT_EQ(result["summary"]["succeeded"], 3);
  std::map<std::string, std::string> ids;
  for (const auto& r : result["results"]) {
    EXPECT_EQ(r["action"], "created") << r.dump();
    ids[r["server"]] = r["id"];
  }
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(a.Workflows().size(), 1u);
  EXPECT_EQ(b.Workflows().size(), 3u);
  EXPECT_EQ(c.Workflows().size(), 6u);
  EXPECT_TRUE(instances_[3]->Workflows().empty());  // another customer's server
  EXPECT_NE(ids["a"], ids["b"]);

  WriteFlow("billing.json", WebhookWorkflow("Billing", "v2"));
  ProcessOptions in_flows;
  in_flows.cwd = flows_;  // a relative FILE, as users type it
  auto second_run = Run({"wf", "push", "billing.json", "--customer", "acme", "--json"}, in_flows);
  ASSERT_EQ(second_run.exit_code, 0) << second_run.out << second_run.err;
  J second = J::parse(second_run.out);
  EXPECT_EQ(second["summary"]["succeeded"], 3);
  for (const auto& r : second["results"]) {
    EXPECT_EQ(r["action"], "updated") << r.dump();
    EXPECT_EQ(r["id"], ids[r["server"]]);
  }
  auto third = Json({"wf", "push", "Billing", "--all", "--json"});
  EXPECT_EQ(third["summary"]["total"], 4);
  EXPECT_EQ(a.Workflows().size(), 1u);
  EXPECT_EQ(b.Workflows().size(), 3u);
  EXPECT_EQ(c.Workflows().size(), 6u);
  for (auto* n8n : {&a, &b, &c}) {
    for (const auto& wf : n8n->Workflows()) {
      if (wf["name"] == "Billing") {
        EXPECT_EQ(PathOf(wf), "v2");
      }
    }
  }
  EXPECT_EQ(Json({"wf", "list", "--json"})[0]["servers"].size(), 4u);
}

TEST_F(WorkflowCliTest, AChangeOnTheServerIsNotOverwrittenWithoutForce) {
  auto& n8n = AddInstance("a");
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("Billing"));
  Ok({"wf", "pull", id, "--server", "a", "--flow-dir", flows_});
  EditOnServer(n8n, keys_[0], id, WebhookWorkflow("Billing", "theirs"));
  WriteFlow("billing.json", WebhookWorkflow("Billing", "mine"));

  auto refused = Run({"wf", "push", flows_ + "/billing.json", "--server", "a"});
  EXPECT_EQ(refused.exit_code, 4) << refused.out << refused.err;  // every push failed
  EXPECT_NE(refused.out.find("changed on the server since the last pull"), std::string::npos)
      << refused.out;
  EXPECT_NE(refused.out.find("--force"), std::string::npos);
  EXPECT_EQ(PathOf(*n8n.Workflow(id)), "theirs");
  EXPECT_EQ(Json({"wf", "list", "--json"})[0]["servers"][0]["last_action"], "pull");

  auto dry = Run({"wf", "push", flows_ + "/billing.json", "--server", "a", "--dry-run", "--json"});
  EXPECT_EQ(J::parse(dry.out)["results"][0]["ok"], false);

  auto forced =
      Json({"wf", "push", flows_ + "/billing.json", "--server", "a", "--force", "--json"});
  EXPECT_EQ(forced["results"][0]["action"], "updated");
  EXPECT_EQ(PathOf(*n8n.Workflow(id)), "mine");
}

TEST_F(WorkflowCliTest, PullNeverWritesOutsideTheFlowDir) {
  auto& n8n = AddInstance("a");
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("../../etc/passwd"));
  for (const char* bad : {"../evil.json", "/tmp/evil.json", "sub/evil.json", ".."}) {
    auto result = Run({"wf", "pull", id, "--server", "a", "--flow-dir", flows_, "--filename", bad});
    EXPECT_EQ(result.exit_code, 1) << bad;
    EXPECT_NE(result.err.find("must be a plain file name inside the flow directory"),
              std::string::npos)
        << result.err;
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/evil.json"));
  EXPECT_FALSE(std::filesystem::exists("/tmp/evil.json"));
  // A hostile name becomes a plain slug inside the flow dir.
  auto pulled = Json({"wf", "pull", id, "--server", "a", "--flow-dir", flows_, "--json"});
  EXPECT_EQ(pulled[0]["file"], flows_ + "/etc-passwd.json");
  std::vector<std::string> entries;
  for (const auto& e : std::filesystem::directory_iterator(flows_)) {
    entries.push_back(e.path().filename());
  }
  EXPECT_EQ(entries, std::vector<std::string>{"etc-passwd.json"});
}

TEST_F(WorkflowCliTest, ADownServerFailsOnlyItselfInAFleetPush) {
  auto& a = AddInstance("a");
  auto& b = AddInstance("b", 1);
  Ok({"server", "create", "down", "http://127.0.0.1:1", "--customer", "acme"});
  Ok({"apikey", "add", MakeApiKey("down", 1700000000), "--name", "down-key", "--server", "down"});
  WriteFlow("billing.json", WebhookWorkflow("Billing"));

  auto result = Run({"wf", "push", flows_ + "/billing.json", "--all", "--json"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;  // partial
  J out = J::parse(result.out);
  EXPECT_EQ(out["summary"], (J{{"total", 3},
                               {"succeeded", 2},
                               {"failed", 1},
                               {"by_action", {{"created", 2}, {"failed", 1}}}}));
  for (const auto& r : out["results"]) {
    if (r["server"] == "down") {
      EXPECT_EQ(r["ok"], false);
      EXPECT_NE(r["error"].get<std::string>().find("server 'down'"), std::string::npos);
    } else {
      EXPECT_EQ(r["action"], "created") << r.dump();
    }
  }
  EXPECT_EQ(a.Workflows().size(), 1u);
  EXPECT_EQ(b.Workflows().size(), 2u);
  for (const auto& key : keys_) {
    EXPECT_EQ(result.out.find(key), std::string::npos);
    EXPECT_EQ(result.err.find(key), std::string::npos);
  }
  // The text form says the same, with a table and a summary line.
  auto text = Run({"wf", "push", "Billing", "--all"});
  EXPECT_EQ(text.exit_code, 3);
  EXPECT_NE(text.out.find("2 unchanged"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("1 failed"), std::string::npos) << text.out;
  EXPECT_NE(text.err.find("1 of 3 pushes failed"), std::string::npos) << text.err;
}

TEST_F(WorkflowCliTest, DryRunChangesNothingAndActivateActivates) {
  auto& n8n = AddInstance("a");
  WriteFlow("billing.json", WebhookWorkflow("Billing"));
  auto dry = Json({"wf", "push", flows_ + "/billing.json", "--server", "a", "--activate",
                   "--dry-run", "--json"});
  EXPECT_EQ(dry["dry_run"], true);
  EXPECT_EQ(dry["results"][0]["action"], "would create");
  EXPECT_TRUE(n8n.Workflows().empty());
  EXPECT_EQ(Json({"wf", "list", "--json"}).size(), 0u);

  auto live =
      Json({"wf", "push", flows_ + "/billing.json", "--server", "a", "--activate", "--json"});
  EXPECT_EQ(live["results"][0]["action"], "created");
  EXPECT_EQ(live["results"][0]["active"], true);
  ASSERT_EQ(n8n.Workflows().size(), 1u);
  EXPECT_EQ(n8n.Workflows()[0]["active"], true);
}

TEST_F(WorkflowCliTest, AWorkflowDeletedOnTheServerIsCreatedAgainAndTheMappingFixed) {
  auto& n8n = AddInstance("a");
  WriteFlow("billing.json", WebhookWorkflow("Billing"));
  auto first = Json({"wf", "push", flows_ + "/billing.json", "--server", "a", "--json"});
  std::string old_id = first["results"][0]["id"];
  auto transport = n8n::MakeCurlTransport();
  auto deleted = transport->Send(
      {"DELETE", n8n.url() + "/api/v1/workflows/" + old_id, {{"X-N8N-API-KEY", keys_[0]}}});
  ASSERT_TRUE(deleted && deleted->status == 200);

  auto again = Json({"wf", "push", "Billing", "--server", "a", "--json"});
  EXPECT_EQ(again["results"][0]["action"], "created");
  std::string new_id = again["results"][0]["id"];
  EXPECT_NE(new_id, old_id);
  EXPECT_EQ(Json({"wf", "list", "--json"})[0]["servers"][0]["id"], new_id);
  EXPECT_EQ(Json({"wf", "push", "Billing", "--server", "a", "--json"})["results"][0]["action"],
            "unchanged");
  EXPECT_EQ(n8n.Workflows().size(), 1u);
}

TEST_F(WorkflowCliTest, PullKeepsLocalChangesUnlessForced) {
  auto& n8n = AddInstance("a");
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("Billing"));
  Ok({"wf", "pull", "Billing", "--server", "a", "--flow-dir", flows_});  // by name
  WriteFlow("billing.json", WebhookWorkflow("Billing", "local edit"));
  auto refused = Run({"wf", "pull", id, "--server", "a", "--flow-dir", flows_});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_NE(refused.err.find("has changes made since it was last pulled or pushed"),
            std::string::npos)
      << refused.err;
  EXPECT_EQ(PathOf(ReadFlow("billing.json")), "local edit");
  // A file the database never wrote is not overwritten either.
  WriteFlow("mine.json", WebhookWorkflow("Mine"));
  auto foreign =
      Run({"wf", "pull", id, "--server", "a", "--flow-dir", flows_, "--filename", "mine.json"});
  EXPECT_EQ(foreign.exit_code, 1);
  EXPECT_NE(foreign.err.find("was not written by a pull"), std::string::npos) << foreign.err;

  Ok({"wf", "pull", id, "--server", "a", "--flow-dir", flows_, "--force"});
  EXPECT_EQ(PathOf(ReadFlow("billing.json")), "hook");
  auto missing = Run({"wf", "pull", "nope", "--server", "a", "--flow-dir", flows_});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("has no workflow with the id or name 'nope'"), std::string::npos);
}

TEST_F(WorkflowCliTest, ServerListsWorkflowsWithTheirLocalFiles) {
  auto& n8n = AddInstance("a");
  for (int i = 0; i < 130; ++i) n8n.AddWorkflow("wf " + std::to_string(i));  // two pages
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("Billing"));
  Ok({"wf", "pull", id, "--server", "a", "--flow-dir", flows_});
  auto listed = Json({"wf", "server", "--server", "a", "--json"});
  ASSERT_EQ(listed.size(), 131u);
  int with_file = 0;
  for (const auto& w : listed) {
    if (!w["local_file"].is_null()) {
      ++with_file;
      EXPECT_EQ(w["id"], id);
      EXPECT_EQ(w["local_file"], flows_ + "/billing.json");
    }
  }
  EXPECT_EQ(with_file, 1);
  auto text = Ok({"wf", "server", "--server", "a"});
  EXPECT_NE(text.out.find("Billing"), std::string::npos);
  auto unknown = Run({"wf", "server", "--server", "nope"});
  EXPECT_EQ(unknown.exit_code, 1);
}

TEST_F(WorkflowCliTest, TokenExchangeServersWorkToo) {
  auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
  Ok({"key", "generate"});
  Ok({"server", "create", "tx", n8n.url(), "--auth", "token-exchange"});
  TrustKeyEnv(n8n, Json({"key", "env", "--format", "json", "--server", "tx"}));
  WriteFlow("billing.json", WebhookWorkflow("Billing"));
  auto pushed = Json({"wf", "push", flows_ + "/billing.json", "--server", "tx", "--json"});
  EXPECT_EQ(pushed["results"][0]["action"], "created") << pushed.dump();
  EXPECT_EQ(n8n.Workflows().size(), 1u);
  EXPECT_EQ(Json({"wf", "server", "--server", "tx", "--json"}).size(), 1u);
  EXPECT_EQ(n8n.ExchangeCount(), 2);  // one per command
}

TEST_F(WorkflowCliTest, BadInputsAreClearErrors) {
  AddInstance("a");
  auto nowhere = Run({"wf", "push", "nope.json", "--server", "a"});
  EXPECT_EQ(nowhere.exit_code, 1);
  EXPECT_NE(nowhere.err.find("neither a file nor the name of a local workflow"), std::string::npos);
  std::ofstream(flows_ + "/broken.json") << "{\"name\": \"x\"";
  auto broken = Run({"wf", "push", flows_ + "/broken.json", "--server", "a"});
  EXPECT_EQ(broken.exit_code, 1);
  EXPECT_NE(broken.err.find("is not valid JSON"), std::string::npos) << broken.err;
  WriteFlow("billing.json", WebhookWorkflow("Billing"));
  auto no_target = Run({"wf", "push", flows_ + "/billing.json"});
  EXPECT_EQ(no_target.exit_code, 1);
  EXPECT_NE(no_target.err.find("--server NAME, --customer NAME or --all"), std::string::npos);
  auto both = Run({"wf", "push", flows_ + "/billing.json", "--server", "a", "--all"});
  EXPECT_EQ(both.exit_code, 2);
  auto no_dir = Run({"wf", "pull", "x", "--server", "a", "--flow-dir", flows_ + "/missing"});
  EXPECT_EQ(no_dir.exit_code, 1);
  EXPECT_NE(no_dir.err.find("does not exist"), std::string::npos);
}

}  // namespace
}  // namespace fleet::testing

namespace fleet::testing {
namespace {

// A push killed after n8n created the workflow but before the database recorded its id: the
// next push finds the identical workflow by name and adopts it instead of creating another.
TEST_F(WorkflowCliTest, APushInterruptedBeforeRecordingIsAdoptedNotDuplicated) {
  auto& n8n = AddInstance("a");
  WriteFlow("billing.json", WebhookWorkflow("Billing"));
  std::string id = n8n.SeedWorkflow(WebhookWorkflow("Billing"));  // what the lost push created

  auto pushed = Json({"wf", "push", flows_ + "/billing.json", "--server", "a", "--json"});
  EXPECT_EQ(pushed["results"][0]["action"], "unchanged") << pushed.dump();
  EXPECT_EQ(pushed["results"][0]["id"], id);
  EXPECT_NE(pushed["results"][0]["note"].get<std::string>().find("adopted"), std::string::npos);
  EXPECT_EQ(n8n.Workflows().size(), 1u);
  EXPECT_EQ(Json({"wf", "list", "--json"})[0]["servers"][0]["id"], id);
}

}  // namespace
}  // namespace fleet::testing
