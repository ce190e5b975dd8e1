// End-to-end: `n8n-fleet serve` as a real process, driven over HTTP and by signals, with fake
// n8n instances on 127.0.0.1; results checked in its database through the CLI.
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "cli_test_util.h"
#include "core/time.h"
#include "testing/background_process.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

using namespace std::chrono_literals;

Day Today() { return DayOf(std::time(nullptr)); }
int64_t TotalOf(int seed, int days_ago) { return 100 * seed + days_ago; }

class ServeTest : public CliTest {
 protected:
  FakeN8n& AddInstance(const std::string& name, int seed, int days = 5) {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    for (int ago = 1; ago <= days + 3; ++ago) {
      n8n.SetDailyInsights(FormatDay(Today() - ago), {TotalOf(seed, ago), 1, 0, 10});
    }
    std::string key = MakeApiKey(name, 1700000000);
    n8n.AcceptApiKey(key);
    Ok({"server", "create", name, n8n.url(), "--customer", "acme", "--tracking-since",
        FormatDay(Today() - days)});
    Ok({"apikey", "add", key, "--name", name + "-key", "--server", name});
    return n8n;
  }

  std::string Token(const std::string& name, bool read_only = false) {
    std::vector<std::string> args = {"token", "create", name, "--json"};
    if (read_only) args.push_back("--read-only");
    return Json(args)["token"];
  }

  // Starts `serve` on a free port and waits until it answers /healthz.
  std::unique_ptr<BackgroundProcess> Serve(std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {FleetBinary(), "--home",      home(),         "serve",
                                     "--listen",    "127.0.0.1:0", "--log-format", "json"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    ProcessOptions options;
    CleanEnv(options,
             {"N8N_FLEET_HOME", "N8N_FLEET_DB", "N8N_FLEET_MASTER_KEY", "N8N_FLEET_CONFIG"});
    auto process = std::make_unique<BackgroundProcess>(argv, options, dir_.path());
    port_ = 0;
    auto deadline = std::chrono::steady_clock::now() + 20s;
    while (std::chrono::steady_clock::now() < deadline && process->running()) {
      for (const auto& line : Lines(process->err())) {
        if (line.value("msg", "") == "serving") {
          std::string url = line["url"];
          port_ = std::stoi(url.substr(url.rfind(':') + 1));
        }
      }
      if (port_) break;
      std::this_thread::sleep_for(20ms);
    }
    EXPECT_NE(port_, 0) << "serve did not start: " << process->err();
    return process;
  }

  static std::vector<nlohmann::json> Lines(const std::string& text) {
    std::vector<nlohmann::json> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
      auto json = nlohmann::json::parse(line, nullptr, false);
      if (!json.is_discarded()) lines.push_back(json);
    }
    return lines;
  }

  httplib::Result Get(const std::string& path, const std::string& token) {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(20, 0);
    return client.Get(path.c_str(), {{"Authorization", "Bearer " + token}});
  }
  httplib::Result Post(const std::string& path, const std::string& token,
                       const std::string& body = "{}") {
    httplib::Client client("127.0.0.1", port_);
    client.set_read_timeout(20, 0);
    return client.Post(path.c_str(), {{"Authorization", "Bearer " + token}}, body,
                       "application/json");
  }

  // Polls GET /api/v1/runs/{id} until the run has finished.
  nlohmann::json AwaitRun(int64_t id, const std::string& token,
                          std::chrono::milliseconds timeout = 60s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    nlohmann::json run;
    while (std::chrono::steady_clock::now() < deadline) {
      auto res = Get("/api/v1/runs/" + std::to_string(id), token);
      if (res && res->status == 200) {
        run = nlohmann::json::parse(res->body);
        if (run["status"] != "running") return run;
      }
      std::this_thread::sleep_for(50ms);
    }
    ADD_FAILURE() << "run " << id << " did not finish: " << run.dump();
    return run;
  }

  int port_{0};
  std::vector<std::unique_ptr<FakeN8n>> instances_;
};

