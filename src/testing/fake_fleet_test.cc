// The fake fleet answers like FakeN8n (same rules, n8n-reference.md sections 1-2), per instance,
// from one epoll loop: windows, token exchange, keep-alive, a thousand instances at once, and
// workflows as n8n 2.40.7 keeps them (tests/real_n8n/WORKFLOWS.md).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/url.h"
#include "testing/fake_fleet.h"
#include "testing/fake_n8n.h"
#include "testing/http_wire.h"
#include "testing/test_jwt.h"

namespace fleet::testing {
namespace {

using Json = nlohmann::json;

constexpr char kKey[] = "fleet-api-key";
constexpr char kIssuer[] = "https://usage.partner.example";
constexpr char kEmail[] = "usage-tracker@partner.example";
constexpr char kToday[] = "2026-11-24";

struct Answer {
  int status{};
  Json body{};
};

Answer Get(int port, const std::string& target, const httplib::Headers& headers) {
  httplib::Client client("127.0.0.1", port);
  client.set_url_encode(false);
  auto res = client.Get(target.c_str(), headers);
  if (!res) return {};
  return {res->status, Json::parse(res->body, nullptr, false)};
}

std::string SummaryTarget(const std::string& start_day, const std::string& end_day) {
  return "/api/v1/insights/summary?startDate=" + start_day +
         "T00%3A00%3A00.000Z&endDate=" + end_day + "T00%3A00%3A00.000Z";
}

std::unique_ptr<FakeFleet> StartFleet(FleetOptions options) {
  auto fleet = FakeFleet::Start(options);
  EXPECT_TRUE(fleet.has_value()) << (fleet ? "" : fleet.error().message);
  return fleet ? std::move(*fleet) : nullptr;
}

FleetOptions Options(int count) {
  FleetOptions options;
  options.count = count;
  options.today = ParseDay(kToday);
  options.days_back = 10;
  options.api_key = kKey;
  return options;
}

int64_t Figure(int index, const char* day) {
  return FleetDailyFigures(index, *ParseDay(day)).total;
}

TEST(FakeFleetTest, DailyFiguresFollowTheFormula) {
  Day day = *ParseDay(kToday);
  FleetDay f = FleetDailyFigures(3, day);
  int64_t total = 50 + (3 * 7 + day.days_since_epoch * 13) % 200;
  EXPECT_EQ(f.total, total);
  EXPECT_EQ(f.failed, total / 10);
  EXPECT_DOUBLE_EQ(f.time_saved_minutes, static_cast<double>(total) * 0.5);
  EXPECT_DOUBLE_EQ(f.total_runtime_ms, static_cast<double>(total) * 120.0);
}

// The reference's example, with this fleet's deterministic figures for instance 2.
TEST(FakeFleetTest, ReferenceExampleWindowsUseN8nsRules) {
  auto fleet = StartFleet(Options(3));
  ASSERT_TRUE(fleet);
  auto total = [&](const std::string& start, const std::string& end) {
    Answer answer = Get(fleet->port(2), SummaryTarget(start, end), {{"X-N8N-API-KEY", kKey}});
    EXPECT_EQ(answer.status, 200) << answer.body.dump();
    return answer.status == 200 ? answer.body["total"]["value"].get<int64_t>() : -1;
  };
  int64_t d20 = Figure(2, "2026-11-20"), d21 = Figure(2, "2026-11-21");
  int64_t d22 = Figure(2, "2026-11-22"), d23 = Figure(2, "2026-11-23");

  EXPECT_EQ(total("2026-11-20", "2026-11-21"), d20 + d21);  // a past end day widens: two days
  EXPECT_EQ(total("2026-11-22", "2026-11-23"), d22 + d23);
  EXPECT_EQ(total("2026-11-23", "2026-11-24"), d23);  // ends today: exact
  EXPECT_EQ(total("2026-11-20", "2026-11-24"), d20 + d21 + d22 + d23);
  EXPECT_EQ(total("2026-11-21", "2026-11-24"), d21 + d22 + d23);
}

// Every answer, refusals included, is byte-for-byte what FakeN8n answers with the same figures.
TEST(FakeFleetTest, AnswersExactlyLikeFakeN8n) {
  auto fleet = StartFleet(Options(2));
  ASSERT_TRUE(fleet);
  FakeN8n single;
  single.AcceptApiKey(kKey);
  single.SetToday(kToday);
  for (Day d = fleet->first_day(); d <= fleet->today(); d = d + 1) {
    FleetDay f = FleetDailyFigures(1, d);
    single.SetDailyInsights(FormatDay(d),
                            {f.total, f.failed, f.time_saved_minutes, f.total_runtime_ms});
  }
  const std::vector<std::string> targets = {
      SummaryTarget("2026-11-20", "2026-11-21"),
      SummaryTarget("2026-11-14", "2026-11-24"),
      SummaryTarget("2026-11-23", "2026-11-23"),  // shorter than a day: 403
      SummaryTarget("2026-11-23", "2026-11-20"),  // end before start: 400
      "/api/v1/insights/summary?startDate=2026-11-20T00:00:00.000Z&endDate=2026-11-21",
      "/api/v1/insights/summary?startDate=2026-11-20&endDate=2026-11-24T12%3A00%3A00Z",
      "/api/v1/insights/summary?startDate=yesterday&endDate=2026-11-24",
      "/api/v1/insights/summary?startDate=2020-01-01&endDate=2026-11-24",  // beyond history
  };
  for (const auto& target : targets) {
    Answer expected = Get(single.port(), target, {{"X-N8N-API-KEY", kKey}});
    Answer actual = Get(fleet->port(1), target, {{"X-N8N-API-KEY", kKey}});
    EXPECT_EQ(actual.status, expected.status) << target;
    EXPECT_EQ(actual.body, expected.body) << target;
  }
  EXPECT_EQ(Get(fleet->port(1), targets[0], {{"X-N8N-API-KEY", "wrong"}}).status, 401);
  EXPECT_EQ(Get(fleet->port(1), "/api/v1/workflows", {{"X-N8N-API-KEY", kKey}}).body,
            (Json{{"data", Json::array()}, {"nextCursor", nullptr}}));
  EXPECT_EQ(Get(fleet->port(1), "/healthz", {}).body, (Json{{"status", "ok"}}));
  EXPECT_EQ(Get(fleet->port(1), "/nowhere", {}).status, 404);
}

class FakeFleetExchangeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = new TestKey(MakeTestKey("ES256")); }
  static void TearDownTestSuite() { delete key_; }

