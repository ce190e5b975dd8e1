// The read routes against a seeded database.

#include "service/api_test_util.h"

namespace fleet::service {
namespace {

using ::testing::HasSubstr;

class ApiReadTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    AddServer("acme-prod", "acme", "2026-11-01");
    AddServer("acme-dev", "acme", "2026-11-20");
    AddServer("globex", "globex", "2026-11-20");
    AddUsage("acme-prod", "2026-11-20", 100, 5);
    AddUsage("acme-prod", "2026-11-21", 200, 0);
    AddUsage("acme-dev", "2026-11-21", 7, 1);
    AddUsage("globex", "2026-11-21", 50, 0);
    AddUsage("globex", "2026-11-21", 55, 0, "push");
    token_ = Token("reader", true);
    Start();
  }
  std::string token_;
};

TEST_F(ApiReadTest, ListsServersWithoutSecretsAndFiltersByCustomer) {
  auto res = Get("/api/v1/servers", token_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  auto body = Json(res);
  ASSERT_EQ(body["servers"].size(), 3u);
  const auto& first = body["servers"][0];  // by name
  EXPECT_EQ(first["name"], "acme-dev");
  EXPECT_EQ(first["customer"], "acme");
  EXPECT_EQ(first["url"], "https://acme-dev.example.com");
  EXPECT_EQ(first["auth"], "api-key");
  EXPECT_EQ(first["tracking_since"], "2026-11-20");
  EXPECT_EQ(first["last_collected_at"], "2026-11-24T11:00:00Z");
  EXPECT_FALSE(first.contains("skip_tls_verify"));
  EXPECT_EQ(res->body.find("sealed"), std::string::npos);

  auto acme = Json(Get("/api/v1/servers?customer=acme", token_));
  ASSERT_EQ(acme["servers"].size(), 2u);
  EXPECT_EQ(acme["servers"][1]["name"], "acme-prod");
}

TEST_F(ApiReadTest, ServerDetailListsKeyNamesAnd404ForUnknown) {
  ApiKey key;
  key.name = "acme-key";
  key.sealed_secret = "SEALED-SECRET-BYTES";
  key.masked = "eyJhbG…Y_Yw";
  ASSERT_TRUE(store_->CreateApiKey(key, kTestNow));
  ASSERT_TRUE(store_->Link("acme-key", "acme-prod", true, kTestNow));
  auto res = Get("/api/v1/servers/acme-prod", token_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  auto body = Json(res);
  EXPECT_EQ(body["name"], "acme-prod");
  ASSERT_EQ(body["keys"].size(), 1u);
  EXPECT_EQ(body["keys"][0],
            nlohmann::json({{"name", "acme-key"}, {"active", true}, {"primary", true}}));
  EXPECT_EQ(res->body.find("SEALED"), std::string::npos);
  EXPECT_EQ(res->body.find("eyJhbG"), std::string::npos);

  auto missing = Get("/api/v1/servers/nope", token_);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(Json(missing)["error"]["message"].get<std::string>(), HasSubstr("nope"));
}

TEST_F(ApiReadTest, UsageFiltersByServerCustomerRangeAndSource) {
  auto all = Json(Get("/api/v1/usage", token_));
  ASSERT_EQ(all["usage"].size(), 4u);  // pull rows of the last 30 days
  auto acme = Json(Get("/api/v1/usage?customer=acme&from=2026-11-21&to=2026-11-21", token_));
  ASSERT_EQ(acme["usage"].size(), 2u);
  EXPECT_EQ(acme["usage"][0]["server"], "acme-dev");
  EXPECT_EQ(acme["usage"][0]["total"], 7);
  EXPECT_EQ(acme["usage"][0]["failed"], 1);
  EXPECT_EQ(acme["usage"][0]["source"], "pull");
  EXPECT_EQ(acme["usage"][0]["day"], "2026-11-21");
  auto server = Json(Get("/api/v1/usage?server=acme-prod", token_));
  ASSERT_EQ(server["usage"].size(), 2u);
  EXPECT_EQ(server["usage"][0]["total"], 100);
  auto push = Json(Get("/api/v1/usage?source=push", token_));
  ASSERT_EQ(push["usage"].size(), 1u);
  EXPECT_EQ(push["usage"][0]["total"], 55);
  EXPECT_EQ(push["usage"][0]["source"], "push");
  auto both = Json(Get("/api/v1/usage?source=all&server=globex", token_));
  EXPECT_EQ(both["usage"].size(), 2u);
}

TEST_F(ApiReadTest, BadUsageParametersAre400NamingThem) {
  struct Case {
    std::string query;
    std::string parameter;
  };
  for (const auto& c : std::vector<Case>{{"from=2026-13-01", "from"},
                                         {"to=yesterday", "to"},
                                         {"from=2026-11-10&to=2026-11-01", "from"},
                                         {"from=2000-01-01&to=2026-11-01", "from"},
                                         {"source=both", "source"}}) {
    auto res = Get("/api/v1/usage?" + c.query, token_);
    ASSERT_TRUE(res) << c.query;
    EXPECT_EQ(res->status, 400) << c.query;
    EXPECT_EQ(Json(res)["error"]["code"], "bad_request") << c.query;
    EXPECT_EQ(Json(res)["error"]["parameter"], c.parameter) << c.query;
  }
}

TEST_F(ApiReadTest, RunsListAndDetailWithAttempts) {
  CollectionRun run;
  run.started_at = kTestNow - 600;
  run.description = "2 days, 3 servers";
  auto id = store_->CreateRun(run);
  ASSERT_TRUE(id);
  run.id = *id;
  run.status = RunStatus::kPartial;
  run.finished_at = kTestNow - 500;
  run.servers_attempted = 3;
  run.servers_succeeded = 2;
  run.servers_failed = 1;
  run.days_stored = 4;
  ASSERT_TRUE(store_->FinishRun(run));
  FetchAttempt attempt{*id, "globex", "2026-11-22", "timeout", 0, 30000, "timed out", kTestNow};
  ASSERT_TRUE(store_->RecordAttempts({attempt}));

  auto list = Json(Get("/api/v1/runs?limit=5", token_));
  ASSERT_EQ(list["runs"].size(), 1u);
  EXPECT_EQ(list["runs"][0]["id"], *id);
  EXPECT_EQ(list["runs"][0]["status"], "partial");
  EXPECT_EQ(list["runs"][0]["servers_failed"], 1);
  EXPECT_EQ(list["runs"][0]["finished_at"], FormatTimestamp(kTestNow - 500));

  auto detail = Json(Get("/api/v1/runs/" + std::to_string(*id), token_));
  EXPECT_EQ(detail["days_stored"], 4);
  ASSERT_EQ(detail["attempts"].size(), 1u);
  EXPECT_EQ(detail["attempts"][0]["outcome"], "timeout");
  EXPECT_EQ(detail["attempts"][0]["duration_ms"], 30000);
  EXPECT_EQ(detail["attempts"][0]["server"], "globex");

  EXPECT_EQ(Get("/api/v1/runs/999", token_)->status, 404);
  auto bad_id = Get("/api/v1/runs/abc", token_);
  EXPECT_EQ(bad_id->status, 400);
  EXPECT_EQ(Json(bad_id)["error"]["parameter"], "id");
  auto bad_limit = Get("/api/v1/runs?limit=0", token_);
  EXPECT_EQ(bad_limit->status, 400);
  EXPECT_EQ(Json(bad_limit)["error"]["parameter"], "limit");
}

TEST_F(ApiReadTest, GapsListMissingDaysUpToYesterday) {
  // acme-dev tracks since 11-20 and has only 11-21: missing 11-20, 11-22, 11-23.
  auto res = Get("/api/v1/gaps?server=acme-dev", token_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  auto body = Json(res);
  EXPECT_EQ(body["count"], 3);
  ASSERT_EQ(body["gaps"].size(), 3u);
  EXPECT_EQ(body["gaps"][0],
            nlohmann::json({{"server", "acme-dev"}, {"customer", "acme"}, {"day", "2026-11-20"}}));
  EXPECT_EQ(body["gaps"][2]["day"], "2026-11-23");
  auto ranged = Json(Get("/api/v1/gaps?from=2026-11-22&to=2026-11-22", token_));
  EXPECT_EQ(ranged["count"], 3);  // the 22nd, for each of the three servers
  auto unknown = Get("/api/v1/gaps?server=nope", token_);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(Json(unknown)["error"]["parameter"], "server");
}

TEST_F(ApiReadTest, MonthlyReportJsonAndCsvAgree) {
  auto res = Get("/api/v1/reports/monthly?month=2026-11&by=customer", token_);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  auto body = Json(res);
  EXPECT_EQ(body["month"], "2026-11");
  EXPECT_EQ(body["from"], "2026-11-01");
  EXPECT_EQ(body["to"], "2026-11-23");  // the month in progress: up to yesterday
  EXPECT_EQ(body["by"], "customer");
  ASSERT_EQ(body["rows"].size(), 2u);
  const auto& acme = body["rows"][0];
  EXPECT_EQ(acme["group"], "acme");
  EXPECT_EQ(acme["servers"], 2);
  EXPECT_EQ(acme["total"], 307);
  EXPECT_EQ(acme["failed"], 6);
  EXPECT_EQ(acme["days_collected"], 3);
  EXPECT_EQ(acme["days_expected"], 23 + 4);
  EXPECT_EQ(acme["complete"], false);
  const auto& globex = body["rows"][1];
  EXPECT_EQ(globex["push_total"], 55);
  EXPECT_EQ(globex["push_days"], 1);
  EXPECT_EQ(globex["disagreements"], 1);
  EXPECT_EQ(body["totals"]["total"], 357);

  httplib::Headers headers = Auth(token_);
  headers.emplace("Accept", "text/csv");
  auto csv = Client().Get("/api/v1/reports/monthly?month=2026-11&by=customer", headers);
  ASSERT_TRUE(csv);
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(csv->get_header_value("Content-Disposition"),
            "attachment; filename=\"fleet-usage-2026-11-by-customer.csv\"");
  std::string expected =
      "group,customer,servers,total,failed,days_collected,days_expected,push_total,push_days,"
      "disagreements\r\n";
  for (const auto& row : body["rows"]) {
    expected += row["group"].get<std::string>() + "," + row["customer"].get<std::string>() + "," +
                row["servers"].dump() + "," + row["total"].dump() + "," + row["failed"].dump() +
                "," + row["days_collected"].dump() + "," + row["days_expected"].dump() + "," +
                row["push_total"].dump() + "," + row["push_days"].dump() + "," +
                row["disagreements"].dump() + "\r\n";
  }
  EXPECT_EQ(csv->body, expected);
  auto by_format = Get("/api/v1/reports/monthly?month=2026-11&format=csv", token_);
  EXPECT_EQ(by_format->body, expected);
}

TEST_F(ApiReadTest, MonthlyReportByServerDefaultsToCurrentMonth) {
  auto body = Json(Get("/api/v1/reports/monthly?by=server", token_));
  EXPECT_EQ(body["month"], "2026-11");
  EXPECT_EQ(body["by"], "server");
  ASSERT_EQ(body["rows"].size(), 3u);
  EXPECT_EQ(body["rows"][1]["group"], "acme-prod");
  EXPECT_EQ(body["rows"][1]["customer"], "acme");
  EXPECT_EQ(body["rows"][1]["total"], 300);
}

TEST_F(ApiReadTest, MonthlyReportRefusesBadParameters) {
  for (const auto& [query, parameter] :
       std::vector<std::pair<std::string, std::string>>{{"month=2026-13", "month"},
                                                        {"month=Nov", "month"},
                                                        {"month=2027-01", "month"},
                                                        {"by=team", "by"},
                                                        {"format=xml", "format"}}) {
    auto res = Get("/api/v1/reports/monthly?" + query, token_);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << query;
    EXPECT_EQ(Json(res)["error"]["parameter"], parameter) << query;
  }
}

}  // namespace
}  // namespace fleet::service
