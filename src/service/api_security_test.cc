// The security properties of the HTTP API (docs/SECURITY.md): authentication on every route the
// router serves, token kinds kept apart, request limits, and what a report-token holder (a
// possibly hostile instance) can and cannot do.

#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>

#include "service/api_router.h"
#include "service/api_test_util.h"

namespace fleet::service {
namespace {

using ::testing::HasSubstr;

std::string SourceDir() {
  const char* dir = std::getenv("N8N_FLEET_SOURCE_DIR");
  return dir != nullptr ? dir : N8N_FLEET_SOURCE_DIR_DEFAULT;
}

// The routes the service serves, as the service builds them.
std::vector<api::Route> ServedRoutes() {
  ServiceDeps deps;
  api::Router router(deps);
  api::AddAllRoutes(router);
  return router.routes();
}

// A concrete path for a route pattern: "{x}" and a final "*" become "x1".
std::string PathOf(const std::string& pattern) {
  std::string path;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t end = pattern.find('}', i);
      path += "x1";
      i = end + 1;
    } else if (pattern[i] == '*') {
      path += "x1";
      ++i;
    } else {
      path += pattern[i++];
    }
  }
  return path;
}

// The OpenAPI form of a pattern: "/assets/*" documents as "/assets/{path}".
std::string OpenApiPathOf(const std::string& pattern) {
  if (pattern.size() >= 2 && pattern.substr(pattern.size() - 2) == "/*") {
    return pattern.substr(0, pattern.size() - 1) + "{path}";
  }
  return pattern;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

class ApiSecurityTest : public ApiTest {
 protected:
  httplib::Result Send(const std::string& method, const std::string& path,
                       const httplib::Headers& headers) {
    httplib::Client client = Client();
    const std::string body = "{}";
    if (method == "GET") return client.Get(path, headers);
    if (method == "POST") return client.Post(path, headers, body, "application/json");
    ADD_FAILURE() << "no sender for method " << method;
    return client.Get(path, headers);
  }
  // Nothing a refused request could have changed: no run started, no report stored.
  void ExpectNoSideEffects(const std::string& what) {
    EXPECT_TRUE(runner_.requests.empty()) << what;
    auto reports = store_->ListInstanceReports("acme-prod", 100);
    ASSERT_TRUE(reports) << reports.error().message;
    EXPECT_TRUE(reports->empty()) << what;
  }
};

TEST(ApiRouteTableTest, EveryRouteIsDocumentedWithItsSecurityAndEveryDocumentedRouteIsServed) {
  std::ifstream file(SourceDir() + "/docs/openapi.json");
  ASSERT_TRUE(file) << SourceDir() + "/docs/openapi.json";
  auto spec = nlohmann::json::parse(file);
  std::set<std::string> documented;
  for (const auto& [path, operations] : spec["paths"].items()) {
    for (const auto& [method, operation] : operations.items()) {
      if (method == "parameters") continue;
      documented.insert(method + " " + path);
    }
  }
  std::set<std::string> served;
  for (const auto& route : ServedRoutes()) {
    std::string path = OpenApiPathOf(route.pattern);
    std::string method = Lower(route.method);
    served.insert(method + " " + path);
    ASSERT_TRUE(spec["paths"].contains(path)) << route.pattern << " is served but not documented";
    ASSERT_TRUE(spec["paths"][path].contains(method)) << route.method << " " << route.pattern;
    const auto& operation = spec["paths"][path][method];
    nlohmann::json security = operation.value("security", spec["security"]);
    bool documented_public = security.is_array() && security.empty();
    EXPECT_EQ(documented_public, route.access == api::Access::kPublic)
        << route.method << " " << route.pattern << ": openapi.json says security "
        << security.dump();
  }
  EXPECT_EQ(served, documented);
  // The public routes are exactly these: anything else must be authenticated.
  std::set<std::string> public_routes;
  for (const auto& route : ServedRoutes()) {
    if (route.access == api::Access::kPublic) public_routes.insert(route.pattern);
  }
  EXPECT_EQ(public_routes, (std::set<std::string>{"/healthz", "/readyz", "/.well-known/jwks.json",
                                                  "/", "/assets/*"}));
}

TEST_F(ApiSecurityTest, EveryProtectedRouteRefusesMissingInvalidRevokedAndWrongKindTokens) {
  AddServer("acme-prod", "acme");
  std::string admin = Token("admin");
  std::string reader = Token("reader", true);
  std::string report = Token("acme-report", false, "acme-prod");
  std::string revoked = Token("old-admin");
  ASSERT_TRUE(store_->RevokeApiToken("old-admin", kTestNow));
  std::string revoked_report = Token("old-report", false, "acme-prod");
  ASSERT_TRUE(store_->RevokeApiToken("old-report", kTestNow));
  // Valid tokens with one character changed, and look-alikes of the wrong shape.
  std::string near_miss = admin.substr(0, admin.size() - 1) + (admin.back() == 'A' ? "B" : "A");
  Start();

  int checked = 0;
  for (const auto& route : ServedRoutes()) {
    if (route.access == api::Access::kPublic) continue;
    ++checked;
    std::string path = PathOf(route.pattern);
    std::string what = route.method + " " + path;
    auto expect = [&](const httplib::Headers& headers, int status, const std::string& why) {
      auto res = Send(route.method, path, headers);
      ASSERT_TRUE(res) << what << " " << why;
      EXPECT_EQ(res->status, status) << what << " " << why << ": " << res->body;
      if (status == 401) {
        EXPECT_THAT(res->get_header_value("WWW-Authenticate"), HasSubstr("Bearer")) << what;
      }
      // An error never echoes the credential it was sent.
      for (const auto& [name, value] : headers) {
        if (value.size() > 12) {
          EXPECT_EQ(res->body.find(value.substr(7)), std::string::npos) << name;
        }
      }
    };
    expect({}, 401, "without a token");
    expect(Auth(""), 401, "with an empty bearer");
    expect(Auth("nft_" + std::string(43, 'A')), 401, "with an unknown token");
    expect(Auth("not-a-token"), 401, "with a malformed token");
    expect(Auth(near_miss), 401, "with a token one character off");
    expect({{"Authorization", "Basic " + admin}}, 401, "with the token under another scheme");
    expect({{"X-API-Key", admin}}, 401, "with the token in another header");
    {
      auto res = Send(route.method, path + "?token=" + admin + "&access_token=" + admin, {});
      ASSERT_TRUE(res);
      EXPECT_EQ(res->status, 401) << what << " with the token in the query";
    }
    if (route.access == api::Access::kApiToken) {
      expect(Auth(revoked), 401, "with a revoked API token");
      expect(Auth(report), 403, "with a report token");
      if (route.method != "GET") expect(Auth(reader), 403, "with a read-only token");
    } else {
      ASSERT_EQ(route.access, api::Access::kReportToken);
      expect(Auth(revoked_report), 401, "with a revoked report token");
      expect(Auth(admin), 403, "with an API token");
      expect(Auth(reader), 403, "with a read-only API token");
    }
    ExpectNoSideEffects(what);
  }
  EXPECT_GE(checked, 9);
}

TEST_F(ApiSecurityTest, MethodsNoRouteServesAreRefusedBeforeAuthentication) {
  AddServer("acme-prod", "acme");
  std::string admin = Token("admin");
  Start();
  for (const auto& route : ServedRoutes()) {
    std::string path = PathOf(route.pattern);
    for (const char* method : {"PUT", "PATCH", "DELETE", "OPTIONS"}) {
      httplib::Request req;
      req.method = method;
      req.path = path;
      req.headers = Auth(admin);
      auto res = Client().send(req);
      ASSERT_TRUE(res) << method << " " << path;
      EXPECT_EQ(res->status, 405) << method << " " << path;
    }
  }
  ExpectNoSideEffects("other methods");
}

// A holder of a report token (the instance itself, perhaps compromised) can lie about its own
// counts but no more: its rows are its own server's, kept apart as source "push", and a count
// too large to be real is refused, so that summing a month cannot overflow and break every
// customer's report.
TEST_F(ApiSecurityTest, AReportTokenPushesOnlyForItsServerAndCannotBreakTheReports) {
  AddServer("acme-prod", "acme", "2026-11-01");
  AddServer("globex", "globex", "2026-11-01");
  AddUsage("globex", "2026-11-22", 40, 1);
  std::string report = Token("acme-report", false, "acme-prod");
  std::string reader = Token("reader", true);
  Start();
  auto push = [&](const std::string& batch, const std::string& instance, int64_t value,
                  const std::string& day) {
    std::string body = R"({"instanceId":")" + instance + R"(","batchId":")" + batch +
                       R"(","label":"globex","dataPoints":[{"kind":"daily","name":)"
                       R"("billableExecutions","value":)" +
                       std::to_string(value) + R"(,"date":")" + day + R"("}]})";
    return Post("/api/v1/instance-reports", report, body);
  };
  // Claiming another server's identity in the body changes nothing: the token decides.
  auto claimed = push("b-1", "globex", 7, "2026-11-22");
  ASSERT_TRUE(claimed);
  EXPECT_EQ(claimed->status, 201) << claimed->body;
  auto globex_rows = store_->ListInstanceReports("globex", 10);
  ASSERT_TRUE(globex_rows);
  EXPECT_TRUE(globex_rows->empty());
  auto acme_rows = store_->ListInstanceReports("acme-prod", 10);
  ASSERT_TRUE(acme_rows);
  ASSERT_EQ(acme_rows->size(), 1u);

  // Counts no instance could reach are refused (two of INT64_MAX / 2 would overflow a sum).
  for (int64_t huge : {int64_t{1} << 62, int64_t{9223372036854775807}}) {
    auto res = push("huge-" + std::to_string(huge), "i", huge, "2026-11-21");
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << res->body;
    EXPECT_EQ(Json(res)["error"]["parameter"], "dataPoints[0].value");
  }
  auto res = push("huge-2", "i", int64_t{1} << 62, "2026-11-20");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);

  // The monthly reports still add up, for every customer.
  for (const char* by : {"customer", "server"}) {
    auto report_res = Get(std::string("/api/v1/reports/monthly?month=2026-11&by=") + by, reader);
    ASSERT_TRUE(report_res);
    EXPECT_EQ(report_res->status, 200) << by << ": " << report_res->body;
  }
}