  static std::string Jwt(const std::string& audience, const std::string& jti) {
    int64_t now = std::time(nullptr);
    Json claims = {{"iss", kIssuer},  {"sub", kEmail},          {"aud", audience},
                   {"iat", now},      {"exp", now + 300},       {"jti", jti},
                   {"email", kEmail}, {"email_verified", true}, {"role", "global:admin"}};
    return SignTestJwt(*key_, {{"alg", "ES256"}, {"typ", "JWT"}, {"kid", "ec-1"}}, claims);
  }

  static Answer Exchange(int port, const std::string& jwt) {
    httplib::Client client("127.0.0.1", port);
    std::string body =
        "grant_type=" + UrlEncode("urn:ietf:params:oauth:grant-type:token-exchange") +
        "&subject_token=" + UrlEncode(jwt);
    auto res = client.Post("/rest/auth/oauth/token", body, "application/x-www-form-urlencoded");
    if (!res) return {};
    return {res->status, Json::parse(res->body, nullptr, false)};
  }

  FleetOptions Trusting() const {
    FleetOptions options = Options(2);
    options.api_key.clear();
    options.trusted_keys = {
        {"ec-1", kIssuer, key_->public_pem, {"ES256"}, {"global:admin"}, std::nullopt, true}};
    options.expect_own_audience = true;
    return options;
  }

  static TestKey* key_;
};

TestKey* FakeFleetExchangeTest::key_ = nullptr;

TEST_F(FakeFleetExchangeTest, IssuesABearerTokenForItsOwnAudienceOnly) {
  auto fleet = StartFleet(Trusting());
  ASSERT_TRUE(fleet);
  std::string jwt = Jwt(fleet->url(0), "jti-1");

  Answer issued = Exchange(fleet->port(0), jwt);
  Answer replayed = Exchange(fleet->port(0), jwt);
  Answer other_audience = Exchange(fleet->port(1), Jwt(fleet->url(0), "jti-2"));

  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  EXPECT_EQ(issued.body["token_type"], "Bearer");
  EXPECT_EQ(issued.body["expires_in"], 300);  // min(exp - now, 900)
  EXPECT_EQ(replayed.status, 400);
  EXPECT_EQ(replayed.body["error"], "invalid_grant");
  EXPECT_EQ(other_audience.status, 400);
  std::string bearer = "Bearer " + issued.body["access_token"].get<std::string>();
  std::string target = SummaryTarget("2026-11-23", "2026-11-24");
  Answer summary = Get(fleet->port(0), target, {{"Authorization", bearer}});
  EXPECT_EQ(summary.status, 200);
  EXPECT_EQ(summary.body["total"]["value"], Figure(0, "2026-11-23"));
  EXPECT_EQ(Get(fleet->port(1), target, {{"Authorization", bearer}}).status, 401);
  FleetStats stats = fleet->Stats();
  EXPECT_EQ(stats.exchanges, 1);
  EXPECT_EQ(stats.exchange_failures, 2);
}

