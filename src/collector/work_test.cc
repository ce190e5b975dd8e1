// Collecting through the work queue: two collectors on one SQLite file, fake n8n instances over
// the real libcurl transport on 127.0.0.1, and a fake clock that lets leases expire.
#include "collector/work.h"

#include <gtest/gtest.h>

#include "collector/run.h"
#include "collector/store_sink.h"
#include "core/jwt.h"
#include "crypto/sealer.h"
#include "n8n/http.h"
#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"
#include "testing/fake_clock.h"
#include "testing/fake_n8n.h"

namespace fleet::collector {
namespace {

using testing::FakeN8n;

Day D(const char* text) { return *ParseDay(text); }

// One collector: its own connection, registry and authenticator over the shared file.
struct Collector {
  Collector(const std::string& path, const crypto::Sealer& sealer, const Clock& clock)
      : store(std::move(*storage::OpenSqliteStore({.path = path}))),
        registry(*store, sealer, clock),
        auth(registry, clock),
        transport(n8n::MakeCurlTransport()) {}
  std::unique_ptr<storage::Store> store;
  registry::Registry registry;
  registry::Authenticator auth;
  std::unique_ptr<n8n::HttpTransport> transport;
};

class WorkTest : public ::testing::Test {
 protected:
  WorkTest()
      : clock_(StartOfDay(D("2026-11-24")) + 12 * 3600),
        sealer_(*crypto::Sealer::FromKey(crypto::RandomBytes(crypto::kMasterKeyBytes))) {
    a_ = std::make_unique<Collector>(path_, sealer_, clock_);
    b_ = std::make_unique<Collector>(path_, sealer_, clock_);
    for (int i = 0; i < 6; ++i) AddInstance("s" + std::to_string(i));
  }

  void AddInstance(const std::string& name) {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    n8n.SetToday("2026-11-24");
    n8n.SetDailyInsights("2026-11-21", {200, 0, 100, 200 * 40.0});
    n8n.SetDailyInsights("2026-11-22", {307, 7, 0, 307 * 12.5});
    n8n.SetDailyInsights("2026-11-23", {51, 51, 10.25, 51 * 1000.0});
    std::string key = Base64UrlEncode(R"({"alg":"HS256"})") + "." +
                      Base64UrlEncode("{\"sub\":\"" + name + "\"}") + ".c2ln";
    n8n.AcceptApiKey(key);
    ASSERT_TRUE(a_->registry.CreateServer({.name = name, .url = n8n.url()}));
    ASSERT_TRUE(a_->registry.AddApiKey(name + "-key", key, "", name));
  }

  // A run of every server over 2026-11-21..23, queued.
  int64_t Prepare() {
    CollectionRequest request;
    request.days = {D("2026-11-21"), D("2026-11-22"), D("2026-11-23")};
    auto prepared = PrepareRun(*a_->store, request, clock_.NowUnixSeconds());
    EXPECT_TRUE(prepared) << prepared.error().message;
    return prepared ? prepared->run.id : 0;
  }

  Result<WorkReport> Drain(Collector& c, const std::string& owner, int64_t run_id,
                           const std::atomic<bool>* stop = nullptr) {
    WorkOptions options;
    options.owner = owner;
    options.run_id = run_id;
    options.lease_seconds = 60;
    options.claim_servers = 2;
    options.engine.concurrency = 2;
    options.engine.sleep = [](std::chrono::milliseconds) {};
    options.stop = stop;
    return DrainWork(*c.store, c.auth, *c.transport, clock_, options);
  }

  size_t InsightsRequests() const {
    size_t n = 0;
    for (const auto& i : instances_) {
      for (const auto& r : i->Requests()) n += r.find("/insights/summary") != std::string::npos;
    }
    return n;
  }

  void ExpectEveryDayOnce() {
    auto rows = a_->store->ListDailyUsage({});
    ASSERT_TRUE(rows);
    ASSERT_EQ(rows->size(), 18u);  // 6 servers x 3 days, each once
    int64_t total = 0;
    for (const auto& r : *rows) total += r.total;
    EXPECT_EQ(total, 6 * (200 + 307 + 51));
  }

