// `wf` against REAL n8n instances: run by tests/real_n8n/run.sh (filter RealN8nWorkflowTest.*).
// The main instance (N8N_REAL_URL, the fleet home's server real-tx: token exchange) and two more
// plain ones (N8N_REAL_WF_URLS / N8N_REAL_WF_KEYS, space-separated; API keys), so a push to three
// servers goes to three instances that each give their own ids. Every test uses workflow names of
// its own: the instances are shared by the whole suite.
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "../cli_test_util.h"
#include "n8n/workflows.h"

namespace fleet::testing {
namespace {

using J = nlohmann::json;

std::vector<std::string> Words(const char* text) {
  std::vector<std::string> words;
  std::istringstream in(text != nullptr ? text : "");
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

// A webhook workflow as a user would write it: no node ids (n8n assigns them).
J Webhook(const std::string& name, const std::string& path) {
  return J{{"name", name},
           {"nodes", J::array({{{"name", "Webhook"},
                                {"type", "n8n-nodes-base.webhook"},
                                {"typeVersion", 2},
                                {"position", {0, 0}},
                                {"parameters", {{"path", path}, {"httpMethod", "GET"}}}}})},
           {"connections", J::object()},
           {"settings", {{"executionOrder", "v1"}}}};
}

class RealN8nWorkflowTest : public CliTest {
 protected:
  void SetUp() override {
    const char* url = std::getenv("N8N_REAL_URL");
    const char* key = std::getenv("N8N_REAL_API_KEY");
    const char* home_copy = std::getenv("N8N_REAL_FLEET_HOME");
    ASSERT_TRUE(url && key && home_copy && *url && *key && *home_copy)
        << "N8N_REAL_URL / N8N_REAL_API_KEY / N8N_REAL_FLEET_HOME unset: run through "
           "tests/real_n8n/run.sh";
    urls_ = {url};
    keys_ = {key};
    for (const auto& u : Words(std::getenv("N8N_REAL_WF_URLS"))) urls_.push_back(u);
    for (const auto& k : Words(std::getenv("N8N_REAL_WF_KEYS"))) keys_.push_back(k);
    ASSERT_EQ(urls_.size(), 3u) << "N8N_REAL_WF_URLS must name the two extra instances";
    ASSERT_EQ(keys_.size(), 3u) << "N8N_REAL_WF_KEYS must hold their API keys";
    std::filesystem::copy(home_copy, home(), std::filesystem::copy_options::recursive);
    // real-tx: the main instance through token exchange; n2, n3: the others with API keys.
    Ok({"server", "update", "real-tx", "--customer", "acme"});
    for (int i = 1; i < 3; ++i) {
      std::string name = "n" + std::to_string(i + 1);
      Ok({"server", "create", name, urls_[i], "--customer", "acme"});
      Ok({"apikey", "add", "-", "--name", name + "-key", "--server", name},
         {.stdin_data = keys_[i]});
    }
    flows_ = dir_.path() + "/flows";
    std::filesystem::create_directories(flows_);
    suffix_ = std::to_string(::getpid()) + "-" + std::to_string(std::time(nullptr));
  }

  n8n::Endpoint EndpointOf(int i) const { return {urls_[i], true}; }
  n8n::ApiAuth AuthOf(int i) const { return n8n::ApiAuth::ApiKey(keys_[i]); }

  // The instance's workflows named `name`, read with n8n's own API.
  std::vector<n8n::WorkflowSummary> Named(int i, const std::string& name) {
    auto list = n8n::ListWorkflows(*transport_, EndpointOf(i), AuthOf(i));
    EXPECT_TRUE(list.has_value()) << list.error().message;
    std::vector<n8n::WorkflowSummary> out;
    for (const auto& w : list.value_or(std::vector<n8n::WorkflowSummary>{})) {
      if (w.name == name) out.push_back(w);
    }
    return out;
  }
  J Remote(int i, const std::string& id) {
    auto got = n8n::GetWorkflow(*transport_, EndpointOf(i), AuthOf(i), id);
    EXPECT_TRUE(got.has_value()) << got.error().message;
    return got.value_or(J::object());
  }
  void WriteFlow(const std::string& file, const J& workflow) {
    std::ofstream(flows_ + "/" + file) << workflow.dump(2) << "\n";
  }
  J PushJson(const std::vector<std::string>& args, int expected_exit) {
    std::vector<std::string> argv = {"wf", "push"};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--json");
    auto result = Run(argv);
    EXPECT_EQ(result.exit_code, expected_exit) << result.out << result.err;
    J out = J::parse(result.out, nullptr, false);
    EXPECT_FALSE(out.is_discarded()) << result.out << result.err;
    return out.is_discarded() ? J::object() : out;
  }

  std::vector<std::string> urls_, keys_;
  std::string flows_, suffix_;
  std::unique_ptr<n8n::HttpTransport> transport_ = n8n::MakeCurlTransport();
};

TEST_F(RealN8nWorkflowTest, PullEditPushThenTheDiffIsEmpty) {
  const std::string name = "fleet roundtrip " + suffix_;
  auto created =
      n8n::CreateWorkflow(*transport_, EndpointOf(0), AuthOf(0), Webhook(name, "rt-" + suffix_));
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const std::string id = (*created)["id"];

  auto pulled = Json({"wf", "pull", id, "--server", "real-tx", "--flow-dir", flows_, "--json"});
  ASSERT_EQ(pulled.size(), 1u);
  const std::string file = pulled[0]["file"];
  EXPECT_EQ(file.rfind(flows_ + "/fleet-roundtrip-", 0), 0u) << file;
  J kept = J::parse(ReadAll(file));
  EXPECT_FALSE(kept.contains("updatedAt"));
  // n8n gave the node an id and a webhookId; the file keeps them, so a push keeps them stable.
  const std::string node_id = kept["nodes"][0]["id"];
  EXPECT_FALSE(node_id.empty());
  EXPECT_TRUE(kept["nodes"][0].contains("webhookId"));
  EXPECT_EQ(Ok({"wf", "diff", file, "--server", "real-tx"}).out, "");

  kept["nodes"][0]["parameters"]["path"] = "rt-edited-" + suffix_;
  kept["settings"]["timezone"] = "Europe/Berlin";
  std::ofstream(file) << kept.dump(2) << "\n";
  auto diff = Run({"wf", "diff", file, "--server", "real-tx", "--exit-code"});
  EXPECT_EQ(diff.exit_code, 1) << diff.out << diff.err;
  EXPECT_NE(diff.out.find("## nodes"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("## settings"), std::string::npos) << diff.out;
  EXPECT_NE(diff.out.find("rt-edited-" + suffix_), std::string::npos) << diff.out;

  J pushed = PushJson({file, "--server", "real-tx"}, 0);
  EXPECT_EQ(pushed["results"][0]["action"], "updated") << pushed.dump(2);
  EXPECT_EQ(pushed["results"][0]["id"], id);
  J remote = Remote(0, id);
  EXPECT_EQ(remote["nodes"][0]["parameters"]["path"], "rt-edited-" + suffix_);
  EXPECT_EQ(remote["nodes"][0]["id"], node_id);
  EXPECT_EQ(remote["settings"]["timezone"], "Europe/Berlin");
  EXPECT_EQ(pushed["results"][0]["updated_at"], remote["updatedAt"]);
  EXPECT_EQ(Ok({"wf", "diff", file, "--server", "real-tx"}).out, "");

  // Pushing again changes nothing on the instance (every n8n save bumps updatedAt).
  J again = PushJson({name, "--server", "real-tx"}, 0);
  EXPECT_EQ(again["results"][0]["action"], "unchanged") << again.dump(2);
  EXPECT_EQ(Remote(0, id)["updatedAt"], remote["updatedAt"]);
  EXPECT_EQ(Named(0, name).size(), 1u);
}

TEST_F(RealN8nWorkflowTest, PushToThreeInstancesAndRePushCreatesNoDuplicates) {
  const std::string name = "fleet rollout " + suffix_;
  WriteFlow("rollout.json", Webhook(name, "ro-" + suffix_));
  J first = PushJson({flows_ + "/rollout.json", "--customer", "acme"}, 0);
  EXPECT_EQ(first["summary"]["total"], 3) << first.dump(2);
  EXPECT_EQ(first["summary"]["succeeded"], 3) << first.dump(2);
  std::map<std::string, std::string> ids;
  for (const auto& r : first["results"]) {
    EXPECT_EQ(r["action"], "created") << r.dump();
    ids[r["server"]] = r["id"];
  }
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Named(i, name).size(), 1u) << urls_[i];
  EXPECT_EQ(Named(0, name)[0].id, ids["real-tx"]);
  EXPECT_EQ(Named(1, name)[0].id, ids["n2"]);
  EXPECT_EQ(Named(2, name)[0].id, ids["n3"]);

  WriteFlow("rollout.json", Webhook(name, "ro-v2-" + suffix_));
  J second = PushJson({flows_ + "/rollout.json", "--customer", "acme"}, 0);
  for (const auto& r : second["results"]) {
    EXPECT_EQ(r["action"], "updated") << r.dump();
    EXPECT_EQ(r["id"], ids[r["server"]]);
  }
  J third = PushJson({name, "--customer", "acme"}, 0);
  EXPECT_EQ(third["summary"]["by_action"], (J{{"unchanged", 3}})) << third.dump(2);
  for (int i = 0; i < 3; ++i) {
    auto named = Named(i, name);
    ASSERT_EQ(named.size(), 1u) << urls_[i];
    EXPECT_EQ(Remote(i, named[0].id)["nodes"][0]["parameters"]["path"], "ro-v2-" + suffix_);
  }
  auto listed = Json({"wf", "list", "--json"});
  ASSERT_EQ(listed.size(), 1u);
  EXPECT_EQ(listed[0]["servers"].size(), 3u);
}

TEST_F(RealN8nWorkflowTest, AChangeMadeInN8nIsNotOverwrittenWithoutForce) {
  const std::string name = "fleet conflict " + suffix_;
  WriteFlow("conflict.json", Webhook(name, "cf-" + suffix_));
  J first = PushJson({flows_ + "/conflict.json", "--server", "n2"}, 0);
  const std::string id = first["results"][0]["id"];
  // Someone edits it on the instance.
  J theirs = Remote(1, id);
  theirs["nodes"][0]["parameters"]["path"] = "cf-theirs-" + suffix_;
  ASSERT_TRUE(n8n::UpdateWorkflow(*transport_, EndpointOf(1), AuthOf(1), id, theirs).has_value());

  WriteFlow("conflict.json", Webhook(name, "cf-mine-" + suffix_));
  J refused = PushJson({flows_ + "/conflict.json", "--server", "n2"}, 4);
  EXPECT_EQ(refused["results"][0]["ok"], false);
  EXPECT_NE(refused["results"][0]["error"].get<std::string>().find("changed on the server"),
            std::string::npos)
      << refused.dump(2);
  EXPECT_EQ(Remote(1, id)["nodes"][0]["parameters"]["path"], "cf-theirs-" + suffix_);

  J forced = PushJson({flows_ + "/conflict.json", "--server", "n2", "--force"}, 0);
  EXPECT_EQ(forced["results"][0]["action"], "updated");
  EXPECT_EQ(Remote(1, id)["nodes"][0]["parameters"]["path"], "cf-mine-" + suffix_);
}

TEST_F(RealN8nWorkflowTest, APulledFileNeverLeavesTheFlowDir) {
  const std::string name = "../../fleet traversal " + suffix_;
  auto created =
      n8n::CreateWorkflow(*transport_, EndpointOf(1), AuthOf(1), Webhook(name, "tr-" + suffix_));
  ASSERT_TRUE(created.has_value()) << created.error().message;
  const std::string id = (*created)["id"];
  for (const char* bad : {"../evil.json", "/tmp/evil.json", "a/../../evil.json"}) {
    auto result =
        Run({"wf", "pull", id, "--server", "n2", "--flow-dir", flows_, "--filename", bad});
    EXPECT_EQ(result.exit_code, 1) << bad;
    EXPECT_NE(result.err.find("plain file name inside the flow directory"), std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/evil.json"));
  auto pulled = Json({"wf", "pull", id, "--server", "n2", "--flow-dir", flows_, "--json"});
  EXPECT_EQ(pulled[0]["file"], flows_ + "/fleet-traversal-" + suffix_ + ".json");
}

TEST_F(RealN8nWorkflowTest, ADownServerFailsOnlyItselfAndActivateWorks) {
  const std::string name = "fleet partial " + suffix_;
  Ok({"server", "update", "n2", "--customer", "globex"});
  Ok({"server", "update", "n3", "--customer", "globex"});
  Ok({"server", "create", "down", "http://127.0.0.1:1", "--customer", "globex"});
  Ok({"apikey", "add", "-", "--name", "down-key", "--server", "down"}, {.stdin_data = keys_[1]});
  WriteFlow("partial.json", Webhook(name, "pt-" + suffix_));

  J result = PushJson({flows_ + "/partial.json", "--customer", "globex", "--activate"}, 3);
  EXPECT_EQ(result["summary"]["total"], 3);
  EXPECT_EQ(result["summary"]["succeeded"], 2);
  EXPECT_EQ(result["summary"]["failed"], 1);
  for (const auto& r : result["results"]) {
    if (r["server"] == "down") {
      EXPECT_NE(r["error"].get<std::string>().find("server 'down'"), std::string::npos);
      continue;
    }
    EXPECT_EQ(r["action"], "created") << r.dump();
    EXPECT_EQ(r["active"], true) << r.dump();
    int i = r["server"] == "n2" ? 1 : 2;
    EXPECT_EQ(Remote(i, r["id"])["active"], true);
  }
  for (const auto& key : keys_) EXPECT_EQ(result.dump().find(key), std::string::npos);
}

}  // namespace
}  // namespace fleet::testing