TEST_F(FakeFleetExchangeTest, WorkflowRoutesAcceptTheExchangedToken) {
  auto fleet = StartFleet(Trusting());
  ASSERT_TRUE(fleet);
  Answer issued = Exchange(fleet->port(0), Jwt(fleet->url(0), "jti-w"));
  ASSERT_EQ(issued.status, 200) << issued.body.dump();
  httplib::Headers bearer = {
      {"Authorization", "Bearer " + issued.body["access_token"].get<std::string>()}};

  EXPECT_EQ(Get(fleet->port(0), "/api/v1/workflows", bearer).status, 200);
  EXPECT_EQ(Get(fleet->port(1), "/api/v1/workflows", bearer).status, 401);
}

TEST_F(FakeFleetExchangeTest, RefusesUntrustedKeysAndIsAbsentWithoutTrust) {
  auto fleet = StartFleet(Trusting());
  ASSERT_TRUE(fleet);
  TestKey stranger = MakeTestKey("ES256");
  int64_t now = std::time(nullptr);
  Json claims = {{"iss", kIssuer},  {"sub", kEmail},          {"aud", fleet->url(0)},
                 {"iat", now},      {"exp", now + 300},       {"jti", "x"},
                 {"email", kEmail}, {"email_verified", true}, {"role", "global:admin"}};
  std::string forged = SignTestJwt(stranger, {{"alg", "ES256"}, {"kid", "ec-1"}}, claims);

  EXPECT_EQ(Exchange(fleet->port(0), forged).body["error"], "invalid_grant");
  auto untrusting = StartFleet(Options(1));
  ASSERT_TRUE(untrusting);
  EXPECT_EQ(Exchange(untrusting->port(0), Jwt(untrusting->url(0), "y")).status, 404);
}

TEST(FakeFleetTest, RefusesABadTrustedKeyAtStart) {
  FleetOptions options = Options(1);
  options.trusted_keys = {{"k", kIssuer, "not a pem", {"ES256"}, {"global:admin"}, {}, true}};

  auto fleet = FakeFleet::Start(options);

  ASSERT_FALSE(fleet.has_value());
  EXPECT_NE(fleet.error().message.find("not a PEM public key"), std::string::npos);
}

TEST(FakeFleetTest, ParsesTrustedKeysAsKeyEnvPrintsThem) {
  std::string json = R"([{"type":"static","kid":"k1","algorithms":["ES256"],"key":"PEM",)"
                     R"("issuer":"https://i.example","allowedRoles":["global:admin"],)"
                     R"("expectedAudience":"http://127.0.0.1:1"}])";

  auto keys = rules::ParseTrustedKeys(json);

  ASSERT_TRUE(keys.has_value());
  ASSERT_EQ(keys->size(), 1u);
  EXPECT_EQ((*keys)[0].kid, "k1");
  EXPECT_EQ((*keys)[0].algorithms, std::vector<std::string>{"ES256"});
  EXPECT_EQ((*keys)[0].allowed_roles, std::vector<std::string>{"global:admin"});
  EXPECT_EQ((*keys)[0].expected_audience, "http://127.0.0.1:1");
  EXPECT_FALSE(rules::ParseTrustedKeys(R"([{"type":"jwks","url":"x"}])").has_value());
}

TEST(FakeFleetTest, KeepsConnectionsAliveAcrossRequests) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  httplib::Client client("127.0.0.1", fleet->port(0));
  client.set_keep_alive(true);
  for (int i = 0; i < 5; ++i) {
    auto res = client.Get("/api/v1/workflows", {{"X-N8N-API-KEY", kKey}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200);
  }
  client.stop();

  FleetStats stats = fleet->Stats();
  EXPECT_EQ(stats.requests, 5);
  EXPECT_EQ(stats.connections, 1);
}

// Three pipelined requests in one write: three answers, in order, on the same connection.
TEST(FakeFleetTest, AnswersPipelinedRequestsInOrder) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(fleet->port(0)));
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string requests =
      "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"
      "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::write(fd, requests.data(), requests.size()), static_cast<ssize_t>(requests.size()));
  std::string received;
  char buffer[4096];
  for (int i = 0; i < 100; ++i) {  // until the server closes
    ssize_t got = ::read(fd, buffer, sizeof buffer);
    if (got <= 0) break;
    received.append(buffer, static_cast<size_t>(got));
  }
  ::close(fd);

  size_t first = received.find("HTTP/1.1 200");
  size_t second = received.find("HTTP/1.1 404");
  size_t third = received.find("HTTP/1.1 200", first + 1);
  EXPECT_NE(first, std::string::npos);
  EXPECT_LT(first, second);
  EXPECT_LT(second, third);
  EXPECT_NE(third, std::string::npos);
  EXPECT_NE(received.find("Connection: close"), std::string::npos);
  EXPECT_EQ(fleet->Stats().connections, 1);
}

