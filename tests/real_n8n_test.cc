// End-to-end against a REAL n8n started by tests/real_n8n/run.sh: N8N_REAL_URL,
// N8N_REAL_API_KEY (created through n8n's REST API) and N8N_REAL_FLEET_HOME (an n8n-fleet home
// whose published keys the instance trusts, configured from `key env --server real-tx` as is).
// Before the suite, run.sh ran N8N_REAL_MANUAL_RUNS manual (editor) runs and then
// N8N_REAL_EXPECTED_TODAY_TOTAL production webhook executions on the instance, all on the UTC day
// N8N_REAL_DAY, and waited until n8n's own Insights summary showed exactly that total: `collect`
// must store exactly what n8n counted.
// N8N_REAL_JWKS_HOME: a second fleet home with its own keys (issuer https://jwks.fleet.test, kids
// jwks-es256 active and jwks-rs256 standby) and the server real-jwks. n8n does not have these keys
// as static entries: it trusts `{"type":"jwks","url":...}` of `n8n-fleet serve` for that home,
// whose request log (JSON lines, debug level) is N8N_REAL_JWKS_LOG.
// Without that instance the suite fails instead of passing silently.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "cli_test_util.h"
#include "core/time.h"
#include "n8n/http.h"
#include "n8n/token_exchange.h"

namespace fleet::testing {
namespace {

class RealN8nTest : public CliTest {
 protected:
  void SetUp() override { SetUpFrom("N8N_REAL_FLEET_HOME"); }

  // Checks the environment run.sh exports and copies the fleet home named by `home_env`.
  void SetUpFrom(const char* home_env) {
    const char* url = std::getenv("N8N_REAL_URL");
    const char* key = std::getenv("N8N_REAL_API_KEY");
    const char* fleet_home = std::getenv(home_env);
    ASSERT_TRUE(url && key && fleet_home && *url && *key && *fleet_home)
        << "N8N_REAL_URL / N8N_REAL_API_KEY / " << home_env
        << " unset: run this suite through tests/real_n8n/run.sh";
    url_ = url;
    key_ = key;
    const char* expected = std::getenv("N8N_REAL_EXPECTED_TODAY_TOTAL");
    const char* manual = std::getenv("N8N_REAL_MANUAL_RUNS");
    const char* day = std::getenv("N8N_REAL_DAY");
    ASSERT_TRUE(expected && manual && day && *expected && *manual && *day)
        << "N8N_REAL_EXPECTED_TODAY_TOTAL / N8N_REAL_MANUAL_RUNS / N8N_REAL_DAY unset: run this "
           "suite through tests/real_n8n/run.sh";
    expected_today_ = std::atoll(expected);
    manual_runs_ = std::atoll(manual);
    today_ = FormatDay(DayOf(static_cast<int64_t>(std::time(nullptr))));
    ASSERT_EQ(today_, day) << "the UTC day changed since run.sh produced the executions";
    // Each test works on its own copy of the fleet home (keys, servers).
    std::filesystem::copy(fleet_home, home(), std::filesystem::copy_options::recursive);
  }

  nlohmann::json ServerTest(const std::string& name, int expected_exit) {
    auto result = Run({"server", "test", name, "--json"});
    EXPECT_EQ(result.exit_code, expected_exit) << result.out << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
    return json;
  }

  // A server authenticated with the API key run.sh created through n8n.
  void AddApiKeyServer(const std::string& name, const std::string& url) {
    Ok({"server", "create", name, url});
    Ok({"apikey", "add", "-", "--name", name + "-key", "--server", name}, {.stdin_data = key_});
  }

  // `collect ARGS --json`: checks the exit code, returns the run summary.
  nlohmann::json Collect(std::vector<std::string> args, int expected_exit) {
    args.insert(args.begin(), "collect");
    args.push_back("--json");
    auto result = Run(args);
    EXPECT_EQ(result.exit_code, expected_exit) << result.out << result.err;
    auto json = nlohmann::json::parse(result.out, nullptr, false);
    EXPECT_FALSE(json.is_discarded()) << result.out << result.err;
    return json.is_discarded() ? nlohmann::json::object() : json;
  }

  nlohmann::json Usage(const std::string& server = "") {
    std::vector<std::string> args = {"usage", "show", "--json"};
    if (!server.empty()) args.insert(args.end(), {"--server", server});
    return Json(args);
  }

  nlohmann::json RunShow(const nlohmann::json& run_id) {
    return Json({"runs", "show", std::to_string(run_id.get<int64_t>()), "--json"});
  }

