#include "service/http_server.h"

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "crypto/signing.h"
#include "service/api_test_util.h"

namespace fleet::service {
namespace {

using ::testing::HasSubstr;

TEST_F(ApiTest, HealthzAnswersWithoutToken) {
  Start();
  auto res = Client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Json(res)["status"], "ok");
}

TEST_F(ApiTest, ReadyzReportsDatabaseAndScheduler) {
  Start();
  auto res = Client().Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  scheduler_alive_ = false;
  res = Client().Get("/readyz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  EXPECT_EQ(Json(res)["checks"]["database"], true);
  EXPECT_EQ(Json(res)["checks"]["scheduler"], false);
}

TEST_F(ApiTest, ApiRoutesRefuseMissingInvalidAndRevokedTokens) {
  std::string token = Token("reader", true);
  Start();
  auto none = Client().Get("/api/v1/servers");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->get_header_value("WWW-Authenticate"), "Bearer");
  EXPECT_EQ(Json(none)["error"]["code"], "unauthorized");

  auto invalid = Get("/api/v1/servers", "nft_not-a-real-token");
  ASSERT_TRUE(invalid);
  EXPECT_EQ(invalid->status, 401);
  EXPECT_THAT(Json(invalid)["error"]["message"].get<std::string>(), HasSubstr("invalid"));

  auto ok = Get("/api/v1/servers", token);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);

  ASSERT_TRUE(store_->RevokeApiToken("reader", kTestNow));
  auto revoked = Get("/api/v1/servers", token);
  ASSERT_TRUE(revoked);
  EXPECT_EQ(revoked->status, 401);
}

TEST_F(ApiTest, ReadOnlyTokenMayNotPost) {
  std::string token = Token("reader", true);
  Start();
  auto res = Post("/api/v1/collect", token, "{}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403);
  EXPECT_THAT(Json(res)["error"]["message"].get<std::string>(), HasSubstr("read-only"));
  EXPECT_TRUE(runner_.requests.empty());
}

TEST_F(ApiTest, ReportTokenMayOnlyPushAndApiTokenMayNotPush) {
  AddServer("acme-prod", "acme");
  std::string report = Token("acme-report", false, "acme-prod");
  std::string api = Token("admin");
  Start();
  auto read = Get("/api/v1/servers", report);
  ASSERT_TRUE(read);
  EXPECT_EQ(read->status, 403);
  auto metrics = Get("/metrics", report);
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 403);
  auto push =
      Post("/api/v1/instance-reports", api, R"({"instanceId":"i","batchId":"b","dataPoints":[]})");
  ASSERT_TRUE(push);
  EXPECT_EQ(push->status, 403);
  EXPECT_THAT(Json(push)["error"]["message"].get<std::string>(), HasSubstr("report token"));
}

TEST_F(ApiTest, TokenUseIsRecordedAtMostOncePerMinute) {
  std::string token = Token("admin");
  Start();
  ASSERT_EQ(Get("/api/v1/runs", token)->status, 200);
  auto tokens = store_->ListApiTokens();
  ASSERT_TRUE(tokens);
  ASSERT_EQ(tokens->size(), 1u);
  EXPECT_EQ((*tokens)[0].last_used_at, kTestNow);
  clock_.Advance(30);
  ASSERT_EQ(Get("/api/v1/runs", token)->status, 200);
  EXPECT_EQ((*store_->ListApiTokens())[0].last_used_at, kTestNow);
  clock_.Advance(31);
  ASSERT_EQ(Get("/api/v1/runs", token)->status, 200);
  EXPECT_EQ((*store_->ListApiTokens())[0].last_used_at, kTestNow + 61);
}