// Connects to 127.0.0.1:port, writes `requests` at once and reads until the server closes.
std::string RoundTrip(int port, const std::string& requests) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return "";
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string received;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::write(fd, requests.data(), requests.size()) == static_cast<ssize_t>(requests.size())) {
    char buffer[4096];
    for (int i = 0; i < 100; ++i) {
      ssize_t got = ::read(fd, buffer, sizeof buffer);
      if (got <= 0) break;
      received.append(buffer, static_cast<size_t>(got));
    }
  }
  ::close(fd);
  return received;
}

int64_t MillisSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start)
      .count();
}

// Held answers wait in the loop's timer queue: eight slow requests at once take one latency, not
// eight, and a fast route is answered while they wait.
TEST(FakeFleetTest, LatencyHoldsSlowAnswersWithoutBlockingTheLoop) {
  FleetOptions options = Options(8);
  options.latency_ms = 1000;  // wide margins: sanitizer builds on a busy machine are slow
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);
  std::string target = SummaryTarget("2026-11-23", "2026-11-24");
  auto start = std::chrono::steady_clock::now();
  std::vector<int64_t> slow_ms(8, -1);
  std::vector<int> statuses(8, 0);
  std::vector<std::thread> clients;
  for (int i = 0; i < 8; ++i) {
    clients.emplace_back([&, i] {
      statuses[static_cast<size_t>(i)] =
          Get(fleet->port(i), target, {{"X-N8N-API-KEY", kKey}}).status;
      slow_ms[static_cast<size_t>(i)] = MillisSince(start);
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto fast_start = std::chrono::steady_clock::now();
  Answer health = Get(fleet->port(0), "/healthz", {});
  int64_t fast_ms = MillisSince(fast_start);
  for (auto& client : clients) client.join();

  EXPECT_EQ(health.status, 200);
  EXPECT_LT(fast_ms, 700);
  for (int i = 0; i < 8; ++i) {
    EXPECT_EQ(statuses[static_cast<size_t>(i)], 200);
    EXPECT_GE(slow_ms[static_cast<size_t>(i)], 1000);
    EXPECT_LT(slow_ms[static_cast<size_t>(i)], 4000);  // together: one latency, not eight
  }
}

// A fast answer pipelined behind a held one waits for it: answers keep their order.
TEST(FakeFleetTest, LatencyKeepsPipelinedAnswersInOrder) {
  FleetOptions options = Options(1);
  options.latency_ms = 200;
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);
  auto start = std::chrono::steady_clock::now();

  std::string received = RoundTrip(
      fleet->port(0), "GET " + SummaryTarget("2026-11-23", "2026-11-24") +
                          " HTTP/1.1\r\nHost: x\r\nX-N8N-API-KEY: " + kKey +
                          "\r\n\r\n"
                          "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");

  EXPECT_GE(MillisSince(start), 200);
  size_t insights = received.find("\"total\"");
  size_t health = received.find("\"status\":\"ok\"");
  EXPECT_NE(insights, std::string::npos) << received;
  EXPECT_NE(health, std::string::npos) << received;
  EXPECT_LT(insights, health);
}

TEST(FakeFleetTest, RequestLogHasOneLinePerInsightsRequest) {
  std::string path = ::testing::TempDir() + "fake_fleet_requests_" + std::to_string(::getpid());
  FleetOptions options = Options(3);
  options.request_log = path;
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);
  int64_t before = static_cast<int64_t>(std::time(nullptr)) * 1000;
  EXPECT_EQ(
      Get(fleet->port(2), SummaryTarget("2026-11-20", "2026-11-24"), {{"X-N8N-API-KEY", kKey}})
          .status,
      200);
  EXPECT_EQ(Get(fleet->port(1), SummaryTarget("2026-11-23", "2026-11-24"), {{"X-N8N-API-KEY", "x"}})
                .status,
            401);
  // No dates: n8n's default window.
  EXPECT_EQ(Get(fleet->port(1), "/api/v1/insights/summary", {{"X-N8N-API-KEY", kKey}}).status, 200);
  EXPECT_EQ(Get(fleet->port(0), "/healthz", {}).status, 200);  // not logged
  int64_t after = (static_cast<int64_t>(std::time(nullptr)) + 1) * 1000;
  fleet.reset();  // writes the rest of the log

  std::ifstream in(path);
  std::vector<std::vector<std::string>> lines;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string field; fields >> field;) row.push_back(field);
    lines.push_back(row);
  }
  std::remove(path.c_str());
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0][0], "2");
  EXPECT_EQ(lines[0][1], "2026-11-20T00:00:00.000Z");
  EXPECT_EQ(lines[0][2], "2026-11-24T00:00:00.000Z");
  EXPECT_GE(std::stoll(lines[0][3]), before);
  EXPECT_LT(std::stoll(lines[0][3]), after);
  EXPECT_EQ(lines[0][4], "200");
  EXPECT_EQ(lines[1][0], "1");
  EXPECT_EQ(lines[1][4], "401");
  EXPECT_EQ((std::vector<std::string>{lines[2][1], lines[2][2]}),
            (std::vector<std::string>{"-", "-"}));
  EXPECT_EQ(lines[2][4], "200");
  EXPECT_LE(std::stoll(lines[0][3]), std::stoll(lines[2][3]));
}