  // Collects today for `server` and proves the stored row is exactly n8n's count; returns the run.
  nlohmann::json CollectTodayExactly(const std::string& server) {
    auto run = Collect({"--day", "today", "--server", server}, 0);
    EXPECT_EQ(run["status"], "succeeded") << run.dump(2);
    EXPECT_EQ(run["servers"], 1) << run.dump(2);
    EXPECT_EQ(run["succeeded"], 1) << run.dump(2);
    EXPECT_EQ(run["failed"], 0) << run.dump(2);
    EXPECT_EQ(run["days_stored"], 1) << run.dump(2);
    EXPECT_EQ(run["days_failed"], 0) << run.dump(2);
    auto rows = Usage(server);
    EXPECT_EQ(rows.size(), 1u) << rows.dump(2);
    if (rows.size() == 1) {
      EXPECT_EQ(rows[0]["day"], today_) << rows.dump(2);
      EXPECT_EQ(rows[0]["server"], server) << rows.dump(2);
      EXPECT_EQ(rows[0]["total"].get<int64_t>(), expected_today_)
          << "want exactly the " << expected_today_ << " webhook executions n8n's Insights "
          << "counted today (not the " << manual_runs_ << " manual runs): " << rows.dump(2);
      EXPECT_EQ(rows[0]["failed"], 0) << rows.dump(2);
      EXPECT_EQ(rows[0]["failure_rate"], 0.0) << rows.dump(2);
      EXPECT_EQ(rows[0]["run"], run["run"]) << rows.dump(2);
    }
    auto shown = RunShow(run["run"]);
    EXPECT_EQ(shown["status"], "succeeded") << shown.dump(2);
    EXPECT_EQ(shown["servers_attempted"], 1) << shown.dump(2);
    EXPECT_EQ(shown["servers_succeeded"], 1) << shown.dump(2);
    EXPECT_EQ(shown["servers_failed"], 0) << shown.dump(2);
    EXPECT_EQ(shown["days_stored"], 1) << shown.dump(2);
    EXPECT_EQ(shown["attempts"].size(), 1u) << shown.dump(2);
    if (shown["attempts"].size() == 1) {
      const auto& attempt = shown["attempts"][0];
      EXPECT_EQ(attempt["server"], server) << shown.dump(2);
      EXPECT_EQ(attempt["day"], today_) << shown.dump(2);
      EXPECT_EQ(attempt["outcome"], "ok") << shown.dump(2);
      EXPECT_EQ(attempt["http_status"], 200) << shown.dump(2);
    }
    return run;
  }

  // A TCP port on 127.0.0.1 that nothing listens on (bound, then released): a stopped instance.
  static int UnusedPort() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
      port = ntohs(addr.sin_port);
    }
    ::close(fd);
    return port;
  }

  std::string url_, key_, today_;
  int64_t expected_today_{}, manual_runs_{};
};

TEST_F(RealN8nTest, ApiKeyTestPassesWithAKeyCreatedThroughN8n) {
  Ok({"server", "create", "real", url_});
  Ok({"apikey", "add", "-", "--name", "real-key", "--server", "real"}, {.stdin_data = key_});
  auto result = Json({"apikey", "test", "real-key", "--json"});
  EXPECT_EQ(result["ok"], true) << result.dump(2);
  for (const auto& step : result["steps"]) EXPECT_EQ(step["ok"], true) << step.dump();
  EXPECT_NE(Json({"apikey", "list", "--json"})[0]["last_used"], nullptr);
}

TEST_F(RealN8nTest, ApiKeyTestFailsWithAKeyN8nDidNotIssue) {
  std::string forged = MakeApiKey("forged", 1700000000);
  Ok({"apikey", "add", forged, "--name", "forged"});
  auto result = Run({"apikey", "test", "forged", "--server-url", url_, "--json"});
  EXPECT_EQ(result.exit_code, 1) << result.out << result.err;
  auto json = nlohmann::json::parse(result.out);
  EXPECT_EQ(json["steps"][1]["step"], "reachable");
  EXPECT_EQ(json["steps"][1]["ok"], true);
  EXPECT_EQ(json["steps"][2]["step"], "authenticated");
  EXPECT_EQ(json["steps"][2]["ok"], false);
  EXPECT_NE(json["steps"][2]["detail"].get<std::string>().find("401"), std::string::npos)
      << json.dump(2);
}