TEST_F(ApiTest, UnknownRouteIs404AndWrongMethodIs405) {
  std::string token = Token("admin");
  Start();
  auto missing = Get("/api/v1/nothing", token);
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(Json(missing)["error"]["code"], "not_found");
  auto wrong = Client().Delete("/api/v1/servers", Auth(token));
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->get_header_value("Allow"), "GET");
  EXPECT_EQ(Json(wrong)["error"]["code"], "method_not_allowed");
  auto get_collect = Get("/api/v1/collect", token);
  ASSERT_TRUE(get_collect);
  EXPECT_EQ(get_collect->status, 405);
  EXPECT_EQ(get_collect->get_header_value("Allow"), "POST");
}

TEST_F(ApiTest, OversizedBodyIs413) {
  std::string token = Token("admin");
  HttpOptions options;
  options.max_body_bytes = 1024;
  auto started = StartService(options);
  ASSERT_TRUE(started) << started.error().message;
  std::string body = R"({"customer":")" + std::string(4096, 'x') + R"("})";
  auto res = Post("/api/v1/collect", token, body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  EXPECT_EQ(Json(res)["error"]["code"], "payload_too_large");
  EXPECT_TRUE(runner_.requests.empty());
}

TEST_F(ApiTest, HeadIsAnsweredLikeGetWithoutBody) {
  std::string token = Token("admin");
  Start();
  auto res = Client().Head("/api/v1/servers", Auth(token));
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_TRUE(res->body.empty());
  EXPECT_EQ(Client().Head("/api/v1/servers")->status, 401);
}

TEST_F(ApiTest, RefusesPlainHttpOnNonLoopbackAddress) {
  HttpOptions options;
  options.host = "0.0.0.0";
  auto started = StartService(options);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(started.error().message, HasSubstr("0.0.0.0"));
  EXPECT_THAT(started.error().message, HasSubstr("--insecure-listen"));
}

TEST_F(ApiTest, InsecureListenAllowsNonLoopbackAddress) {
  HttpOptions options;
  options.host = "0.0.0.0";
  options.insecure_listen = true;
  auto started = StartService(options);
  ASSERT_TRUE(started) << started.error().message;
  auto res = Client().Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
}

TEST_F(ApiTest, LoopbackHostsAreRecognised) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackHost("127.1.2.3"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("::1"));
  EXPECT_FALSE(IsLoopbackHost("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackHost("127.0.0.1.evil.example"));
  EXPECT_FALSE(IsLoopbackHost("192.168.1.5"));
  EXPECT_FALSE(IsLoopbackHost(""));
}

TEST_F(ApiTest, ServesHttpsWithAGeneratedCertificate) {
  std::string cert = dir_.path() + "/cert.pem";
  std::string key = dir_.path() + "/key.pem";
  auto made =
      testing::RunProcess({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                           key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  std::string token = Token("admin");
  HttpOptions options;
  options.host = "0.0.0.0";  // allowed: TLS
  options.tls_cert_file = cert;
  options.tls_key_file = key;
  auto started = StartService(options);
  ASSERT_TRUE(started) << started.error().message;
  EXPECT_TRUE(service_->tls());
  httplib::SSLClient client("127.0.0.1", service_->port());
  client.set_ca_cert_path(cert.c_str());
  client.enable_server_certificate_verification(false);  // CN, not SAN: verify the chain below
  auto res = client.Get("/api/v1/servers", Auth(token));
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(Json(res)["servers"], nlohmann::json::array());
  // Plain HTTP to the TLS port gets no answer.
  auto plain = Client().Get("/healthz");
  EXPECT_TRUE(!plain || plain->status != 200);
}

TEST_F(ApiTest, RefusesTlsWithUnusableFiles) {
  std::string cert = dir_.path() + "/cert.pem";
  {
    std::ofstream out(cert);
    out << "not a certificate";
  }
  HttpOptions options;
  options.tls_cert_file = cert;
  options.tls_key_file = cert;
  auto started = StartService(options);
  ASSERT_FALSE(started);
  EXPECT_EQ(started.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(started.error().message, HasSubstr(cert));
  options.tls_key_file = "";
  started = StartService(options);
  ASSERT_FALSE(started);
  EXPECT_THAT(started.error().message, HasSubstr("both"));
}

TEST_F(ApiTest, RequestHookSeesRouteStatusAndTokenNameButNoQuery) {
  std::string token = Token("admin");
  Start();
  ASSERT_EQ(Get("/api/v1/runs/7?x=1", token)->status, 404);
  ASSERT_EQ(Client().Get("/healthz")->status, 200);
  service_->Stop();  // the hook runs after the response is written: wait for in-flight work
  std::lock_guard lock(log_mu_);
  ASSERT_EQ(logs_.size(), 2u);
  EXPECT_EQ(logs_[0].method, "GET");
  EXPECT_EQ(logs_[0].path, "/api/v1/runs/7");
  EXPECT_EQ(logs_[0].route, "/api/v1/runs/{id}");
  EXPECT_EQ(logs_[0].status, 404);
  EXPECT_EQ(logs_[0].token_name, "admin");
  EXPECT_EQ(logs_[1].route, "/healthz");
  EXPECT_EQ(logs_[1].token_name, "");
}

TEST_F(ApiTest, ServesDashboardAssetsWithCacheHeaders) {
  assets_.push_back({"/", "text/html; charset=utf-8", "<html>fleet</html>"});
  assets_.push_back({"/assets/app.js", "text/javascript", "console.log(1)"});
  Start();
  auto page = Client().Get("/");
  ASSERT_TRUE(page);
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->body, "<html>fleet</html>");
  EXPECT_EQ(page->get_header_value("Cache-Control"), "no-cache");
  auto script = Client().Get("/assets/app.js");
  ASSERT_TRUE(script);
  EXPECT_EQ(script->body, "console.log(1)");
  EXPECT_EQ(script->get_header_value("Content-Type"), "text/javascript");
  EXPECT_THAT(script->get_header_value("Cache-Control"), HasSubstr("max-age"));
  auto missing = Client().Get("/assets/nope.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST_F(ApiTest, JwksPublishesActiveAndStandbyKeysOnly) {
  int n = 0;
  for (auto state :
       {SigningKeyState::kStandby, SigningKeyState::kStandby, SigningKeyState::kActive}) {
    auto pair = crypto::GenerateKeyPair(crypto::SigningAlg::kES256);
    ASSERT_TRUE(pair);
    SigningKey key;
    key.kid = "kid-" + std::to_string(n++);
    key.alg = "ES256";
    key.issuer = "https://fleet.example";
    key.sealed_private_key = "sealed";
    key.public_pem = pair->public_pem;
    key.state = state;
    ASSERT_TRUE(store_->CreateSigningKey(key, kTestNow)) << key.kid;
  }
  ASSERT_TRUE(store_->RetireSigningKey("kid-0", kTestNow));
  Start();
  auto res = Client().Get("/.well-known/jwks.json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Cache-Control"), "public, max-age=300");
  auto jwks = Json(res);
  ASSERT_EQ(jwks["keys"].size(), 2u);
  EXPECT_EQ(jwks["keys"][0]["kid"], "kid-1");
  EXPECT_EQ(jwks["keys"][1]["kid"], "kid-2");
  EXPECT_EQ(jwks["keys"][1]["kty"], "EC");
  EXPECT_EQ(jwks["keys"][1]["alg"], "ES256");
  EXPECT_FALSE(jwks["keys"][1].contains("d"));
}

TEST_F(ApiTest, StopWaitsForInFlightRequests) {
  std::string token = Token("admin");
  Start();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&] {
      for (int j = 0; j < 5; ++j) {
        auto res = Get("/api/v1/servers", token);
        if (res && res->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  service_->Stop();
  EXPECT_EQ(ok.load(), 40);
  auto after = Client().Get("/healthz");
  EXPECT_FALSE(after);
}

}  // namespace
}  // namespace fleet::service
