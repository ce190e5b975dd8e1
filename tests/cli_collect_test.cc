// End-to-end: `collect`, `runs`, `usage` against several fake n8n instances with known daily
// counts; the real binary as a subprocess, results checked in its database through the CLI.
#include <signal.h>

#include <chrono>
#include <map>
#include <thread>

#include "cli_test_util.h"
#include "core/time.h"
#include "testing/background_process.h"
#include "testing/fake_n8n.h"

namespace fleet::testing {
namespace {

Day Today() { return DayOf(std::time(nullptr)); }

// Known figures: day index i days before today -> total 10*seed + i, failed seed % 3.
int64_t TotalOf(int seed, int days_ago) { return 10 * seed + days_ago; }

class CollectCliTest : public CliTest {
 protected:
  // A fake instance with `days` days of known figures before today, registered as `name`
  // (API key auth) with tracking from `days` days ago.
  FakeN8n& AddInstance(const std::string& name, int seed, int days = 10,
                       const std::string& customer = "acme") {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    for (int ago = 1; ago <= days + 5; ++ago) {
      n8n.SetDailyInsights(FormatDay(Today() - ago),
                           {TotalOf(seed, ago), seed % 3, 1.5 * ago, 100.0 * TotalOf(seed, ago)});
    }
    n8n.SetDailyInsights(FormatDay(Today()), {3, 0, 0, 30});
    std::string key = MakeApiKey(name, 1700000000);
    n8n.AcceptApiKey(key);
    Ok({"server", "create", name, n8n.url(), "--customer", customer, "--tracking-since",
        FormatDay(Today() - days)});
    Ok({"apikey", "add", key, "--name", name + "-key", "--server", name});
    return n8n;
  }