TEST_F(RealN8nTest, ServerTestPassesWithAnApiKey) {
  Ok({"server", "create", "real-api", url_});
  Ok({"apikey", "add", "-", "--name", "real-key", "--server", "real-api"}, {.stdin_data = key_});
  auto report = ServerTest("real-api", 0);
  ASSERT_EQ(report["steps"].size(), 4u) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "api key");
  EXPECT_EQ(report["steps"][3]["step"], "insights readable");
  EXPECT_EQ(report["ok"], true) << report.dump(2);
}

TEST_F(RealN8nTest, ServerTestPassesWithTokenExchangeSignedEs256) {
  auto started = std::chrono::steady_clock::now();
  auto report = ServerTest("real-tx", 0);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange");
  std::printf("server test with token exchange (ES256), whole command: %lld ms\n",
              static_cast<long long>(elapsed.count()));
}

TEST_F(RealN8nTest, ServerTestPassesWithTheStandbyRs256KeyOnceActivated) {
  Ok({"key", "activate", "fleet-rs256"});
  auto report = ServerTest("real-tx", 0);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
}

TEST_F(RealN8nTest, AKeyTheInstanceDoesNotTrustFailsWithInvalidGrantAndItsCauses) {
  Ok({"key", "generate", "--kid", "untrusted", "--activate"});
  auto report = ServerTest("real-tx", 1);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange");
  EXPECT_EQ(report["steps"][1]["ok"], false);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("invalid_grant"), std::string::npos) << detail;
  EXPECT_NE(detail.find("key env"), std::string::npos) << detail;
}

TEST_F(RealN8nTest, ARetiredKeyIsNotUsedAndSaysSo) {
  Ok({"key", "retire", "fleet-es256"});
  auto report = ServerTest("real-tx", 1);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("no signing key is active"), std::string::npos) << detail;
}

TEST_F(RealN8nTest, ASubjectTokenIsSingleUseAndBoundToItsAudience) {
  auto transport = n8n::MakeCurlTransport();
  auto exchange = [&](const std::string& subject) {
    auto response = transport->Send(n8n::TokenExchangeRequest({url_, true}, subject));
    EXPECT_TRUE(response.has_value());
    return n8n::ParseTokenExchangeResponse(*response, "real-tx", 0);
  };
  auto minted = Ok({"key", "mint", "real-tx"});
  std::string subject(minted.out.substr(0, minted.out.find('\n')));
  auto first = exchange(subject);
  EXPECT_TRUE(first.has_value()) << first.error().message;
  auto replay = exchange(subject);
  ASSERT_FALSE(replay.has_value());
  EXPECT_EQ(replay.error().code, ErrorCode::kUnauthenticated);
  EXPECT_NE(replay.error().message.find("invalid_grant"), std::string::npos);

  // The same instance under another URL: the token's aud is not the expectedAudience it trusts.
  std::string alias = url_;
  alias.replace(alias.find("127.0.0.1"), 9, "localhost");
  Ok({"server", "create", "alias", alias, "--auth", "token-exchange"});
  auto report = ServerTest("alias", 1);
  EXPECT_EQ(report["steps"][1]["ok"], false) << report.dump(2);
}

// ---- collect: exactly what n8n counted ----

TEST_F(RealN8nTest, CollectTodayWithAnApiKeyStoresExactlyWhatN8nCountedAndIsIdempotent) {
  AddApiKeyServer("real-api", url_);
  auto first = CollectTodayExactly("real-api");

  // Again: the day's row is replaced, never added to.
  auto second = CollectTodayExactly("real-api");
  EXPECT_NE(first["run"], second["run"]);
  auto rows = Usage();
  ASSERT_EQ(rows.size(), 1u) << rows.dump(2);
  EXPECT_EQ(rows[0]["total"].get<int64_t>(), expected_today_) << rows.dump(2);
  EXPECT_EQ(rows[0]["run"], second["run"]) << rows.dump(2);
  auto runs = Json({"runs", "list", "--json"});
  ASSERT_EQ(runs.size(), 2u) << runs.dump(2);
  for (const auto& r : runs) EXPECT_EQ(r["status"], "succeeded") << runs.dump(2);
}

TEST_F(RealN8nTest, CollectTodayWithTokenExchangeStoresExactlyWhatN8nCounted) {
  CollectTodayExactly("real-tx");
  // The same figure through the API key: both authentications read the same Insights.
  AddApiKeyServer("real-api", url_);
  CollectTodayExactly("real-api");
  auto rows = Usage();
  ASSERT_EQ(rows.size(), 2u) << rows.dump(2);
  EXPECT_EQ(rows[0]["total"], rows[1]["total"]) << rows.dump(2);
}

