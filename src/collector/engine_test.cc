// The engine against fake n8n instances over the real libcurl transport on 127.0.0.1.
#include "collector/engine.h"

#include <gtest/gtest.h>

#include "core/jwt.h"
#include "crypto/sealer.h"
#include "n8n/http.h"
#include "storage/sqlite_store.h"
#include "testing/fake_clock.h"
#include "testing/fake_n8n.h"

namespace fleet::collector {
namespace {

using testing::FakeN8n;

Day D(const char* text) { return *ParseDay(text); }

class RecordingSink final : public ResultSink {
 public:
  void Accept(ServerOutcome outcome) override { outcomes.push_back(std::move(outcome)); }
  const DayOutcome& Find(const std::string& server, Day day) const {
    for (const auto& o : outcomes) {
      for (const auto& d : o.days) {
        if (o.server == server && d.day == day) return d;
      }
    }
    ADD_FAILURE() << "no outcome for " << server << " " << FormatDay(day);
    static DayOutcome none;
    return none;
  }
  std::vector<ServerOutcome> outcomes;
};

class EngineTest : public ::testing::Test {
 protected:
  EngineTest() : today_(D("2026-11-24")), clock_(StartOfDay(today_) + 12 * 3600) {
    store_ = std::move(*storage::OpenSqliteStore({.path = ":memory:"}));
    sealer_.emplace(*crypto::Sealer::FromKey(crypto::RandomBytes(crypto::kMasterKeyBytes)));
    registry_.emplace(*store_, *sealer_, clock_);
    auth_.emplace(*registry_, clock_);
    transport_ = n8n::MakeCurlTransport();
  }

  // A fake instance seeded with the reference's days, reachable with an API key.
  FakeN8n& AddInstance(const std::string& name) {
    auto& n8n = *instances_.emplace_back(std::make_unique<FakeN8n>());
    n8n.SetToday(FormatDay(today_));
    n8n.SetDailyInsights("2026-11-20", {105, 5, 52.5, 105 * 31.25});
    n8n.SetDailyInsights("2026-11-21", {200, 0, 100, 200 * 40.0});
    n8n.SetDailyInsights("2026-11-22", {307, 7, 0, 307 * 12.5});
    n8n.SetDailyInsights("2026-11-23", {51, 51, 10.25, 51 * 1000.0});
    n8n.SetDailyInsights("2026-11-24", {9, 1, 0, 90});
    std::string key = Base64UrlEncode(R"({"alg":"HS256"})") + "." +
                      Base64UrlEncode("{\"sub\":\"" + name + "\"}") + ".c2ln";
    n8n.AcceptApiKey(key);
    EXPECT_TRUE(registry_->CreateServer({.name = name, .url = n8n.url()}));
    EXPECT_TRUE(registry_->AddApiKey(name + "-key", key, "", name));
    return n8n;
  }

  ServerJob Job(const std::string& name, std::vector<Day> days) {
    return {*store_->GetServer(name), std::move(days)};
  }

  EngineStats Run(const std::vector<ServerJob>& jobs, EngineOptions options = {}) {
    if (!options.sleep)
      options.sleep = [this](std::chrono::milliseconds d) { sleeps_.push_back(d); };
    Engine engine(*transport_, *auth_, clock_, options);
    return engine.Run(jobs, sink_);
  }