  std::vector<std::unique_ptr<FakeN8n>> instances_;
};

TEST_F(CollectCliTest, BackfillStoresEveryTrackedDayExactlyOnce) {
  AddInstance("a", 1);
  AddInstance("b", 2);
  AddInstance("c", 3, 10, "globex");
  auto run = Json({"collect", "--backfill", "--json"});
  EXPECT_EQ(run["status"], "succeeded") << run.dump();
  EXPECT_EQ(run["days_stored"], 30);
  for (auto [name, seed] : {std::pair{"a", 1}, std::pair{"b", 2}, std::pair{"c", 3}}) {
    auto totals = Totals(name);
    ASSERT_EQ(totals.size(), 10u) << name;
    for (int ago = 1; ago <= 10; ++ago) {
      EXPECT_EQ(totals[FormatDay(Today() - ago)], TotalOf(seed, ago)) << name << " " << ago;
    }
  }
  // Oldest first, per server.
  auto shown = Json({"runs", "show", std::to_string(run["run"].get<int64_t>()), "--json"});
  std::vector<std::string> a_days;
  for (const auto& attempt : shown["attempts"]) {
    if (attempt["server"] == "a") a_days.push_back(attempt["day"]);
    EXPECT_EQ(attempt["outcome"], "ok") << attempt.dump();
  }
  EXPECT_TRUE(std::is_sorted(a_days.begin(), a_days.end()));
  EXPECT_EQ(a_days.front(), FormatDay(Today() - 10));
  EXPECT_EQ(Json({"usage", "gaps", "--json"}).size(), 0u);
}

TEST_F(CollectCliTest, RecollectingReplacesDaysAndNeverAddsToThem) {
  auto& n8n = AddInstance("a", 4, 5);
  Ok({"collect", "--backfill", "--json"});
  std::string yesterday = FormatDay(Today() - 1);
  EXPECT_EQ(Totals("a")[yesterday], TotalOf(4, 1));
  // Late data: the instance's compaction counted more executions for yesterday.
  n8n.SetDailyInsights(yesterday, {TotalOf(4, 1) + 17, 1, 3, 300});
  auto again = Json({"collect", "--json"});  // default: the last two finished days
  EXPECT_EQ(again["days_stored"], 2);
  auto totals = Totals("a");
  EXPECT_EQ(totals.size(), 5u);
  EXPECT_EQ(totals[yesterday], TotalOf(4, 1) + 17);
  Ok({"collect", "--day", yesterday});
  Ok({"collect", "--day", yesterday});
  EXPECT_EQ(Totals("a").size(), 5u);
  EXPECT_EQ(Totals("a")[yesterday], TotalOf(4, 1) + 17);
}

TEST_F(CollectCliTest, AnOldIsolatedDayIsNotDoubleCounted) {
  AddInstance("a", 5);
  std::string day = FormatDay(Today() - 6);
  auto run = Json({"collect", "--day", day, "--json"});
  EXPECT_EQ(run["requests"], 3);  // S([D,today)), S([D+1,today)), S([D,today)) again
  EXPECT_EQ(Totals("a")[day], TotalOf(5, 6));
}

TEST_F(CollectCliTest, PartialFailureIsRecordedPerServerAndExitsThree) {
  AddInstance("good", 1);
  AddInstance("error", 2).SetFault(FakeN8n::Fault::kServerError);
  AddInstance("slow", 3).SetFault(FakeN8n::Fault::kHang, 5000);
  AddInstance("garbage", 4).SetFault(FakeN8n::Fault::kGarbage);
  AddInstance("limited", 5).FailNext(1, 429, 1);
  auto result = Run({"collect", "--day", "yesterday", "--timeout", "1", "--json"});
  EXPECT_EQ(result.exit_code, 3) << result.out << result.err;
  auto run = nlohmann::json::parse(result.out);
  EXPECT_EQ(run["status"], "partial");
  EXPECT_EQ(run["succeeded"], 2);
  EXPECT_EQ(run["failed"], 3);
  std::string yesterday = FormatDay(Today() - 1);
  EXPECT_EQ(Totals("good")[yesterday], TotalOf(1, 1));
  EXPECT_EQ(Totals("limited")[yesterday], TotalOf(5, 1));
  EXPECT_TRUE(Totals("garbage").empty());
  auto shown = Json({"runs", "show", std::to_string(run["run"].get<int64_t>()), "--json"});
  std::map<std::string, nlohmann::json> by_server;
  for (const auto& attempt : shown["attempts"]) by_server[attempt["server"]] = attempt;
  EXPECT_EQ(by_server["error"]["outcome"], "http_status");
  EXPECT_EQ(by_server["error"]["http_status"], 500);
  EXPECT_EQ(by_server["slow"]["outcome"], "timeout");
  EXPECT_EQ(by_server["garbage"]["outcome"], "bad_response");
  EXPECT_EQ(by_server["limited"]["outcome"], "ok");
  auto runs = Json({"runs", "list", "--json"});
  EXPECT_EQ(runs[0]["status"], "partial");
}

TEST_F(CollectCliTest, EveryServerFailingExitsFour) {
  AddInstance("down", 1).SetFault(FakeN8n::Fault::kServerError);
  auto result = Run({"collect", "--json"});
  EXPECT_EQ(result.exit_code, 4) << result.out << result.err;
}

TEST_F(CollectCliTest, AKilledRunLosesNothingAndTheNextRunCompletesExactlyOnce) {
  if (OnPostgres())
    GTEST_SKIP() << "on PostgreSQL a killed collector's servers wait for their lease to expire "
                    "(tests/replicas/run.sh)";
  std::vector<FakeN8n*> slow;
  for (int i = 0; i < 12; ++i) {
    auto& n8n = AddInstance("s" + std::to_string(i), i, 6);
    n8n.SetFault(FakeN8n::Fault::kHang, 150);
    slow.push_back(&n8n);
  }
  auto killed =
      Run({"collect", "--backfill", "--concurrency", "2", "--json"}, {.timeout_ms = 1200});
  EXPECT_EQ(killed.exit_code, 137) << "the run finished before it could be killed";
  for (auto* n8n : slow) n8n->SetFault(FakeN8n::Fault::kNone);
  auto resumed = Json({"collect", "--backfill", "--json"});
  EXPECT_EQ(resumed["status"], "succeeded");
  for (int i = 0; i < 12; ++i) {
    auto totals = Totals("s" + std::to_string(i));
    ASSERT_EQ(totals.size(), 6u);
    for (int ago = 1; ago <= 6; ++ago) EXPECT_EQ(totals[FormatDay(Today() - ago)], TotalOf(i, ago));
  }
  auto runs = Json({"runs", "list", "--json"});
  ASSERT_EQ(runs.size(), 2u);
  EXPECT_EQ(runs[1]["status"], "interrupted");
}

TEST_F(CollectCliTest, RespectsTheConcurrencyLimit) {
  auto& shared = AddInstance("s0", 1, 2);
  for (int i = 1; i < 16; ++i) {
    std::string name = "s" + std::to_string(i);
    Ok({"server", "create", name, shared.url(), "--tracking-since", FormatDay(Today() - 2)});
    Ok({"server", "link", "s0-key", name});
  }
  shared.SetFault(FakeN8n::Fault::kHang, 40);
  shared.ResetStats();
  auto run = Json({"collect", "--concurrency", "3", "--json"});
  EXPECT_EQ(run["succeeded"], 16);
  EXPECT_LE(shared.MaxConcurrent(), 3);
  EXPECT_GE(shared.MaxConcurrent(), 2);
}

TEST_F(CollectCliTest, DaysBeyondTheInstancesHistoryAreUnrecoverableAndNotRetried) {
  auto& n8n = AddInstance("a", 1, 10);
  n8n.SetHistoryDays(4);
  auto run = Json({"collect", "--backfill", "--json"});
  EXPECT_EQ(run["status"], "succeeded");
  EXPECT_GT(run["days_unrecoverable"].get<int>(), 0);
  auto gaps = Json({"usage", "gaps", "--json"});
  ASSERT_EQ(gaps.size(), 1u);
  EXPECT_EQ(gaps[0]["missing"].size(), 0u);
  EXPECT_EQ(gaps[0]["unrecoverable"].size(), run["days_unrecoverable"].get<size_t>());
  n8n.ResetStats();
  Ok({"collect", "--backfill"});
  for (const auto& request : n8n.Requests()) {
    EXPECT_EQ(request.find("startDate=" + FormatDay(Today() - 10)), std::string::npos) << request;
  }
}

TEST_F(CollectCliTest, TokenExchangeServersExchangeOncePerRun) {
  auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
  for (int ago = 1; ago <= 4; ++ago) n8n.SetDailyInsights(FormatDay(Today() - ago), {ago, 0, 0, 0});
  Ok({"key", "generate"});
  Ok({"server", "create", "tx", n8n.url(), "--auth", "token-exchange", "--tracking-since",
      FormatDay(Today() - 4)});
  TrustKeyEnv(n8n, Json({"key", "env", "--format", "json", "--server", "tx"}));
  auto run = Json({"collect", "--backfill", "--json"});
  EXPECT_EQ(run["days_stored"], 4);
  EXPECT_EQ(n8n.ExchangeCount(), 1);
  EXPECT_EQ(Totals("tx")[FormatDay(Today() - 3)], 3);
}

TEST_F(CollectCliTest, MonthlyReportSumsPerCustomerAndFlagsGaps) {
  AddInstance("a", 1, 3, "acme");
  AddInstance("b", 2, 3, "acme");
  AddInstance("c", 3, 3, "globex");
  Ok({"collect", "--backfill"});
  Ok({"server", "create", "late", "http://127.0.0.1:1", "--customer", "globex", "--tracking-since",
      FormatDay(Today() - 1)});  // never collected: globex is incomplete
  std::string month = FormatDay(Today() - 1).substr(0, 7);
  auto report = Json({"usage", "report", "--month", month, "--json"});
  std::map<std::string, nlohmann::json> rows;
  for (const auto& row : report["rows"]) rows[row["group"]] = row;
  int64_t acme = 0, globex = 0;
  for (int ago = 1; ago <= 3; ++ago) {
    if ((Today() - ago) < *ParseDay(month + "-01")) continue;
    acme += TotalOf(1, ago) + TotalOf(2, ago);
    globex += TotalOf(3, ago);
  }
  EXPECT_EQ(rows["acme"]["total"], acme);
  EXPECT_EQ(rows["globex"]["total"], globex);
  EXPECT_EQ(rows["acme"]["complete"], true);
  EXPECT_EQ(rows["globex"]["complete"], false);
  EXPECT_NE(report["note"].get<std::string>().find("error-workflow"), std::string::npos);
  auto csv = Ok({"usage", "report", "--month", month, "--format", "csv"});
  EXPECT_EQ(csv.out.rfind("group,customer,servers,total,failed,days_collected,days_expected,"
                          "push_total,push_days,disagreements\r\n",
                          0),
            0u)
      << csv.out;
  EXPECT_NE(csv.out.find("acme,acme,2," + std::to_string(acme) + ","), std::string::npos)
      << csv.out;
  auto table = Ok({"usage", "report", "--month", month});
  EXPECT_NE(table.out.find("INCOMPLETE"), std::string::npos) << table.out;
  auto by_server = Json({"usage", "report", "--month", month, "--by", "server", "--json"});
  EXPECT_EQ(by_server["rows"].size(), 4u);
  EXPECT_EQ(Run({"usage", "report", "--month", "2026-13"}).exit_code, 1);
}

TEST_F(CollectCliTest, UsageShowFiltersAndWritesCsv) {
  AddInstance("a", 1, 3, "acme");
  AddInstance("b", 2, 3, "globex");
  Ok({"collect", "--backfill"});
  auto acme = Json({"usage", "show", "--customer", "acme", "--json"});
  EXPECT_EQ(acme.size(), 3u);
  std::string day = FormatDay(Today() - 2);
  auto one_day = Json({"usage", "show", "--from", day, "--to", day, "--json"});
  EXPECT_EQ(one_day.size(), 2u);
  auto csv = Ok({"usage", "show", "--server", "b", "--format", "csv"});
  EXPECT_EQ(csv.out.rfind("day,server,customer,total,failed,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find(day + ",b,globex," + std::to_string(TotalOf(2, 2)) + ",2,"),
            std::string::npos)
      << csv.out;
}

TEST_F(CollectCliTest, RefusesBadDaysAndUnknownServers) {
  AddInstance("a", 1);
  EXPECT_EQ(Run({"collect", "--day", FormatDay(Today() + 1)}).exit_code, 1);
  EXPECT_EQ(Run({"collect", "--day", "2026-02-30"}).exit_code, 1);
  auto ghost = Run({"collect", "--server", "ghost"});
  EXPECT_EQ(ghost.exit_code, 1);
  EXPECT_NE(ghost.err.find("ghost"), std::string::npos);
  EXPECT_EQ(Json({"runs", "list", "--json"}).size(), 0u);
}

TEST_F(CollectCliTest, CtrlCStoresWhatArrivedAndMarksTheRunInterrupted) {
  AddInstance("a-quick", 1, 3);
  std::vector<FakeN8n*> slow;
  std::vector<std::string> names = {"b-slow", "c-slow", "d-slow", "e-slow"};
  for (const auto& name : names) {
    slow.push_back(&AddInstance(name, 2, 3));
    slow.back()->SetFault(FakeN8n::Fault::kHang, 300);
  }
  ProcessOptions env;
  CleanEnv(env);
  BackgroundProcess collect(
      {FleetBinary(), "--home", home(), "collect", "--backfill", "--concurrency", "1", "--json"},
      env, dir_.path());
  // Interrupt as soon as a slow instance is asked: at most two servers are in progress then.
  auto asked = [&] {
    for (auto* n8n : slow) {
      if (!n8n->Requests().empty()) return true;
    }
    return false;
  };
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline && !asked()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(collect.Signal(SIGINT));
  EXPECT_EQ(collect.Wait(std::chrono::seconds(30)), 3) << collect.err();
  auto out = nlohmann::json::parse(collect.out(), nullptr, false);
  ASSERT_FALSE(out.is_discarded()) << collect.out();
  EXPECT_EQ(out["status"], "interrupted");
  // Servers under way finished and were stored whole; those not started were never asked.
  size_t untouched = 0;
  for (size_t i = 0; i < slow.size(); ++i) {
    size_t days = Totals(names[i]).size();
    EXPECT_TRUE(days == 0 || days == 3) << names[i] << " stored in part: " << days;
    if (slow[i]->Requests().empty()) {
      EXPECT_EQ(days, 0u) << names[i];
      ++untouched;
    }
  }
  EXPECT_GE(untouched, 2u);
  EXPECT_EQ(out["servers_not_started"].get<size_t>(), untouched);
  // The next collect picks up where it stopped.
  for (auto* n8n : slow) n8n->SetFault(FakeN8n::Fault::kNone);
  EXPECT_EQ(Json({"collect", "--backfill", "--json"})["status"], "succeeded");
  EXPECT_EQ(Json({"usage", "gaps", "--json"}).size(), 0u);
}

}  // namespace
}  // namespace fleet::testing
