// Push from a REAL n8n: run by tests/real_n8n/run.sh (filter RealN8nPushTest.*) after the pull
// suite. The instance runs n8n's own instance-reporting module, configured with the env lines
// `n8n-fleet server report-token real-tx` printed and pointed at `n8n-fleet serve` of the main
// fleet home (N8N_REAL_PUSH_URL). run.sh pulled today into that home through the service's API
// (run N8N_REAL_PULL_RUN), then moved n8n's clock past its next report slot (libfaketime), and
// n8n's timer sent the finished day: the suite's day N8N_REAL_DAY with its
// N8N_REAL_EXPECTED_TODAY_TOTAL webhook executions. If n8n had already reported yesterday (its
// slot had passed at start-up), that report is there too.
// Evidence is read from both sides: the service's API and database, and n8n's own
// instance_monitoring_report table (N8N_REAL_N8N_DB).
#include <sqlite3.h>

#include <cstdlib>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "n8n/http.h"

namespace fleet::testing {
namespace {

using Rows = std::vector<std::vector<std::string>>;

// Rows of a query on a database opened read-only (another process may be writing it), every
// column as text, NULL as "". Fails the test on any SQLite error.
Rows Query(const std::string& path, const std::string& sql) {
  Rows rows;
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  std::unique_ptr<sqlite3, decltype(&sqlite3_close)> db(raw, &sqlite3_close);
  if (rc != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << path << ": " << sqlite3_errstr(rc);
    return rows;
  }
  sqlite3_busy_timeout(db.get(), 5000);
  sqlite3_stmt* stmt_raw = nullptr;
  if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &stmt_raw, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << path << ": " << sqlite3_errmsg(db.get()) << " in " << sql;
    return rows;
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> stmt(stmt_raw, &sqlite3_finalize);
  while ((rc = sqlite3_step(stmt.get())) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int i = 0; i < sqlite3_column_count(stmt.get()); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt.get(), i);
      row.emplace_back(text ? reinterpret_cast<const char*>(text) : "");
    }
    rows.push_back(std::move(row));
  }
  if (rc != SQLITE_DONE) ADD_FAILURE() << path << ": " << sqlite3_errmsg(db.get()) << " in " << sql;
  return rows;
}

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

class RealN8nPushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name :
         {"N8N_REAL_PUSH_URL", "N8N_REAL_API_TOKEN", "N8N_REAL_REPORT_TOKEN", "N8N_REAL_PUSH_HOME",
          "N8N_REAL_N8N_DB", "N8N_REAL_EXPECTED_TODAY_TOTAL", "N8N_REAL_DAY",
          "N8N_REAL_PULL_RUN"}) {
      ASSERT_FALSE(Env(name).empty()) << name << " unset: run this suite through "
                                      << "tests/real_n8n/run.sh";
    }
    url_ = Env("N8N_REAL_PUSH_URL");
    api_token_ = Env("N8N_REAL_API_TOKEN");
    report_token_ = Env("N8N_REAL_REPORT_TOKEN");
    fleet_db_ = Env("N8N_REAL_PUSH_HOME") + "/fleet.db";
    n8n_db_ = Env("N8N_REAL_N8N_DB");
    expected_today_ = std::atoll(Env("N8N_REAL_EXPECTED_TODAY_TOTAL").c_str());
    pull_run_ = std::atoll(Env("N8N_REAL_PULL_RUN").c_str());
    today_ = Env("N8N_REAL_DAY");
    ASSERT_EQ(FormatDay(DayOf(static_cast<int64_t>(std::time(nullptr)))), today_)
        << "the UTC day changed since run.sh produced the executions";
    yesterday_ = FormatDay(*ParseDay(today_) - 1);
    // n8n's own table says what it sent: today's report after the clock move, and before it one
    // for yesterday if its slot had passed (at start-up, or during the run).
    auto sent = N8nReports();
    ASSERT_TRUE(sent.size() == 1 || sent.size() == 2)
        << sent.size() << " reports in n8n's instance_monitoring_report, want 1 or 2";
    early_rows_ = static_cast<int64_t>(sent.size()) - 1;
  }

  n8n::HttpResponse Send(const std::string& method, const std::string& path,
                         const std::string& token, const std::string& body = "") {
    n8n::HttpRequest request;
    request.method = method;
    request.url = url_ + path;
    request.headers = {{"Authorization", "Bearer " + token}, {"Accept", "application/json"}};
    if (!body.empty()) request.headers.emplace_back("Content-Type", "application/json");
    request.body = body;
    auto response = transport_->Send(request);
    EXPECT_TRUE(response.has_value()) << method << " " << path << ": " << response.error().message;
    return response.value_or(n8n::HttpResponse{});
  }

  // GET /api/v1/usage for real-tx over [yesterday, today].
  nlohmann::json Usage(const std::string& source) {
    auto response = Send(
        "GET",
        "/api/v1/usage?server=real-tx&source=" + source + "&from=" + yesterday_ + "&to=" + today_,
        api_token_);
    EXPECT_EQ(response.status, 200) << response.body;
    auto json = nlohmann::json::parse(response.body, nullptr, false);
    if (json.is_discarded() || !json.contains("usage")) {
      ADD_FAILURE() << "not a usage list: " << response.body;
      return nlohmann::json::array();
    }
    return json["usage"];
  }

  // n8n's reports (id, status, attempts, dataPoints) and the service's (batch_id, payload_json,
  // instance_id, n8n_version), oldest first.
  Rows N8nReports() {
    return Query(n8n_db_,
                 "SELECT id, status, attempts, dataPoints FROM instance_monitoring_report "
                 "ORDER BY createdAt, id");
  }
  Rows ReceivedReports() {
    return Query(fleet_db_,
                 "SELECT r.batch_id, r.payload_json, r.instance_id, r.n8n_version "
                 "FROM instance_reports r JOIN servers s ON s.id = r.server_id "
                 "WHERE s.name = 'real-tx' ORDER BY r.id");
  }

  std::unique_ptr<n8n::HttpTransport> transport_ = n8n::MakeCurlTransport();
  std::string url_, api_token_, report_token_, fleet_db_, n8n_db_, today_, yesterday_;
  int64_t expected_today_{}, early_rows_{}, pull_run_{};
};