TEST_F(ServeTest, CollectsOverTheApiAndStoresEveryDayOnce) {
  AddInstance("a", 1);
  AddInstance("b", 2);
  std::string token = Token("ci");
  auto serve = Serve({"--collect-at", "23:59", "--log-level", "debug"});
  auto started = Post("/api/v1/collect", token, R"({"backfill":true})");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  int64_t id = nlohmann::json::parse(started->body)["run"];
  auto run = AwaitRun(id, token);
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["days_stored"], 10);
  for (auto [name, seed] : {std::pair{"a", 1}, std::pair{"b", 2}}) {
    auto totals = Totals(name);
    ASSERT_EQ(totals.size(), 5u) << name;
    for (int ago = 1; ago <= 5; ++ago) {
      EXPECT_EQ(totals[FormatDay(Today() - ago)], TotalOf(seed, ago)) << name << " " << ago;
    }
  }
  // The same days again through the API: replaced, never added to.
  auto again = Post(
      "/api/v1/collect", token,
      R"({"from":")" + FormatDay(Today() - 5) + R"(","to":")" + FormatDay(Today() - 1) + R"("})");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 202) << again->body;
  AwaitRun(nlohmann::json::parse(again->body)["run"], token);
  EXPECT_EQ(Totals("a")[FormatDay(Today() - 1)], TotalOf(1, 1));
  EXPECT_EQ(Totals("a").size(), 5u);
  // The monthly report over HTTP equals the CLI's.
  std::string month = FormatDay(Today() - 1).substr(0, 7);
  auto report = Get("/api/v1/reports/monthly?month=" + month + "&by=server", token);
  ASSERT_TRUE(report);
  ASSERT_EQ(report->status, 200) << report->body;
  auto cli = Json({"usage", "report", "--month", month, "--by", "server", "--format", "json"});
  auto api = nlohmann::json::parse(report->body);
  ASSERT_EQ(api["rows"].size(), cli["rows"].size());
  for (size_t i = 0; i < cli["rows"].size(); ++i) {
    EXPECT_EQ(api["rows"][i]["group"], cli["rows"][i]["group"]);
    EXPECT_EQ(api["rows"][i]["total"], cli["rows"][i]["total"]);
  }
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0) << serve->err();
  // Every request is logged at debug level, by token name, never with the token itself.
  std::string log = serve->err();
  EXPECT_NE(log.find("\"token_name\":\"ci\""), std::string::npos) << log;
  EXPECT_EQ(log.find(token), std::string::npos) << "the bearer token was logged";
  EXPECT_EQ(log.find(token.substr(8)), std::string::npos) << "part of the bearer token was logged";
}

TEST_F(ServeTest, StartUpRunCollectsYesterdayWhenTheDailyTimeHasPassed) {
  AddInstance("a", 3, 3);
  std::string token = Token("ci", /*read_only=*/true);
  auto serve = Serve({"--collect-at", "00:00"});
  ASSERT_TRUE(serve->WaitForOutput("\"msg\":\"run finished\"", 60s)) << serve->err();
  auto totals = Totals("a");
  EXPECT_EQ(totals.size(), 3u);
  EXPECT_EQ(totals[FormatDay(Today() - 1)], TotalOf(3, 1));
  // A read-only token may read but not start a collection.
  auto runs = Get("/api/v1/runs", token);
  ASSERT_TRUE(runs);
  EXPECT_EQ(runs->status, 200);
  EXPECT_EQ(nlohmann::json::parse(runs->body)["runs"][0]["status"], "succeeded") << runs->body;
  auto refused = Post("/api/v1/collect", token);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 403) << refused->body;
  serve->Signal(SIGINT);
  EXPECT_EQ(serve->Wait(20s), 0) << serve->err();
}