TEST(FakeFleetTest, RefusesARequestLogItCannotCreate) {
  FleetOptions options = Options(1);
  options.request_log = "/nonexistent-dir/requests.log";

  auto fleet = FakeFleet::Start(options);

  ASSERT_FALSE(fleet.has_value());
  EXPECT_NE(fleet.error().message.find("/nonexistent-dir/requests.log"), std::string::npos);
}

TEST(FakeFleetTest, WireParserRefusesWhatItCannotServe) {
  wire::Request request;
  EXPECT_EQ(wire::ParseRequest("BROKEN\r\n\r\n", request).error_status, 400);
  EXPECT_EQ(
      wire::ParseRequest("POST / HTTP/1.1\r\nContent-Length: 999999\r\n\r\n", request).error_status,
      413);
  EXPECT_EQ(wire::ParseRequest("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", request)
                .error_status,
            501);
  wire::ParseResult waiting = wire::ParseRequest(
      "POST / HTTP/1.1\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nab", request);
  EXPECT_EQ(waiting.status, wire::ParseStatus::kIncomplete);
  EXPECT_TRUE(waiting.wants_continue);
  EXPECT_EQ(wire::QueryParam("a=1&startDate=2026-11-20T00%3A00%3A00Z", "startDate"),
            "2026-11-20T00:00:00Z");
  EXPECT_EQ(wire::QueryParam("a=1", "startDate"), std::nullopt);
}

TEST(FakeFleetTest, AThousandInstancesInOneProcessAllAnswer) {
  RaiseOpenFileLimit();
  auto fleet = StartFleet(Options(1000));
  ASSERT_TRUE(fleet);
  std::string target = SummaryTarget("2026-11-23", "2026-11-24");
  int answered = 0;
  for (int i = 0; i < fleet->count(); ++i) {
    Answer answer = Get(fleet->port(i), target, {{"X-N8N-API-KEY", kKey}});
    if (answer.status == 200 &&
        answer.body["total"]["value"] == FleetDailyFigures(i, *ParseDay("2026-11-23")).total) {
      ++answered;
    }
  }

  EXPECT_EQ(answered, 1000);
  EXPECT_EQ(fleet->Stats().connections, 1000);
}

// ---- Workflows (tests/real_n8n/WORKFLOWS.md) ----

// A request to a workflow route with the fleet's API key (`key` "" sends none).
Answer Call(int port, const std::string& method, const std::string& target,
            const std::string& body = "", const std::string& type = "application/json",
            const std::string& key = kKey) {
  httplib::Client client("127.0.0.1", port);
  client.set_url_encode(false);
  httplib::Headers headers;
  if (!key.empty()) headers.emplace("X-N8N-API-KEY", key);
  httplib::Result res = method == "GET"      ? client.Get(target.c_str(), headers)
                        : method == "DELETE" ? client.Delete(target, headers)
                        : method == "PUT"    ? client.Put(target, headers, body, type)
                                             : client.Post(target, headers, body, type);
  if (!res) return {};
  return {res->status, Json::parse(res->body, nullptr, false)};
}

// Manual Trigger (or `trigger`) -> Set, as the real-n8n notes' "simple" body.
Json Workflow(const std::string& name,
              const std::string& trigger = "n8n-nodes-base.manualTrigger") {
  Json workflow = Json::parse(R"({
    "nodes": [{"name": "Start", "type": "", "typeVersion": 1, "position": [0, 0], "parameters": {}},
              {"name": "Set", "type": "n8n-nodes-base.set", "typeVersion": 3.4,
               "position": [200, 0], "parameters": {}}],
    "connections": {"Start": {"main": [[{"node": "Set", "type": "main", "index": 0}]]}},
    "settings": {}})");
  workflow["name"] = name;
  workflow["nodes"][0]["type"] = trigger;
  return workflow;
}

Answer Create(int port, const Json& workflow) {
  return Call(port, "POST", "/api/v1/workflows", workflow.dump());
}

bool IsIsoMillis(const Json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : "";
  return text.size() == 24 && text[10] == 'T' && text[19] == '.' && text.back() == 'Z';
}