TEST_F(RealN8nTest, DefaultCollectHasNothingDueOnTheDayTrackingBegan) {
  // Both servers were registered today, so tracking began today: the default run (the last two
  // finished days, from tracking_since on) has no day due yet.
  AddApiKeyServer("real-api", url_);
  EXPECT_EQ(Json({"server", "show", "real-tx", "--json"})["tracking_since"], today_);
  EXPECT_EQ(Json({"server", "show", "real-api", "--json"})["tracking_since"], today_);
  auto run = Collect({}, 0);
  std::printf("default collect on the day tracking began: %s\n", run.dump().c_str());
  EXPECT_EQ(run["status"], "succeeded") << run.dump(2);
  EXPECT_EQ(run["servers"], 0) << run.dump(2);
  EXPECT_EQ(run["days_stored"], 0) << run.dump(2);
  EXPECT_EQ(run["failed"], 0) << run.dump(2);
  EXPECT_EQ(run["requests"], 0) << run.dump(2);
  EXPECT_TRUE(Usage().empty());
  auto shown = RunShow(run["run"]);
  EXPECT_EQ(shown["status"], "succeeded") << shown.dump(2);
  EXPECT_TRUE(shown["attempts"].empty()) << shown.dump(2);
}

TEST_F(RealN8nTest, PastDaysAreExactAndTodaysExecutionsDoNotLeakIntoThem) {
  // n8n widens a window that ends on a past day by one day (n8n-reference.md section 2): read
  // carelessly, yesterday would show today's executions. The instance ran nothing before today.
  Day today = *ParseDay(today_);
  std::string yesterday = FormatDay(today - 1), before = FormatDay(today - 2);
  Ok({"server", "create", "real-past", url_, "--tracking-since", before});
  Ok({"apikey", "add", "-", "--name", "past-key", "--server", "real-past"}, {.stdin_data = key_});

  auto run = Collect({"--server", "real-past"}, 0);  // default: the two finished days
  EXPECT_EQ(run["status"], "succeeded") << run.dump(2);
  EXPECT_EQ(run["days_stored"], 2) << run.dump(2);
  auto rows = Usage("real-past");
  ASSERT_EQ(rows.size(), 2u) << rows.dump(2);
  for (const auto& row : rows) {
    EXPECT_TRUE(row["day"] == before || row["day"] == yesterday) << rows.dump(2);
    EXPECT_EQ(row["total"], 0) << "a day before the instance existed: " << rows.dump(2);
    EXPECT_EQ(row["failed"], 0) << rows.dump(2);
  }

  // A range reaching today: the past days stay 0, today is exactly n8n's count.
  run = Collect({"--from", before, "--to", "today", "--server", "real-past"}, 0);
  EXPECT_EQ(run["days_stored"], 3) << run.dump(2);
  rows = Usage("real-past");
  ASSERT_EQ(rows.size(), 3u) << rows.dump(2);
  for (const auto& row : rows) {
    int64_t want = row["day"] == today_ ? expected_today_ : 0;
    EXPECT_EQ(row["total"].get<int64_t>(), want) << row["day"] << ": " << rows.dump(2);
  }
}

TEST_F(RealN8nTest, AnUnreachableServerIsRecordedAndLeavesStoredRowsAlone) {
  AddApiKeyServer("real-api", url_);
  auto good = CollectTodayExactly("real-api");
  int port = UnusedPort();
  ASSERT_NE(port, 0);
  AddApiKeyServer("down", "http://127.0.0.1:" + std::to_string(port));

  auto started = std::chrono::steady_clock::now();
  auto run = Collect({"--day", "today", "--server", "down", "--timeout", "5"}, 4);
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  std::printf("collect against a stopped instance: exit 4 after %lld ms\n",
              static_cast<long long>(elapsed.count()));
  EXPECT_EQ(run["status"], "failed") << run.dump(2);
  EXPECT_EQ(run["servers"], 1) << run.dump(2);
  EXPECT_EQ(run["succeeded"], 0) << run.dump(2);
  EXPECT_EQ(run["failed"], 1) << run.dump(2);
  EXPECT_EQ(run["days_stored"], 0) << run.dump(2);
  auto shown = RunShow(run["run"]);
  EXPECT_EQ(shown["status"], "failed") << shown.dump(2);
  ASSERT_EQ(shown["attempts"].size(), 1u) << shown.dump(2);
  EXPECT_EQ(shown["attempts"][0]["server"], "down") << shown.dump(2);
  EXPECT_EQ(shown["attempts"][0]["day"], today_) << shown.dump(2);
  EXPECT_EQ(shown["attempts"][0]["outcome"], "unreachable") << shown.dump(2);

  auto rows = Usage();
  ASSERT_EQ(rows.size(), 1u) << rows.dump(2);
  EXPECT_EQ(rows[0]["server"], "real-api");
  EXPECT_EQ(rows[0]["total"].get<int64_t>(), expected_today_);
  EXPECT_EQ(rows[0]["run"], good["run"]) << "the failed run must not touch stored rows";

  // Both together: partial (exit 3); the reachable one is stored, the other recorded.
  run =
      Collect({"--day", "today", "--server", "real-api", "--server", "down", "--timeout", "5"}, 3);
  EXPECT_EQ(run["status"], "partial") << run.dump(2);
  EXPECT_EQ(run["succeeded"], 1) << run.dump(2);
  EXPECT_EQ(run["failed"], 1) << run.dump(2);
  rows = Usage();
  ASSERT_EQ(rows.size(), 1u) << rows.dump(2);
  EXPECT_EQ(rows[0]["server"], "real-api");
  EXPECT_EQ(rows[0]["total"].get<int64_t>(), expected_today_);
  EXPECT_EQ(rows[0]["run"], run["run"]) << rows.dump(2);
}