  storage::TempDir dir_;
  std::string path_{dir_.File("fleet.db")};
  testing::FakeClock clock_;
  crypto::Sealer sealer_;
  std::vector<std::unique_ptr<FakeN8n>> instances_;
  std::unique_ptr<Collector> a_;
  std::unique_ptr<Collector> b_;
};

TEST_F(WorkTest, OneCollectorDrainsTheRunAndTheRunClosesSucceeded) {
  int64_t run = Prepare();

  auto report = Drain(*a_, "a", run);

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->claims, 6);
  EXPECT_EQ(report->days_stored, 18);
  EXPECT_EQ(report->runs, std::vector<int64_t>{run});
  ExpectEveryDayOnce();
  auto closed = a_->store->CloseRunIfDone(run, clock_.NowUnixSeconds());
  ASSERT_TRUE(closed && *closed);
  EXPECT_EQ((*closed)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*closed)->servers_attempted, 6);
  EXPECT_EQ((*closed)->days_stored, 18);
}

// Issue 8 (soak): serve logged every failed attempt with "run":"0", because on_attempt saw the
// attempts before the sink gave them their run's id.
TEST_F(WorkTest, OnAttemptSeesEachAttemptsRunId) {
  instances_[0]->FailNext(100, 400);
  int64_t run = Prepare();
  std::vector<FetchAttempt> seen;
  WorkOptions options;
  options.owner = "a";
  options.run_id = run;
  options.engine.sleep = [](std::chrono::milliseconds) {};
  options.on_attempt = [&](const FetchAttempt& attempt) { seen.push_back(attempt); };

  auto report = DrainWork(*a_->store, a_->auth, *a_->transport, clock_, options);

  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(seen.size(), 18u);  // 6 servers x 3 days
  for (const auto& attempt : seen) EXPECT_EQ(attempt.run_id, run) << attempt.server;
  EXPECT_EQ(std::count_if(seen.begin(), seen.end(),
                          [](const FetchAttempt& a) { return a.outcome != "ok"; }),
            3);
}

TEST_F(WorkTest, ACrashedCollectorsServersAreCollectedByAnotherOnceItsLeaseExpires) {
  int64_t run = Prepare();
  // "dead" claims two servers and never finishes them.
  auto dead = a_->store->ClaimWork({.owner = "dead",
                                    .run_id = run,
                                    .now = clock_.NowUnixSeconds(),
                                    .lease_seconds = 60,
                                    .max_servers = 2});
  ASSERT_TRUE(dead);
  ASSERT_EQ(dead->size(), 2u);

  auto first = Drain(*b_, "live", run);
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->claims, 4);  // the leased two are left alone while the lease runs
  size_t requests_before = InsightsRequests();
  auto progress = a_->store->GetWorkProgress(run, clock_.NowUnixSeconds());
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->servers_leased, 2);
  EXPECT_FALSE(a_->store->CloseRunIfDone(run, clock_.NowUnixSeconds()).value());

  clock_.Advance(61);
  auto second = Drain(*b_, "live", run);

  ASSERT_TRUE(second) << second.error().message;
  EXPECT_EQ(second->claims, 2);
  EXPECT_GT(InsightsRequests(), requests_before);
  ExpectEveryDayOnce();
  auto closed = a_->store->CloseRunIfDone(run, clock_.NowUnixSeconds());
  ASSERT_TRUE(closed && *closed);
  EXPECT_EQ((*closed)->status, RunStatus::kSucceeded);
  EXPECT_EQ((*closed)->servers_succeeded, 6);
}

TEST_F(WorkTest, AStoppedCollectorGivesItsLeasesBackAtOnce) {
  int64_t run = Prepare();
  std::atomic<bool> stop{true};

  auto stopped = Drain(*a_, "a", run, &stop);

  ASSERT_TRUE(stopped);
  EXPECT_EQ(stopped->days_stored, 0);
  auto progress = a_->store->GetWorkProgress(run, clock_.NowUnixSeconds());
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->servers_leased, 0);
  auto other = Drain(*b_, "b", run);  // no waiting for a lease to expire
  ASSERT_TRUE(other);
  EXPECT_EQ(other->claims, 6);
  ExpectEveryDayOnce();
}

