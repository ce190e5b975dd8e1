#include "service/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "service/api_test_util.h"

namespace fleet::service {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(MetricsTest, CountsAttemptsByOutcomeWithLatencyHistogram) {
  auto store = storage::OpenSqliteStore({":memory:"});
  ASSERT_TRUE(store);
  Metrics metrics;
  metrics.RecordAttempt({1, "a", "2026-11-23", "ok", 200, 40, "", 0});
  metrics.RecordAttempt({1, "b", "2026-11-23", "ok", 200, 300, "", 0});
  metrics.RecordAttempt({1, "c", "2026-11-23", "timeout", 0, 30000, "", 0});
  CollectionRun run;
  run.status = RunStatus::kPartial;
  metrics.RecordRun(run);
  metrics.AddTokenExchanges(3);
  metrics.AddTokenExchanges(2);
  metrics.AddWork(64, 0);
  metrics.AddWork(10, 2);
  auto text = metrics.Render(**store, kTestNow);
  ASSERT_TRUE(text) << text.error().message;
  EXPECT_THAT(*text, HasSubstr("# TYPE n8n_fleet_fetch_attempts_total counter\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_attempts_total{outcome=\"ok\"} 2\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_attempts_total{outcome=\"timeout\"} 1\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_bucket{le=\"0.05\"} 1\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_bucket{le=\"0.5\"} 2\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_bucket{le=\"10\"} 2\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_sum 30.34\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_fetch_duration_seconds_count 3\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_collection_runs_total{status=\"partial\"} 1\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_token_exchanges_total 5\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_work_claims_total 74\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_work_lost_leases_total 2\n"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_servers_with_gaps 0\n"));
}

TEST(MetricsTest, EveryMetricHasHelpAndTypeAndTheFleetPrefix) {
  auto store = storage::OpenSqliteStore({":memory:"});
  ASSERT_TRUE(store);
  Metrics metrics;
  metrics.RecordRequest("/api/v1/servers", 200, std::chrono::milliseconds(3));
  auto text = metrics.Render(**store, kTestNow);
  ASSERT_TRUE(text);
  std::istringstream lines(*text);
  std::string line;
  std::set<std::string> typed;
  int samples = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line.rfind("# HELP ", 0) == 0) continue;
    ++samples;
    ASSERT_EQ(line.rfind("n8n_fleet_", 0), 0u) << line;
    std::string name = line.substr(0, line.find_first_of("{ "));
    bool declared = typed.contains(name);
    for (const char* suffix : {"_bucket", "_sum", "_count"}) {
      std::string s = suffix;
      if (name.size() > s.size() && name.ends_with(s)) {
        declared = declared || typed.contains(name.substr(0, name.size() - s.size()));
      }
    }
    EXPECT_TRUE(declared) << line;
  }
  EXPECT_GT(samples, 10);
  EXPECT_THAT(
      *text,
      HasSubstr("n8n_fleet_http_requests_total{route=\"/api/v1/servers\",status=\"200\"} 1"));
  EXPECT_THAT(*text, HasSubstr("n8n_fleet_http_request_duration_seconds_bucket{route=\"/api/v1/"
                               "servers\",le=\"0.005\"} 1"));
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabel("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST_F(ApiTest, MetricsEndpointNeedsATokenAndReportsDatabaseGauges) {
  AddServer("acme-prod", "acme", "2026-11-20");
  AddServer("globex", "globex", "2026-11-23");
  AddUsage("acme-prod", "2026-11-21", 10, 0);
  AddUsage("globex", "2026-11-23", 10, 0);
  std::string token = Token("reader", true);
  Start();
  metrics_.RecordAttempt({1, "acme-prod", "2026-11-21", "auth_error", 401, 12, "", 0});
  EXPECT_EQ(Client().Get("/metrics")->status, 401);
  ASSERT_EQ(Get("/api/v1/servers", token)->status, 200);
  auto res = Get("/metrics", token);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_THAT(res->get_header_value("Content-Type"), HasSubstr("text/plain; version=0.0.4"));
  EXPECT_THAT(res->body, HasSubstr("n8n_fleet_fetch_attempts_total{outcome=\"auth_error\"} 1\n"));
  EXPECT_THAT(res->body,
              HasSubstr("n8n_fleet_last_collection_timestamp_seconds{server=\"acme-prod\"} " +
                        std::to_string(kTestNow - 3600) + "\n"));
  // acme-prod misses 11-20, 11-22, 11-23; globex has its only day.
  EXPECT_THAT(res->body, HasSubstr("n8n_fleet_servers_with_gaps 1\n"));
  EXPECT_THAT(res->body, HasSubstr("n8n_fleet_gap_days 3\n"));
  EXPECT_THAT(res->body, HasSubstr("route=\"/api/v1/servers\",status=\"200\"} 1\n"));
  EXPECT_THAT(res->body, Not(HasSubstr("route=\"/metrics\",status=\"200\"")));  // not yet done

  // Gaps are cached for a minute, then read again.
  AddUsage("acme-prod", "2026-11-20", 1, 0);
  EXPECT_THAT(Get("/metrics", token)->body, HasSubstr("n8n_fleet_gap_days 3\n"));
  clock_.Advance(Metrics::kGapsCacheSeconds);
  EXPECT_THAT(Get("/metrics", token)->body, HasSubstr("n8n_fleet_gap_days 2\n"));
}

}  // namespace
}  // namespace fleet::service
