// POST routes: instance reports (push) and collections.

#include "service/api_test_util.h"

namespace fleet::service {
namespace {

using ::testing::HasSubstr;

class ApiPushTest : public ApiTest {
 protected:
  void SetUp() override {
    ApiTest::SetUp();
    AddServer("acme-prod", "acme", "2026-11-01");
    AddServer("globex", "globex", "2026-11-01");
    report_token_ = Token("acme-report", false, "acme-prod");
    admin_ = Token("admin");
    Start();
  }
  static std::string Report(const std::string& batch, const std::string& points) {
    return R"({"instanceId":"inst-1","batchId":")" + batch +
           R"(","label":"acme","n8nVersion":"2.40.7","dataPoints":)" + points +
           R"(,"licenseCert":"LICENSE-CERT-SECRET"})";
  }
  std::string report_token_;
  std::string admin_;
};

constexpr char kPoints[] =
    R"([{"kind":"cumulative","name":"billableExecutions","value":15342},)"
    R"({"kind":"daily","name":"billableExecutions","value":857,"date":"2026-11-22"},)"
    R"({"kind":"daily","name":"billableExecutions","value":12,"date":"2026-11-23"}])";

TEST_F(ApiPushTest, AcceptsDailyPointsAsPushRows) {
  auto res = Post("/api/v1/instance-reports", report_token_, Report("batch-1", kPoints));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 201) << res->body;
  EXPECT_EQ(Json(res)["accepted"], 2);

  storage::UsageFilter filter;
  filter.source = "push";
  auto rows = store_->ListDailyUsage(filter);
  ASSERT_TRUE(rows);
  ASSERT_EQ(rows->size(), 2u);
  EXPECT_EQ((*rows)[0].server, "acme-prod");
  EXPECT_EQ((*rows)[0].day, "2026-11-22");
  EXPECT_EQ((*rows)[0].total, 857);
  EXPECT_EQ((*rows)[0].failed, 0);
  EXPECT_EQ((*rows)[0].source, "push");
  EXPECT_EQ((*rows)[0].n8n_version, "2.40.7");
  EXPECT_EQ(nlohmann::json::parse((*rows)[0].raw_json)["value"], 857);
  filter.source = "pull";
  EXPECT_TRUE(store_->ListDailyUsage(filter)->empty());  // beside, not instead of, pulled rows

  auto reports = store_->ListInstanceReports("acme-prod", 0);
  ASSERT_TRUE(reports);
  ASSERT_EQ(reports->size(), 1u);
  EXPECT_EQ((*reports)[0].batch_id, "batch-1");
  EXPECT_EQ((*reports)[0].instance_id, "inst-1");
  EXPECT_EQ((*reports)[0].received_at, kTestNow);
  auto payload = nlohmann::json::parse((*reports)[0].payload_json);
  EXPECT_FALSE(payload.contains("licenseCert"));
  EXPECT_EQ(payload["dataPoints"][0]["value"], 15342);  // cumulative kept in the payload
}

TEST_F(ApiPushTest, SameBatchTwiceIs409AndStoresNothingNew) {
  ASSERT_EQ(Post("/api/v1/instance-reports", report_token_, Report("batch-1", kPoints))->status,
            201);
  std::string changed =
      R"([{"kind":"daily","name":"billableExecutions","value":1,"date":"2026-11-22"}])";
  auto again = Post("/api/v1/instance-reports", report_token_, Report("batch-1", changed));
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);
  EXPECT_EQ(Json(again)["error"]["code"], "conflict");
  storage::UsageFilter filter;
  filter.source = "push";
  EXPECT_EQ((*store_->ListDailyUsage(filter))[0].total, 857);
}

