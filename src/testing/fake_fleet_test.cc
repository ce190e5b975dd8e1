// The fake fleet answers like FakeN8n (same rules, n8n-reference.md sections 1-2), per instance,
// from one epoll loop: windows, token exchange, keep-alive, and a thousand instances at once.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
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

}  // namespace
}  // namespace fleet::testing