TEST_F(ServeTest, SigtermMidRunStoresWhatArrivedAndExitsCleanly) {
  if (OnPostgres())
    GTEST_SKIP()
        << "on PostgreSQL several services share a run and go on with it (tests/replicas/run.sh)";
  // Two quick instances, then four that take 300 ms per answer, one request at a time.
  AddInstance("a-quick", 1);
  AddInstance("b-quick", 2);
  std::vector<FakeN8n*> slow;
  for (const char* name : {"c-slow", "d-slow", "e-slow", "f-slow"}) {
    slow.push_back(&AddInstance(name, 3));
    slow.back()->SetFault(FakeN8n::Fault::kHang, 300);
  }
  std::string token = Token("ci");
  auto serve = Serve({"--collect-at", "23:59", "--concurrency", "1"});
  auto started = Post("/api/v1/collect", token, R"({"backfill":true})");
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  int64_t id = nlohmann::json::parse(started->body)["run"];
  // A second collection while this one runs is refused.
  auto busy = Post("/api/v1/collect", token);
  ASSERT_TRUE(busy);
  EXPECT_EQ(busy->status, 409) << busy->body;
  // Stop as soon as a slow instance is asked: at most two servers are in progress then.
  auto asked = [&] {
    for (auto* n8n : slow) {
      if (!n8n->Requests().empty()) return true;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline && !asked()) {
    std::this_thread::sleep_for(5ms);
  }
  ASSERT_TRUE(asked());
  auto signalled = std::chrono::steady_clock::now();
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0) << serve->err();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 15s);
  // The run is finished as interrupted, nothing is left "running"; the servers under way
  // finished within the grace period and were stored whole, the others were never asked.
  auto run = Json({"runs", "show", std::to_string(id), "--json"});
  EXPECT_EQ(run["status"], "interrupted") << run.dump();
  for (const char* name : {"a-quick", "b-quick"}) EXPECT_EQ(Totals(name).size(), 5u) << name;
  size_t untouched = 0;
  const char* names[] = {"c-slow", "d-slow", "e-slow", "f-slow"};
  for (size_t i = 0; i < slow.size(); ++i) {
    size_t days = Totals(names[i]).size();
    EXPECT_TRUE(days == 0 || days == 5) << names[i] << " stored in part: " << days;
    if (slow[i]->Requests().empty()) {
      EXPECT_EQ(days, 0u) << names[i];
      ++untouched;
    }
  }
  EXPECT_GE(untouched, 2u);
  EXPECT_EQ(Json({"usage", "gaps", "--json"}).size(), untouched);
}

TEST_F(ServeTest, GracePeriodBoundsShutdownWhenAnInstanceHangs) {
  if (OnPostgres())
    GTEST_SKIP()
        << "on PostgreSQL several services share a run and go on with it (tests/replicas/run.sh)";
  AddInstance("hangs", 1).SetFault(FakeN8n::Fault::kHang, 60000);
  std::string token = Token("ci");
  std::ofstream(dir_.path() + "/fleet.toml") << "shutdown_grace_seconds = 1\n";
  auto serve = Serve({"--collect-at", "23:59", "--config", dir_.path() + "/fleet.toml"});
  auto started = Post("/api/v1/collect", token);
  ASSERT_TRUE(started);
  ASSERT_EQ(started->status, 202) << started->body;
  std::this_thread::sleep_for(300ms);
  auto signalled = std::chrono::steady_clock::now();
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0) << serve->err();
  EXPECT_LT(std::chrono::steady_clock::now() - signalled, 8s);
  auto runs = Json({"runs", "list", "--json"});
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0]["status"], "interrupted");
  EXPECT_EQ(Totals("hangs").size(), 0u);
}