TEST(FakeFleetWorkflowTest, CreatesReadsAndListsPerInstance) {
  auto fleet = StartFleet(Options(2));
  ASSERT_TRUE(fleet);

  Answer created = Create(fleet->port(0), Workflow("wf-simple"));

  ASSERT_EQ(created.status, 200) << created.body.dump();  // 200, not 201
  std::string id = created.body["id"];
  EXPECT_EQ(id.size(), 16u);
  EXPECT_TRUE(std::all_of(id.begin(), id.end(), [](char c) { return std::isalnum(c) != 0; }));
  EXPECT_EQ(created.body["active"], false);
  EXPECT_TRUE(IsIsoMillis(created.body["updatedAt"])) << created.body["updatedAt"];
  EXPECT_EQ(created.body["createdAt"], created.body["updatedAt"]);
  EXPECT_EQ(created.body["settings"], Json::object());      // nothing added
  EXPECT_TRUE(created.body["nodes"][0]["id"].is_string());  // node ids added
  EXPECT_EQ(created.body["connections"], Workflow("x")["connections"]);
  Answer read = Call(fleet->port(0), "GET", "/api/v1/workflows/" + id);
  EXPECT_EQ(read.status, 200);
  EXPECT_EQ(read.body, created.body);
  Answer listed = Call(fleet->port(0), "GET", "/api/v1/workflows");
  ASSERT_EQ(listed.body["data"].size(), 1u);
  EXPECT_EQ(listed.body["data"][0]["updatedAt"], created.body["updatedAt"]);
  EXPECT_EQ(listed.body["nextCursor"], nullptr);
  EXPECT_EQ(Call(fleet->port(1), "GET", "/api/v1/workflows").body,
            (Json{{"data", Json::array()}, {"nextCursor", nullptr}}));
  EXPECT_EQ(Call(fleet->port(1), "GET", "/api/v1/workflows/" + id).body,
            (Json{{"message", "Not Found"}}));
  EXPECT_EQ(Call(fleet->port(0), "GET", "/api/v1/workflows", "", "", "wrong").status, 401);
  FleetStats stats = fleet->Stats();
  EXPECT_EQ(stats.workflows, 1);
  EXPECT_EQ(stats.workflows_created, 1);
  EXPECT_EQ(stats.workflow_posts, 1);
  EXPECT_EQ(stats.workflow_gets, 2);
  EXPECT_EQ(stats.workflow_lists, 3);
}

TEST(FakeFleetWorkflowTest, UpdateMergesSettingsAndAlwaysAdvancesUpdatedAt) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  Json workflow = Workflow("wf");
  workflow["settings"] = {{"timezone", "Europe/Berlin"}, {"executionOrder", "v1"}};
  workflow["staticData"] = {{"lastId", 2}};
  Answer created = Create(fleet->port(0), workflow);
  ASSERT_EQ(created.status, 200) << created.body.dump();
  const std::string path = "/api/v1/workflows/" + created.body["id"].get<std::string>();

  workflow["settings"] = Json::object();
  workflow.erase("staticData");
  Answer first = Call(fleet->port(0), "PUT", path, workflow.dump());
  Answer second = Call(fleet->port(0), "PUT", path, workflow.dump());  // byte-identical
  workflow["settings"] = {{"timezone", "UTC"}};
  Answer third = Call(fleet->port(0), "PUT", path, workflow.dump());
  workflow["settings"] = {{"timezone", "DEFAULT"}};
  Answer fourth = Call(fleet->port(0), "PUT", path, workflow.dump());

  ASSERT_EQ(first.status, 200) << first.body.dump();
  EXPECT_EQ(first.body["settings"],
            (Json{{"timezone", "Europe/Berlin"}, {"executionOrder", "v1"}}));
  EXPECT_EQ(first.body["staticData"], (Json{{"lastId", 2}}));  // left out: kept
  EXPECT_LT(created.body["updatedAt"].get<std::string>(), first.body["updatedAt"]);
  EXPECT_LT(first.body["updatedAt"].get<std::string>(), second.body["updatedAt"]);
  EXPECT_NE(first.body["versionId"], second.body["versionId"]);
  EXPECT_EQ(second.body["versionCounter"], 3);
  EXPECT_NE(first.body["nodes"][0]["id"], created.body["nodes"][0]["id"]);  // sent without ids
  EXPECT_EQ(third.body["settings"], (Json{{"timezone", "UTC"}, {"executionOrder", "v1"}}));
  EXPECT_EQ(fourth.body["settings"], (Json{{"executionOrder", "v1"}}));
  EXPECT_EQ(Call(fleet->port(0), "GET", path).body["updatedAt"], fourth.body["updatedAt"]);
  EXPECT_EQ(Call(fleet->port(0), "PUT", "/api/v1/workflows/doesNotExist1234", workflow.dump()).body,
            (Json{{"message",
                   "You do not have permission to update this workflow. Ask the owner to share "
                   "it with you."}}));
  FleetStats stats = fleet->Stats();
  EXPECT_EQ(stats.workflow_puts, 5);
  EXPECT_EQ(stats.workflows_updated, 4);
  EXPECT_EQ(stats.workflows, 1);
}