  Day today_;
  testing::FakeClock clock_;
  std::unique_ptr<storage::Store> store_;
  std::optional<crypto::Sealer> sealer_;
  std::optional<registry::Registry> registry_;
  std::optional<registry::Authenticator> auth_;
  std::vector<std::unique_ptr<FakeN8n>> instances_;  // outlive the transport's connections
  std::unique_ptr<n8n::HttpTransport> transport_;
  RecordingSink sink_;
  std::vector<std::chrono::milliseconds> sleeps_;
};

TEST_F(EngineTest, BackfillDerivesEachPastDayExactlyWithOneRequestPerDay) {
  auto& n8n = AddInstance("a");
  auto stats =
      Run({Job("a", {D("2026-11-20"), D("2026-11-21"), D("2026-11-22"), D("2026-11-23")})});
  EXPECT_EQ(stats.servers_ok, 1);
  EXPECT_EQ(sink_.Find("a", D("2026-11-20")).figures->total, 105);
  EXPECT_EQ(sink_.Find("a", D("2026-11-21")).figures->total, 200);
  EXPECT_EQ(sink_.Find("a", D("2026-11-22")).figures->total, 307);
  const auto& last = sink_.Find("a", D("2026-11-23"));
  EXPECT_EQ(last.figures->total, 51);
  EXPECT_EQ(last.figures->failed, 51);
  EXPECT_NEAR(last.figures->average_run_time_ms, 1000, 0.01);
  EXPECT_DOUBLE_EQ(sink_.Find("a", D("2026-11-20")).figures->time_saved_minutes, 52.5);
  EXPECT_EQ(n8n.Requests().size(), 5u);  // four windows and the widest read again
  for (const auto& request : n8n.Requests()) {
    EXPECT_NE(request.find("endDate=2026-11-24T00%3A00%3A00.000Z"), std::string::npos) << request;
  }
  EXPECT_NE(last.raw_json.find("\"start\":\"2026-11-23\""), std::string::npos) << last.raw_json;
}

TEST_F(EngineTest, AnIsolatedOldDayCostsTwoRequestsAndIsNotDoubleCounted) {
  auto& n8n = AddInstance("a");
  Run({Job("a", {D("2026-11-20")})});
  EXPECT_EQ(sink_.Find("a", D("2026-11-20")).figures->total, 105);  // not 305
  EXPECT_EQ(n8n.Requests().size(), 3u);  // [20th, 24th), [21st, 24th), [20th, 24th) again
}

// Passes every call through, running `hook` after the n-th answer (before its callback).
class HookedTransport final : public n8n::HttpTransport {
 public:
  HookedTransport(n8n::HttpTransport& inner, int n, std::function<void()> hook)
      : inner_(inner), n_(n), hook_(std::move(hook)) {}
  Result<n8n::HttpResponse> Send(const n8n::HttpRequest& request) override {
    return inner_.Send(request);
  }
  void Submit(n8n::HttpRequest request, n8n::HttpCallback done) override {
    inner_.Submit(std::move(request), [this, done](Result<n8n::HttpResponse> response) {
      if (++seen_ == n_) hook_();
      done(std::move(response));
    });
  }
  void Run(int max_in_flight) override { inner_.Run(max_in_flight); }
  void Abort() override { inner_.Abort(); }