TEST_F(RealN8nPushTest, N8nPushedTodayExactlyWhatItCountedAndWhatThePullStored) {
  auto pushed = Usage("push");
  ASSERT_EQ(pushed.size(), static_cast<size_t>(early_rows_ + 1)) << pushed.dump(2);
  const auto& today = pushed.back();
  EXPECT_EQ(today["day"], today_) << pushed.dump(2);
  EXPECT_EQ(today["source"], "push") << pushed.dump(2);
  EXPECT_EQ(today["total"].get<int64_t>(), expected_today_)
      << "n8n's report for " << today_ << " must carry the " << expected_today_
      << " webhook executions its Insights counted: " << pushed.dump(2);
  EXPECT_EQ(today["run_id"], nullptr) << "a pushed row belongs to no collection run";
  if (early_rows_ == 1) {
    // Its start-up report of yesterday: the instance did not exist yet, so 0, like the pull.
    EXPECT_EQ(pushed[0]["day"], yesterday_) << pushed.dump(2);
    EXPECT_EQ(pushed[0]["total"], 0) << pushed.dump(2);
  }

  auto pulled = Usage("pull");
  ASSERT_EQ(pulled.size(), 1u) << pulled.dump(2);
  EXPECT_EQ(pulled[0]["day"], today_) << pulled.dump(2);
  EXPECT_EQ(pulled[0]["run_id"], pull_run_) << pulled.dump(2);
  EXPECT_EQ(pulled[0]["total"], today["total"])
      << "push and pull disagree for " << today_ << ": pushed " << pushed.dump(2) << " pulled "
      << pulled.dump(2);
}

TEST_F(RealN8nPushTest, EveryReportN8nDeliveredArrivedOnceWithItsExactDataPoints) {
  auto sent = N8nReports();
  auto received = ReceivedReports();
  ASSERT_EQ(sent.size(), static_cast<size_t>(early_rows_ + 1)) << "n8n's own report table";
  ASSERT_EQ(received.size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i) {
    SCOPED_TRACE("report " + sent[i][0]);
    EXPECT_EQ(sent[i][1], "delivered") << "n8n marks a report delivered only on 201 or 409";
    EXPECT_EQ(sent[i][2], "1") << "delivered at the first attempt";
    EXPECT_EQ(received[i][0], sent[i][0]) << "batchId is n8n's report id";
    auto payload = nlohmann::json::parse(received[i][1], nullptr, false);
    ASSERT_FALSE(payload.is_discarded()) << received[i][1];
    EXPECT_EQ(payload["dataPoints"], nlohmann::json::parse(sent[i][3]))
        << "the data points n8n stored as sent";
    EXPECT_EQ(payload["batchId"], sent[i][0]);
    EXPECT_FALSE(payload.contains("licenseCert")) << "token auth: n8n sends no certificate";
    EXPECT_EQ(received[i][3], "2.40.7");
    EXPECT_EQ(payload["label"], "real-tx") << "N8N_INSTANCE_REPORTING_LABEL from report-token";
    EXPECT_FALSE(received[i][2].empty()) << "instanceId";
    EXPECT_EQ(received[i][2], received[0][2]) << "one instance, one instanceId";
  }
  // The last report: one cumulative point and the finished day, exactly n8n's count.
  auto points = nlohmann::json::parse(sent.back()[3]);
  for (const auto& report : sent)
    std::printf("n8n report %s: %s\n", report[0].c_str(), report[3].c_str());
  ASSERT_EQ(points.size(), 2u) << points.dump(2);
  EXPECT_EQ(points[0]["kind"], "cumulative") << points.dump(2);
  EXPECT_EQ(points[0]["name"], "billableExecutions") << points.dump(2);
  EXPECT_EQ(points[0]["value"], expected_today_)
      << "all-time production executions; the instance ran nothing before today: "
      << points.dump(2);
  EXPECT_EQ(points[1], nlohmann::json({{"kind", "daily"},
                                       {"name", "billableExecutions"},
                                       {"value", expected_today_},
                                       {"date", today_}}))
      << points.dump(2);
}

TEST_F(RealN8nPushTest, AReplayOfN8nsBatchIsRefusedWith409AndChangesNothing) {
  auto received = ReceivedReports();
  ASSERT_FALSE(received.empty());
  const std::string replay = received.back()[1];  // the body as n8n sent it (no certificate)
  auto before = Usage("push");

  auto response = Send("POST", "/api/v1/instance-reports", report_token_, replay);
  EXPECT_EQ(response.status, 409) << response.body;
  auto error = nlohmann::json::parse(response.body, nullptr, false);
  ASSERT_FALSE(error.is_discarded()) << response.body;
  EXPECT_EQ(error["error"]["parameter"], "batchId") << response.body;

  // The API token may read but not push; a token nobody issued gets nothing.
  EXPECT_EQ(Send("POST", "/api/v1/instance-reports", api_token_, replay).status, 403);
  EXPECT_EQ(Send("POST", "/api/v1/instance-reports", "nft_not-a-token", replay).status, 401);

  EXPECT_EQ(Usage("push"), before) << "a refused report must not touch stored rows";
  EXPECT_EQ(ReceivedReports().size(), received.size());
}

}  // namespace
}  // namespace fleet::testing