TEST_F(ServeTest, OneServicePerDatabaseAndTheCliKeepsWorking) {
  if (OnPostgres())
    GTEST_SKIP()
        << "on PostgreSQL several services share a run and go on with it (tests/replicas/run.sh)";
  AddInstance("a", 1, 2);
  std::string token = Token("ci");
  auto serve = Serve({"--collect-at", "23:59"});
  // A second service on the same database refuses to start.
  auto second = Run({"serve", "--listen", "127.0.0.1:0"}, {.timeout_ms = 20000});
  EXPECT_EQ(second.exit_code, 1);
  EXPECT_NE(second.err.find("another `n8n-fleet serve` is running"), std::string::npos)
      << second.err;
  // The CLI writes and collects against the database the service has open.
  AddInstance("b", 2, 2);
  auto collected = Json({"collect", "--json"});
  EXPECT_EQ(collected["status"], "succeeded") << collected.dump();
  auto servers = Get("/api/v1/servers", token);
  ASSERT_TRUE(servers);
  EXPECT_EQ(nlohmann::json::parse(servers->body)["servers"].size(), 2u);
  auto usage = Get("/api/v1/usage?server=b&from=" + FormatDay(Today() - 2), token);
  ASSERT_TRUE(usage);
  EXPECT_EQ(nlohmann::json::parse(usage->body)["usage"].size(), 2u) << usage->body;
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0);
}

TEST_F(ServeTest, RefusesPlainHttpOnANonLoopbackAddress) {
  Token("ci");
  auto result = Run({"serve", "--listen", "0.0.0.0:0"}, {.timeout_ms = 20000});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_NE(result.err.find("insecure"), std::string::npos) << result.err;
}

TEST_F(ServeTest, SighupReloadsTheConfiguration) {
  std::string config = dir_.path() + "/fleet.toml";
  std::ofstream(config) << "collect_at = \"23:58\"\n";
  Token("ci");
  auto serve = Serve({"--config", config});
  std::ofstream(config) << "collect_at = \"23:57\"\nlog_level = \"debug\"\n";
  serve->Signal(SIGHUP);
  EXPECT_TRUE(serve->WaitForOutput("\"collect_at\":\"23:57 UTC\"", 10s)) << serve->err();
  // A broken file is reported and the service keeps running on the last good one.
  std::ofstream(config) << "collect_at = \"25:00\"\n";
  serve->Signal(SIGHUP);
  EXPECT_TRUE(serve->WaitForOutput("configuration not reloaded", 10s)) << serve->err();
  EXPECT_TRUE(serve->running());
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0);
}

TEST_F(ServeTest, InstanceReportsArePushedWithAServerToken) {
  AddInstance("pushes", 1, 2);
  std::string api = Token("ci");
  auto env = Json({"server", "report-token", "pushes", "--url", "http://127.0.0.1:9", "--json"});
  std::string report_token = env["env"]["N8N_INSTANCE_REPORTING_AUTH_TOKEN"];
  auto serve = Serve({"--collect-at", "23:59"});
  std::string yesterday = FormatDay(Today() - 1);
  nlohmann::json body = {
      {"instanceId", "i-1"},
      {"batchId", "b-1"},
      {"label", "pushes"},
      {"n8nVersion", "2.40.7"},
      {"dataPoints",
       {{{"kind", "cumulative"}, {"name", "billableExecutions"}, {"value", 999}},
        {{"kind", "daily"}, {"name", "billableExecutions"}, {"value", 77}, {"date", yesterday}}}}};
  auto accepted = Post("/api/v1/instance-reports", report_token, body.dump());
  ASSERT_TRUE(accepted);
  EXPECT_EQ(accepted->status, 201) << accepted->body;
  auto again = Post("/api/v1/instance-reports", report_token, body.dump());
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409) << again->body;
  // An API token cannot push; a report token cannot read.
  EXPECT_EQ(Post("/api/v1/instance-reports", api, body.dump())->status, 403);
  EXPECT_EQ(Get("/api/v1/servers", report_token)->status, 403);
  auto pushed = Get("/api/v1/usage?source=push&server=pushes&from=" + yesterday, api);
  ASSERT_TRUE(pushed);
  auto rows = nlohmann::json::parse(pushed->body)["usage"];
  ASSERT_EQ(rows.size(), 1u) << pushed->body;
  EXPECT_EQ(rows[0]["total"], 77);
  EXPECT_EQ(rows[0]["source"], "push");
  serve->Signal(SIGTERM);
  EXPECT_EQ(serve->Wait(20s), 0);
}

}  // namespace
}  // namespace fleet::testing