TEST(FakeFleetWorkflowTest, RefusesWhatN8nRefusesWithItsMessages) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  auto refusal = [&](const Json& body) {
    Answer answer = Create(fleet->port(0), body);
    EXPECT_EQ(answer.status, 400) << body.dump();
    return answer.body.value("message", "");
  };
  Json extra = Workflow("wf");
  extra["bogus"] = 1;
  Json read_only = Workflow("wf");
  read_only["active"] = true;
  Json description = Workflow("wf");
  description["description"] = "x";
  Json setting = Workflow("wf");
  setting["settings"]["bogusKey"] = true;
  Json timeout = Workflow("wf");
  timeout["settings"]["executionTimeout"] = "60";
  Json no_settings = Workflow("wf");
  no_settings.erase("settings");
  Json same_ids = Workflow("wf");
  same_ids["nodes"][0]["id"] = "not-a-uuid";
  same_ids["nodes"][1]["id"] = "not-a-uuid";

  EXPECT_EQ(refusal(extra), "request/body Unrecognized key(s) in object: 'bogus'");
  EXPECT_EQ(refusal(read_only), "request/body/active is read-only");
  EXPECT_EQ(refusal(description), "request/body Unrecognized key(s) in object: 'description'");
  EXPECT_EQ(refusal(setting), "request/body/settings Unrecognized key(s) in object: 'bogusKey'");
  EXPECT_EQ(refusal(timeout),
            "request/body/settings/executionTimeout Expected number, received string");
  EXPECT_EQ(refusal(no_settings), "request/body must have required property 'settings'");
  EXPECT_EQ(refusal(same_ids),
            "Workflow structure is invalid. nodes[1].id (duplicate_node_id): Nodes \"Start\" and "
            "\"Set\" share the node ID \"not-a-uuid\"");
  EXPECT_EQ(refusal(Json::array()), "request/body Expected object, received array");
  EXPECT_EQ(Call(fleet->port(0), "POST", "/api/v1/workflows", "{nope").status, 500);
  EXPECT_EQ(Call(fleet->port(0), "POST", "/api/v1/workflows", Workflow("wf").dump(),
                 "application/x-www-form-urlencoded")
                .status,
            415);
  EXPECT_EQ(Call(fleet->port(0), "POST", "/api/v1/workflows", Workflow("wf").dump(),
                 "application/json", "")
                .status,
            401);
  EXPECT_EQ(fleet->Stats().workflows, 0);
  // Description is accepted on update, and redactionPolicy accepted but dropped (unlicensed).
  Answer created = Create(fleet->port(0), Workflow("wf"));
  Json update = Workflow("wf");
  update["description"] = "";
  update["settings"]["redactionPolicy"] = "all";
  Answer updated =
      Call(fleet->port(0), "PUT", "/api/v1/workflows/" + created.body["id"].get<std::string>(),
           update.dump());
  EXPECT_EQ(updated.status, 200) << updated.body.dump();
  EXPECT_EQ(updated.body["description"], "");
  EXPECT_EQ(updated.body["settings"], Json::object());
}

TEST(FakeFleetWorkflowTest, ActivationNeedsATriggerAndLeavesUpdatedAtAlone) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  Answer manual = Create(fleet->port(0), Workflow("manual"));
  Answer scheduled =
      Create(fleet->port(0), Workflow("scheduled", "n8n-nodes-base.scheduleTrigger"));
  const std::string manual_path = "/api/v1/workflows/" + manual.body["id"].get<std::string>();
  const std::string path = "/api/v1/workflows/" + scheduled.body["id"].get<std::string>();

  Answer refused = Call(fleet->port(0), "POST", manual_path + "/activate", "{}");
  Answer activated = Call(fleet->port(0), "POST", path + "/activate", "{}");
  Answer read = Call(fleet->port(0), "GET", path);

  EXPECT_EQ(refused.status, 400);
  EXPECT_EQ(refused.body["message"],
            "Workflow cannot be activated because it has no trigger node. At least one trigger, "
            "webhook, or polling node is required.");
  ASSERT_EQ(activated.status, 200) << activated.body.dump();
  EXPECT_EQ(activated.body["active"], true);
  EXPECT_EQ(activated.body["activeVersionId"], scheduled.body["versionId"]);
  EXPECT_EQ(read.body["updatedAt"], scheduled.body["updatedAt"]);
  EXPECT_EQ(read.body["versionId"], scheduled.body["versionId"]);
  // A PUT that removes the last trigger of an active workflow: 400, but the draft is saved.
  Json untriggered = Workflow("scheduled");
  Answer put = Call(fleet->port(0), "PUT", path, untriggered.dump());
  Answer after = Call(fleet->port(0), "GET", path);
  EXPECT_EQ(put.status, 400);
  EXPECT_EQ(after.body["active"], true);
  EXPECT_EQ(after.body["nodes"][0]["type"], "n8n-nodes-base.manualTrigger");
  EXPECT_EQ(after.body["activeVersion"]["nodes"][0]["type"], "n8n-nodes-base.scheduleTrigger");
  EXPECT_NE(after.body["updatedAt"], scheduled.body["updatedAt"]);
  Answer deactivated = Call(fleet->port(0), "POST", path + "/deactivate", "");
  EXPECT_EQ(deactivated.body["active"], false);
  EXPECT_EQ(deactivated.body["updatedAt"], after.body["updatedAt"]);
  EXPECT_EQ(
      Call(fleet->port(0), "POST", "/api/v1/workflows/doesNotExist1234/activate", "{}").status,
      404);
  EXPECT_EQ(fleet->Stats().workflow_activations, 4);
}