TEST_F(ApiPushTest, MalformedReportsAre400NamingTheMember) {
  struct Case {
    std::string body;
    std::string member;
  };
  std::vector<Case> cases = {
      {"not json", "body"},
      {"[]", "body"},
      {R"({"batchId":"b","dataPoints":[]})", "instanceId"},
      {R"({"instanceId":"i","dataPoints":[]})", "batchId"},
      {R"({"instanceId":"i","batchId":"b"})", "dataPoints"},
      {R"({"instanceId":"i","batchId":"b","dataPoints":{}})", "dataPoints"},
      {Report("b", R"([{"kind":"daily","name":"billableExecutions","value":1}])"),
       "dataPoints[0].date"},
      {Report("b",
              R"([{"kind":"daily","name":"billableExecutions","value":1,"date":"22/11/2026"}])"),
       "dataPoints[0].date"},
      {Report("b",
              R"([{"kind":"daily","name":"billableExecutions","value":1,"date":"2026-11-25"}])"),
       "dataPoints[0].date"},
      {Report("b",
              R"([{"kind":"cumulative","name":"billableExecutions","value":1},)"
              R"({"kind":"daily","name":"billableExecutions","value":-4,"date":"2026-11-20"}])"),
       "dataPoints[1].value"},
      {Report("b", R"([{"kind":"weekly","name":"billableExecutions","value":1}])"),
       "dataPoints[0].kind"},
  };
  for (const auto& c : cases) {
    auto res = Post("/api/v1/instance-reports", report_token_, c.body);
    ASSERT_TRUE(res) << c.body;
    EXPECT_EQ(res->status, 400) << c.body;
    EXPECT_EQ(Json(res)["error"]["parameter"], c.member) << c.body;
  }
  EXPECT_TRUE(store_->ListInstanceReports("", 0)->empty());
}

TEST_F(ApiPushTest, CollectStartsARunWithTheRequestedDaysAndServers) {
  auto res =
      Post("/api/v1/collect", admin_,
           R"({"from":"2026-11-20","to":"2026-11-22","servers":["acme-prod"],"backfill":true})");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 202);
  EXPECT_EQ(Json(res), nlohmann::json({{"run", 41}, {"status", "running"}}));
  EXPECT_EQ(res->get_header_value("Location"), "/api/v1/runs/41");
  ASSERT_EQ(runner_.requests.size(), 1u);
  const auto& request = runner_.requests[0];
  EXPECT_EQ(request.origin, "api");
  EXPECT_TRUE(request.backfill);
  EXPECT_EQ(request.servers, std::vector<std::string>{"acme-prod"});
  ASSERT_EQ(request.days.size(), 3u);
  EXPECT_EQ(FormatDay(request.days[0]), "2026-11-20");
  EXPECT_EQ(FormatDay(request.days[2]), "2026-11-22");

  auto defaults = Client().Post("/api/v1/collect", Auth(admin_), "", "application/json");
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->status, 202);
  EXPECT_TRUE(runner_.requests[1].days.empty());
  EXPECT_TRUE(runner_.requests[1].servers.empty());

  ASSERT_EQ(Post("/api/v1/collect", admin_, R"({"day":"2026-11-23","customer":"acme"})")->status,
            202);
  EXPECT_EQ(runner_.requests[2].customer, "acme");
  ASSERT_EQ(runner_.requests[2].days.size(), 1u);
}

TEST_F(ApiPushTest, CollectWhileRunningIs409) {
  runner_.fail = Error{ErrorCode::kFailedPrecondition, "a collection is in progress (run 40)"};
  auto res = Post("/api/v1/collect", admin_, "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 409);
  EXPECT_THAT(Json(res)["error"]["message"].get<std::string>(), HasSubstr("in progress"));
}

TEST_F(ApiPushTest, CollectRefusesMalformedBodies) {
  for (const auto& [body, parameter] : std::vector<std::pair<std::string, std::string>>{
           {"{", "body"},
           {R"({"day":"tomorrow"})", "day"},
           {R"({"day":"2026-11-20","from":"2026-11-19","to":"2026-11-20"})", "day"},
           {R"({"from":"2026-11-19"})", "to"},
           {R"({"from":"2026-11-21","to":"2026-11-19"})", "from"},
           {R"({"servers":"acme-prod"})", "servers"},
           {R"({"servers":["a"],"customer":"acme"})", "customer"},
           {R"({"backfill":"yes"})", "backfill"},
           {R"({"days":["2026-11-20"]})", "days"}}) {
    auto res = Post("/api/v1/collect", admin_, body);
    ASSERT_TRUE(res) << body;
    EXPECT_EQ(res->status, 400) << body;
    EXPECT_EQ(Json(res)["error"]["parameter"], parameter) << body;
  }
  EXPECT_TRUE(runner_.requests.empty());
}

}  // namespace
}  // namespace fleet::service