TEST_F(ApiSecurityTest, OversizedInstanceReportIs413AndStoresNothing) {
  AddServer("acme-prod", "acme");
  std::string report = Token("acme-report", false, "acme-prod");
  HttpOptions options;
  options.max_body_bytes = 4096;
  auto started = StartService(options);
  ASSERT_TRUE(started) << started.error().message;
  std::string points = "[";
  for (int i = 0; i < 200; ++i) {
    points += std::string(i ? "," : "") +
              R"({"kind":"cumulative","name":"billableExecutions","value":1})";
  }
  points += "]";
  auto res = Post("/api/v1/instance-reports", report,
                  R"({"instanceId":"i","batchId":"b","dataPoints":)" + points + "}");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 413);
  ExpectNoSideEffects("oversized report");
}

// Sends raw bytes to the service and returns what it answered (until it closes or 2 s pass).
std::string RawExchange(int port, const std::string& bytes) {
  httplib::Client probe("127.0.0.1", port);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return "";
  }
  timeval timeout{2, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  size_t sent = 0;
  while (sent < bytes.size()) {
    ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early: that is a refusal too
    sent += static_cast<size_t>(n);
  }
  std::string answer;
  char buffer[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n <= 0) break;
    answer.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return answer;
}

TEST_F(ApiSecurityTest, ChunkedBodiesAreHeldToTheSameLimit) {
  AddServer("acme-prod", "acme");
  std::string report = Token("acme-report", false, "acme-prod");
  HttpOptions options;
  options.max_body_bytes = 4096;
  auto started = StartService(options);
  ASSERT_TRUE(started) << started.error().message;
  // A valid report padded with white space to 64 KiB, sent without Content-Length.
  std::string body = R"({"instanceId":"i","batchId":"b","dataPoints":[)"
                     R"({"kind":"daily","name":"billableExecutions","value":5,)"
                     R"("date":"2026-11-22"}]})" +
                     std::string(64 * 1024, ' ');
  std::string chunks;
  for (size_t i = 0; i < body.size(); i += 1000) {
    std::string part = body.substr(i, 1000);
    char size[16];
    std::snprintf(size, sizeof size, "%zx", part.size());
    chunks += std::string(size) + "\r\n" + part + "\r\n";
  }
  chunks += "0\r\n\r\n";
  std::string answer = RawExchange(service_->port(),
                                   "POST /api/v1/instance-reports HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                                   "Authorization: Bearer " +
                                       report +
                                       "\r\nContent-Type: application/json\r\n"
                                       "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" +
                                       chunks);
  EXPECT_EQ(answer.find("HTTP/1.1 201"), std::string::npos) << answer.substr(0, 200);
  EXPECT_NE(answer.find("HTTP/1.1 413"), std::string::npos) << answer.substr(0, 200);
  ExpectNoSideEffects("chunked report");
  // The service still answers.
  auto health = Client().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

TEST_F(ApiSecurityTest, OverlongUrlsAndHeaderLinesAreRefusedAndTheServiceGoesOn) {
  std::string admin = Token("admin");
  Start();
  auto long_url = Get("/api/v1/usage?from=" + std::string(16 * 1024, 'x'), admin);
  ASSERT_TRUE(long_url);
  EXPECT_EQ(long_url->status, 414);
  std::string answer =
      RawExchange(service_->port(), "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " +
                                        std::string(16 * 1024, 'h') + "\r\n\r\n");
  EXPECT_EQ(answer.find("HTTP/1.1 200"), std::string::npos) << answer.substr(0, 200);
  auto health = Client().Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
}

}  // namespace
}  // namespace fleet::service