TEST(FakeFleetWorkflowTest, ListsInIdOrderWithN8nsOffsetCursors) {
  auto fleet = StartFleet(Options(1));
  ASSERT_TRUE(fleet);
  std::set<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.insert(Create(fleet->port(0), Workflow("wf-" + std::to_string(i))).body["id"]);
  }

  Answer first = Call(fleet->port(0), "GET", "/api/v1/workflows?limit=2");
  std::vector<std::string> walked;
  Json page = first.body;
  for (int pages = 0; pages < 10; ++pages) {
    for (const Json& item : page["data"]) walked.push_back(item["id"]);
    if (page["nextCursor"].is_null()) break;
    page = Call(fleet->port(0), "GET",
                "/api/v1/workflows?cursor=" + UrlEncode(page["nextCursor"].get<std::string>()))
               .body;
  }

  EXPECT_EQ(first.body["nextCursor"],
            "eyJsaW1pdCI6Miwib2Zmc2V0IjoyfQ==");                        // {"limit":2,"offset":2}
  EXPECT_EQ(walked, std::vector<std::string>(ids.begin(), ids.end()));  // by id, each once
  Answer capped = Call(fleet->port(0), "GET", "/api/v1/workflows?limit=300");
  EXPECT_EQ(capped.status, 200);
  EXPECT_EQ(capped.body["data"].size(), 5u);
  EXPECT_EQ(Call(fleet->port(0), "GET", "/api/v1/workflows?limit=-1").status, 400);
  EXPECT_EQ(Call(fleet->port(0), "GET", "/api/v1/workflows?limit=abc").status, 400);
  EXPECT_EQ(Call(fleet->port(0), "GET", "/api/v1/workflows?cursor=garbage").body["message"],
            "An invalid cursor was provided");
  Answer named = Call(fleet->port(0), "GET", "/api/v1/workflows?name=wf-3");
  ASSERT_EQ(named.body["data"].size(), 1u);
  EXPECT_EQ(named.body["data"][0]["name"], "wf-3");
}

TEST(FakeFleetWorkflowTest, CountsWorkflowsPerNameAcrossTheFleet) {
  auto fleet = StartFleet(Options(3));
  ASSERT_TRUE(fleet);
  Create(fleet->port(0), Workflow("shared"));
  Answer twice = Create(fleet->port(0), Workflow("shared"));  // n8n accepts duplicate names
  Create(fleet->port(1), Workflow("shared"));
  Create(fleet->port(2), Workflow("other"));

  auto names = fleet->WorkflowNames();
  EXPECT_EQ(names["shared"].workflows, 3);
  EXPECT_EQ(names["shared"].instances, 2);  // one instance holds it twice
  EXPECT_EQ(names["other"].workflows, 1);
  EXPECT_EQ(
      Call(fleet->port(0), "DELETE", "/api/v1/workflows/" + twice.body["id"].get<std::string>())
          .status,
      200);
  EXPECT_EQ(fleet->WorkflowNames()["shared"].workflows, 2);
  EXPECT_EQ(fleet->Stats().workflows, 3);
}

// Workflow answers are held back like Insights answers.
TEST(FakeFleetWorkflowTest, AnswersAfterTheFleetsLatency) {
  FleetOptions options = Options(1);
  options.latency_ms = 300;
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);
  auto start = std::chrono::steady_clock::now();

  Answer created = Create(fleet->port(0), Workflow("slow"));

  EXPECT_EQ(created.status, 200);
  EXPECT_GE(MillisSince(start), 300);
}

}  // namespace
}  // namespace fleet::testing