TEST_F(WorkTest, ExecuteRunWaitsForAnotherCollectorsServersThenCloses) {
  auto prepared = PrepareRun(*a_->store, {.days = {D("2026-11-23")}}, clock_.NowUnixSeconds());
  ASSERT_TRUE(prepared);
  auto held = b_->store->ClaimWork({.owner = "b",
                                    .run_id = prepared->run.id,
                                    .now = clock_.NowUnixSeconds(),
                                    .lease_seconds = 60,
                                    .max_servers = 1});
  ASSERT_TRUE(held && held->size() == 1u);
  // "b" finishes its server while "a" waits for it.
  std::thread other([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    EXPECT_TRUE(b_->store->FinishWork("b", prepared->run.id, (*held)[0].server.name,
                                      {{"2026-11-23", "failed"}}));
  });
  RunOptions options;
  options.owner = "a";
  options.poll = std::chrono::milliseconds(50);
  options.engine.sleep = [](std::chrono::milliseconds) {};

  auto report = ExecuteRun(*prepared, *a_->store, a_->auth, *a_->transport, clock_, options);
  other.join();

  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->run.status, RunStatus::kPartial);
  EXPECT_EQ(report->run.servers_attempted, 6);
  EXPECT_EQ(report->run.servers_failed, 1);
  EXPECT_EQ(report->days_stored, 5);
}

TEST_F(WorkTest, AFinishAfterTheLeaseWasTakenOverStoresTheFiguresAndCountsTheLostLease) {
  int64_t run = Prepare();
  auto slow = a_->store->ClaimWork({.owner = "slow",
                                    .run_id = run,
                                    .now = clock_.NowUnixSeconds(),
                                    .lease_seconds = 60,
                                    .max_servers = 6});
  ASSERT_TRUE(slow && slow->size() == 6u);
  clock_.Advance(61);
  auto taken = Drain(*b_, "fast", run);
  ASSERT_TRUE(taken);
  EXPECT_EQ(taken->claims, 6);

  // "slow" comes back with its figures: they are upserted (not added) and its finish refused.
  StoreSink sink(*a_->store, run, 256, "slow");
  ServerOutcome outcome;
  outcome.server = (*slow)[0].server.name;
  DayOutcome day;
  day.day = D("2026-11-23");
  day.figures = DailyFigures{.total = 51, .failed = 51};
  day.attempt = {.run_id = run, .server = outcome.server, .day = "2026-11-23", .outcome = "ok"};
  outcome.days.push_back(day);
  sink.Accept(outcome);
  sink.Flush();

  EXPECT_FALSE(sink.write_error().has_value());
  EXPECT_EQ(sink.lost_leases(), 1);
  ExpectEveryDayOnce();
}

TEST_F(WorkTest, AServerRemovedWhileBeingCollectedDoesNotCostTheOthersTheirFigures) {
  int64_t run = Prepare();
  auto claims = a_->store->ClaimWork({.owner = "a",
                                      .run_id = run,
                                      .now = clock_.NowUnixSeconds(),
                                      .lease_seconds = 60,
                                      .max_servers = 2});
  ASSERT_TRUE(claims && claims->size() == 2u);
  StoreSink sink(*a_->store, run, 256, "a");
  for (const auto& claim : *claims) {
    ServerOutcome outcome;
    outcome.server = claim.server.name;
    DayOutcome day;
    day.day = D("2026-11-23");
    day.figures = DailyFigures{.total = 51, .failed = 51};
    day.attempt = {.run_id = run, .server = outcome.server, .day = "2026-11-23", .outcome = "ok"};
    outcome.days.push_back(day);
    sink.Accept(outcome);
  }
  ASSERT_TRUE(a_->store->DeleteServer((*claims)[0].server.name, false));

  sink.Flush();

  EXPECT_FALSE(sink.write_error().has_value()) << sink.write_error()->message;
  auto rows = a_->store->ListDailyUsage({});
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 1u);
  EXPECT_EQ((*rows)[0].server, (*claims)[1].server.name);
  auto progress = a_->store->GetWorkProgress(run, clock_.NowUnixSeconds());
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->servers_total, 5);  // the removed server's work went with it
}

}  // namespace
}  // namespace fleet::collector