// ---- JWKS: n8n trusts the keys `serve` publishes at /.well-known/jwks.json ----

class RealN8nJwksTest : public RealN8nTest {
 protected:
  void SetUp() override { SetUpFrom("N8N_REAL_JWKS_HOME"); }

  // The JWKS requests `serve` logged, with their statuses. Nothing in the harness but n8n asks
  // for that path (run.sh waits for "serving" in the log, not for the route).
  static std::vector<std::string> JwksRequestStatuses() {
    const char* path = std::getenv("N8N_REAL_JWKS_LOG");
    EXPECT_TRUE(path && *path) << "N8N_REAL_JWKS_LOG unset: run this suite through run.sh";
    std::vector<std::string> statuses;
    std::istringstream lines(path ? ReadAll(path) : "");
    for (std::string line; std::getline(lines, line);) {
      auto entry = nlohmann::json::parse(line, nullptr, false);
      if (entry.is_discarded() || entry.value("msg", "") != "request") continue;
      if (entry.value("path", "") != "/.well-known/jwks.json") continue;
      statuses.push_back(entry["status"].is_string() ? entry["status"].get<std::string>()
                                                     : entry["status"].dump());
    }
    return statuses;
  }
};

TEST_F(RealN8nJwksTest, ServerTestExchangesATokenSignedWithAKeyN8nFetchedFromOurJwks) {
  auto fetched = JwksRequestStatuses();
  ASSERT_FALSE(fetched.empty()) << "n8n never fetched /.well-known/jwks.json from serve";
  for (const auto& status : fetched) EXPECT_EQ(status, "200");
  std::printf("n8n fetched the JWKS %zu time(s) so far\n", fetched.size());

  auto report = ServerTest("real-jwks", 0);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
  ASSERT_GE(report["steps"].size(), 2u) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange") << report.dump(2);
  EXPECT_EQ(report["steps"][1]["ok"], true) << report.dump(2);
}

TEST_F(RealN8nJwksTest, CollectTodayThroughJwksTrustStoresExactlyWhatN8nCounted) {
  CollectTodayExactly("real-jwks");
}

TEST_F(RealN8nJwksTest, TheStandbyKeyTheJwksAlreadyPublishedWorksOnceActivated) {
  // Rotation without downtime: n8n learnt the standby key from the JWKS before it was used.
  Ok({"key", "activate", "jwks-rs256"});
  auto report = ServerTest("real-jwks", 0);
  EXPECT_EQ(report["ok"], true) << report.dump(2);
}

TEST_F(RealN8nJwksTest, AKeyOurJwksNeverPublishedIsRefusedDespiteTheTrustedIssuer) {
  // Same issuer, but the key exists only in this copy of the home, not in what serve publishes:
  // n8n verifies against the fetched key set, so the exchange fails.
  Ok({"key", "generate", "--alg", "ES256", "--kid", "jwks-unpublished", "--issuer",
      "https://jwks.fleet.test", "--activate"});
  auto report = ServerTest("real-jwks", 1);
  ASSERT_GE(report["steps"].size(), 2u) << report.dump(2);
  EXPECT_EQ(report["steps"][1]["step"], "token exchange") << report.dump(2);
  EXPECT_EQ(report["steps"][1]["ok"], false) << report.dump(2);
  std::string detail = report["steps"][1]["detail"];
  EXPECT_NE(detail.find("invalid_grant"), std::string::npos) << detail;
}

}  // namespace
}  // namespace fleet::testing
