// Real responses of every route, 2xx and errors, validated against docs/openapi.json by
// tests/service/validate_openapi.py (python3-jsonschema, Draft 2020-12).

#include <cstdlib>
#include <fstream>

#include "crypto/signing.h"
#include "service/api_test_util.h"

namespace fleet::service {
namespace {

std::string SourceDir() {
  const char* dir = std::getenv("N8N_FLEET_SOURCE_DIR");
  return dir != nullptr ? dir : N8N_FLEET_SOURCE_DIR_DEFAULT;
}

class ApiOpenApiTest : public ApiTest {
 protected:
  void Record(const std::string& method, const std::string& path, const httplib::Result& res) {
    ASSERT_TRUE(res) << method << " " << path;
    nlohmann::json body = res->body;
    exchanges_.push_back({{"method", method},
                          {"path", path.substr(0, path.find('?'))},
                          {"status", res->status},
                          {"content_type", res->get_header_value("Content-Type")},
                          {"body", res->body}});
  }
  void Get(const std::string& path, const std::string& token = "") {
    Record("GET", path, token.empty() ? Client().Get(path) : ApiTest::Get(path, token));
  }
  void Post(const std::string& path, const std::string& token, const std::string& body) {
    Record("POST", path, ApiTest::Post(path, token, body));
  }
  testing::ProcessResult Validate() {
    std::string file = dir_.path() + "/exchanges.jsonl";
    std::ofstream out(file);
    for (const auto& exchange : exchanges_) out << exchange.dump() << "\n";
    out.close();
    return testing::RunProcess({"python3", SourceDir() + "/tests/service/validate_openapi.py",
                                SourceDir() + "/docs/openapi.json", file});
  }
  std::vector<nlohmann::json> exchanges_;
};

TEST_F(ApiOpenApiTest, EveryRouteAnswersAsDocumented) {
  AddServer("acme-prod", "acme", "2026-11-20");
  AddServer("globex", "", "");
  AddUsage("acme-prod", "2026-11-21", 100, 3);
  AddUsage("acme-prod", "2026-11-22", 90, 0, "push");
  auto pair = crypto::GenerateKeyPair(crypto::SigningAlg::kRS256);
  ASSERT_TRUE(pair);
  SigningKey key{0,
                 "kid-1",
                 "RS256",
                 "https://fleet.example",
                 "sealed",
                 pair->public_pem,
                 SigningKeyState::kActive,
                 0,
                 std::nullopt,
                 std::nullopt};
  ASSERT_TRUE(store_->CreateSigningKey(key, kTestNow));
  CollectionRun run;
  run.started_at = kTestNow - 60;
  auto run_id = store_->CreateRun(run);
  ASSERT_TRUE(run_id);
  ASSERT_TRUE(store_->RecordAttempts(
      {{*run_id, "acme-prod", "2026-11-23", "http_status", 502, 120, "bad gateway", kTestNow}}));
  std::string admin = Token("admin");
  std::string reader = Token("reader", true);
  std::string report = Token("acme-report", false, "acme-prod");
  assets_.push_back({"/", "text/html; charset=utf-8", "<html></html>"});
  Start();

  Get("/healthz");
  Get("/readyz");
  Get("/.well-known/jwks.json");
  Get("/metrics", reader);
  Get("/metrics");
  Get("/api/v1/servers", reader);
  Get("/api/v1/servers?customer=acme", reader);
  Get("/api/v1/servers");
  Get("/api/v1/servers", "nft_wrong");
  Get("/api/v1/servers", report);
  Get("/api/v1/servers/acme-prod", reader);
  Get("/api/v1/servers/globex", reader);
  Get("/api/v1/servers/nope", reader);
  Get("/api/v1/usage", reader);
  Get("/api/v1/usage?source=all&from=2026-11-01&to=2026-11-24", reader);
  Get("/api/v1/usage?from=bad", reader);
  Get("/api/v1/reports/monthly?month=2026-11", reader);
  Get("/api/v1/reports/monthly?month=2026-11&by=server&format=csv", reader);
  Get("/api/v1/reports/monthly?month=13", reader);
  Get("/api/v1/runs", reader);
  Get("/api/v1/runs?limit=x", reader);
  Get("/api/v1/runs/" + std::to_string(*run_id), reader);
  Get("/api/v1/runs/12345", reader);
  Get("/api/v1/gaps", reader);
  Get("/api/v1/gaps?server=acme-prod&from=2026-11-20&to=2026-11-23", reader);
  Get("/api/v1/gaps?to=x", reader);
  Get("/api/v1/nothing", reader);
  Post("/api/v1/collect", admin, R"({"day":"2026-11-23","servers":["acme-prod"]})");
  Post("/api/v1/collect", reader, "{}");
  Post("/api/v1/collect", admin, R"({"day":5})");
  runner_.fail = Error{ErrorCode::kFailedPrecondition, "a collection is in progress"};
  Post("/api/v1/collect", admin, "{}");
  std::string body =
      R"({"instanceId":"i-1","batchId":"b-1","n8nVersion":"2.40.7","dataPoints":[)"
      R"({"kind":"daily","name":"billableExecutions","value":3,"date":"2026-11-23"}]})";
  Post("/api/v1/instance-reports", report, body);
  Post("/api/v1/instance-reports", report, body);
  Post("/api/v1/instance-reports", report, "{}");
  Post("/api/v1/instance-reports", admin, body);
  Post("/api/v1/instance-reports", report, std::string(2 << 20, ' '));  // over 1 MiB: 413
  Record("DELETE", "/api/v1/servers", Client().Delete("/api/v1/servers", Auth(admin)));
  Get("/");

  auto result = Validate();
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_NE(result.out.find("validated " + std::to_string(exchanges_.size())), std::string::npos)
      << result.out;
}

TEST_F(ApiOpenApiTest, ValidatorRejectsAnUndocumentedShape) {
  exchanges_.push_back({{"method", "GET"},
                        {"path", "/api/v1/runs"},
                        {"status", 200},
                        {"content_type", "application/json"},
                        {"body", R"({"runs":[{"id":"one"}]})"}});
  auto result = Validate();
  EXPECT_NE(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("/api/v1/runs"), std::string::npos) << result.out;
}

TEST_F(ApiOpenApiTest, ValidatorRejectsAnUndocumentedStatus) {
  exchanges_.push_back({{"method", "GET"},
                        {"path", "/healthz"},
                        {"status", 418},
                        {"content_type", "application/json"},
                        {"body", "{}"}});
  auto result = Validate();
  EXPECT_NE(result.exit_code, 0) << result.out;
  EXPECT_NE(result.out.find("418"), std::string::npos) << result.out;
}

}  // namespace
}  // namespace fleet::service