 private:
  n8n::HttpTransport& inner_;
  int n_;
  std::function<void()> hook_;
  int seen_{0};
};

TEST_F(EngineTest, LateDataArrivingBetweenReadsIsDetectedAndReadAgain) {
  auto& n8n = AddInstance("a");
  // The instance's compaction adds 5 late executions to the 23rd right after the first read.
  HookedTransport hooked(*transport_, 1, [&] {
    n8n.SetDailyInsights("2026-11-23", {56, 51, 10.25, 51 * 1000.0 + 5 * 10});
  });
  EngineOptions options;
  options.sleep = [](std::chrono::milliseconds) {};
  Engine engine(hooked, *auth_, clock_, options);
  engine.Run({Job("a", {D("2026-11-21"), D("2026-11-22"), D("2026-11-23")})}, sink_);
  EXPECT_EQ(sink_.Find("a", D("2026-11-21")).figures->total, 200);  // not 195
  EXPECT_EQ(sink_.Find("a", D("2026-11-22")).figures->total, 307);
  EXPECT_EQ(sink_.Find("a", D("2026-11-23")).figures->total, 56);
  EXPECT_EQ(n8n.Requests().size(), 8u);  // 3 windows + recheck, twice
}

TEST_F(EngineTest, TodayIsReadFromItsOwnLiveWindow) {
  AddInstance("a");
  Run({Job("a", {today_})});
  const auto& live = sink_.Find("a", today_);
  ASSERT_TRUE(live.figures.has_value()) << live.attempt.message;
  EXPECT_EQ(live.figures->total, 9);
}

TEST_F(EngineTest, OneFailingInstanceNeverStopsTheOthers) {
  AddInstance("good");
  AddInstance("error").SetFault(FakeN8n::Fault::kServerError);
  AddInstance("slow").SetFault(FakeN8n::Fault::kHang, 3000);
  AddInstance("garbage").SetFault(FakeN8n::Fault::kGarbage);
  AddInstance("limited").FailNext(1, 429, 0);
  std::vector<ServerJob> jobs;
  for (const char* name : {"good", "error", "slow", "garbage", "limited"}) {
    jobs.push_back(Job(name, {D("2026-11-23")}));
  }
  EngineOptions options;
  options.request_timeout = std::chrono::milliseconds(300);
  options.passes = 2;
  auto stats = Run(jobs, options);
  EXPECT_EQ(stats.servers_ok, 2);
  EXPECT_EQ(stats.servers_failed, 3);
  EXPECT_EQ(sink_.Find("good", D("2026-11-23")).figures->total, 51);
  EXPECT_EQ(sink_.Find("limited", D("2026-11-23")).figures->total, 51);  // retried, then ok
  EXPECT_EQ(sink_.Find("error", D("2026-11-23")).attempt.outcome, "http_status");
  EXPECT_EQ(sink_.Find("error", D("2026-11-23")).attempt.http_status, 500);
  EXPECT_EQ(sink_.Find("slow", D("2026-11-23")).attempt.outcome, "timeout");
  EXPECT_EQ(sink_.Find("garbage", D("2026-11-23")).attempt.outcome, "bad_response");
  EXPECT_FALSE(sink_.Find("garbage", D("2026-11-23")).figures.has_value());
  EXPECT_EQ(stats.passes, 2);
  EXPECT_EQ(sleeps_.size(), 1u);
}

TEST_F(EngineTest, NeverExceedsTheConcurrencyLimit) {
  auto& shared = AddInstance("s0");
  std::string key = *registry_->RevealApiKey("s0-key");
  for (int i = 1; i < 40; ++i) {
    std::string name = "s" + std::to_string(i);
    ASSERT_TRUE(registry_->CreateServer({.name = name, .url = shared.url()}));
    ASSERT_TRUE(store_->Link("s0-key", name, true, 0));
  }
  shared.SetFault(FakeN8n::Fault::kHang, 20);
  shared.ResetStats();
  std::vector<ServerJob> jobs;
  for (int i = 0; i < 40; ++i)
    jobs.push_back(Job("s" + std::to_string(i), {D("2026-11-22"), D("2026-11-23")}));
  EngineOptions options;
  options.concurrency = 4;
  auto stats = Run(jobs, options);
  EXPECT_EQ(stats.servers_ok, 40);
  EXPECT_LE(shared.MaxConcurrent(), 4);
  EXPECT_GE(shared.MaxConcurrent(), 2);
  EXPECT_EQ(sink_.Find("s39", D("2026-11-22")).figures->total, 307);
}

TEST_F(EngineTest, DaysBeyondTheHistoryAreUnrecoverableNotFailed) {
  auto& n8n = AddInstance("a");
  n8n.SetHistoryDays(3);  // 21st is the oldest readable start
  Run({Job("a", {D("2026-11-20"), D("2026-11-22"), D("2026-11-23")})});
  EXPECT_TRUE(sink_.Find("a", D("2026-11-20")).unrecoverable);
  EXPECT_EQ(sink_.Find("a", D("2026-11-20")).attempt.outcome, "beyond_history");
  EXPECT_EQ(sink_.Find("a", D("2026-11-22")).figures->total, 307);
  EXPECT_TRUE(sink_.outcomes[0].ok());
}

TEST_F(EngineTest, AServerWithoutCredentialsFailsAsAnAuthError) {
  auto& n8n = AddInstance("a");
  ASSERT_TRUE(store_->SetApiKeyActive("a-key", false));
  Run({Job("a", {D("2026-11-23")})});
  EXPECT_EQ(sink_.Find("a", D("2026-11-23")).attempt.outcome, "auth_error");
  EXPECT_TRUE(n8n.Requests().empty());
}

}  // namespace
TEST_F(EngineTest, StopStartsNoFurtherServersAndFinishesThoseUnderWay) {
  std::vector<FakeN8n*> instances;
  for (const char* name : {"a", "b", "c", "d", "e"}) instances.push_back(&AddInstance(name));
  std::vector<ServerJob> jobs;
  for (const char* name : {"a", "b", "c", "d", "e"}) jobs.push_back(Job(name, {D("2026-11-23")}));
  EngineOptions options;
  options.concurrency = 1;                                    // two servers in progress at a time
  options.stop = [this] { return !sink_.outcomes.empty(); };  // stop after the first finishes
  auto stats = Run(jobs, options);
  // a finished, b was under way and finished whole, c started when a finished (before the stop
  // was seen by the next start) or not; d and e never started.
  EXPECT_GE(stats.servers_ok, 2);
  EXPECT_EQ(stats.servers_ok + stats.servers_not_started, 5);
  EXPECT_EQ(stats.servers_failed, 0);
  EXPECT_TRUE(instances[3]->Requests().empty());
  EXPECT_TRUE(instances[4]->Requests().empty());
  for (const auto& outcome : sink_.outcomes) EXPECT_TRUE(outcome.ok()) << outcome.server;
}

TEST_F(EngineTest, ServersFinishInTheOrderTheyStartedWhenTransfersAreScarce) {
  // One transfer at a time, two servers in progress: a server started later must not overtake,
  // again and again, one whose first request has been waiting (its subject token would age).
  std::vector<ServerJob> jobs;
  for (const char* name : {"a", "b", "c", "d", "e"}) {
    AddInstance(name);
    jobs.push_back(Job(name, {D("2026-11-22"), D("2026-11-23")}));
  }
  EngineOptions options;
  options.concurrency = 1;
  Run(jobs, options);
  std::vector<std::string> order;
  for (const auto& outcome : sink_.outcomes) order.push_back(outcome.server);
  EXPECT_EQ(order, (std::vector<std::string>{"a", "b", "c", "d", "e"}));
}

}  // namespace fleet::collector
