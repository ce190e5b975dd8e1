// The fake fleet's faults (FleetOptions::fault_rate) and its clock: which Insights requests fail
// is reproducible, each kind of fault looks as it should on the wire, faults stop on
// `faults_until`, and figures follow the clock's "today" as simulated days pass (the soak test,
// tests/soak/run.sh, relies on all of it).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "testing/fake_clock.h"
#include "testing/fake_fleet.h"

namespace fleet::testing {
namespace {

constexpr char kKey[] = "fleet-api-key";
constexpr char kToday[] = "2026-11-24";

// What one request on its own connection got: an HTTP status, the connection closed without
// an answer, or nothing within the timeout.
struct Outcome {
  int status{0};
  bool closed_unanswered{false};
  bool no_answer{false};
  std::string body{};
};

Outcome Fetch(int port, const std::string& target, int timeout_ms = 1000) {
  Outcome outcome;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return outcome;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string request = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nX-N8N-API-KEY: " + kKey +
                        "\r\nConnection: close\r\n\r\n";
  std::string got;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    char buffer[4096];
    while (true) {
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n > 0) {
        got.append(buffer, static_cast<size_t>(n));
        continue;
      }
      if (n < 0) outcome.no_answer = got.empty();
      break;
    }
  }
  ::close(fd);
  if (outcome.no_answer) return outcome;
  if (got.rfind("HTTP/1.1 ", 0) != 0) {
    outcome.closed_unanswered = got.empty();
    return outcome;
  }
  outcome.status = std::stoi(got.substr(9, 3));
  size_t body = got.find("\r\n\r\n");
  if (body != std::string::npos) outcome.body = got.substr(body + 4);
  return outcome;
}

// [day, day + 1) when day + 1 is the instance's today: exactly that day's figures.
std::string SummaryTarget(Day day) {
  return "/api/v1/insights/summary?startDate=" + FormatDay(day) +
         "T00%3A00%3A00.000Z&endDate=" + FormatDay(day + 1) + "T00%3A00%3A00.000Z";
}

FleetOptions Options(const Clock& clock) {
  FleetOptions options;
  options.count = 2;
  options.days_back = 3;
  options.api_key = kKey;
  options.clock = &clock;
  return options;
}

std::unique_ptr<FakeFleet> StartFleet(const FleetOptions& options) {
  auto fleet = FakeFleet::Start(options);
  EXPECT_TRUE(fleet.has_value()) << (fleet ? "" : fleet.error().message);
  return fleet ? std::move(*fleet) : nullptr;
}

int64_t Noon(Day day) { return StartOfDay(day) + 12 * 3600; }

TEST(FakeFleetFaultsTest, FaultsAreAPureFunctionAtAboutTheRate) {
  Day day = *ParseDay(kToday);
  std::map<FleetFault, int> kinds;
  const int attempts = 100000;
  for (int i = 0; i < attempts; ++i) {
    FleetFault fault = FleetFaultFor(0.05, 7, i % 1000, day, i / 1000);
    EXPECT_EQ(fault, FleetFaultFor(0.05, 7, i % 1000, day, i / 1000));
    ++kinds[fault];
  }
  int faults = attempts - kinds[FleetFault::kNone];
  EXPECT_GT(faults, 4500);
  EXPECT_LT(faults, 5500);
  EXPECT_NEAR(kinds[FleetFault::kError], faults * 0.6, faults * 0.05);
  EXPECT_NEAR(kinds[FleetFault::kClose], faults * 0.2, faults * 0.05);
  EXPECT_NEAR(kinds[FleetFault::kHang], faults * 0.2, faults * 0.05);

  int differ = 0;  // another seed, another day: other attempts fault
  for (int i = 0; i < 1000; ++i) {
    differ += FleetFaultFor(0.5, 7, 0, day, i) != FleetFaultFor(0.5, 8, 0, day, i);
    differ += FleetFaultFor(0.5, 7, 0, day, i) != FleetFaultFor(0.5, 7, 0, day + 1, i);
  }
  EXPECT_GT(differ, 500);
  EXPECT_EQ(FleetFaultFor(0, 7, 0, day, 0), FleetFault::kNone);
  for (int i = 0; i < 100; ++i) EXPECT_NE(FleetFaultFor(1, 7, 0, day, i), FleetFault::kNone);
}

// Each request's fault is FleetFaultFor's for its attempt number, and looks as promised on the
// wire: a 500, a connection closed unanswered, or no answer at all; the rest are n8n's answers.
TEST(FakeFleetFaultsTest, InsightsRequestsFailAsFleetFaultForSays) {
  Day today = *ParseDay(kToday);
  FakeClock clock(Noon(today));
  FleetOptions options = Options(clock);
  options.fault_rate = 0.5;
  options.fault_seed = 42;
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);

  std::map<FleetFault, int> seen;
  for (int attempt = 0; attempt < 40; ++attempt) {
    FleetFault want = FleetFaultFor(0.5, 42, 1, today, attempt);
    Outcome got =
        Fetch(fleet->port(1), SummaryTarget(today - 1), want == FleetFault::kHang ? 300 : 5000);
    ++seen[want];
    switch (want) {
      case FleetFault::kNone: {
        ASSERT_EQ(got.status, 200) << "attempt " << attempt << ": " << got.body;
        auto body = nlohmann::json::parse(got.body);
        EXPECT_EQ(body["total"]["value"], FleetDailyFigures(1, today - 1).total);
        break;
      }
      case FleetFault::kError:
        EXPECT_EQ(got.status, 500) << "attempt " << attempt;
        break;
      case FleetFault::kClose:
        EXPECT_TRUE(got.closed_unanswered) << "attempt " << attempt << ": " << got.status;
        break;
      case FleetFault::kHang:
        EXPECT_TRUE(got.no_answer) << "attempt " << attempt << ": " << got.status;
        break;
    }
  }
  // 40 draws at 0.5 show every kind (fixed by the seed).
  ASSERT_EQ(seen.size(), 4u);
  FleetStats stats = fleet->Stats();
  EXPECT_EQ(stats.faults, 40 - seen[FleetFault::kNone]);
  EXPECT_EQ(stats.fault_errors, seen[FleetFault::kError]);
  EXPECT_EQ(stats.fault_closes, seen[FleetFault::kClose]);
  EXPECT_EQ(stats.fault_hangs, seen[FleetFault::kHang]);
  // Other routes never fault.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(Fetch(fleet->port(1), "/healthz").status, 200);
}

// Attempts count from 0 again when the instance's day changes, and no fault happens on
// `faults_until` or after.
TEST(FakeFleetFaultsTest, AttemptsRestartEachDayAndFaultsStopOnFaultsUntil) {
  Day today = *ParseDay(kToday);
  FakeClock clock(Noon(today));
  FleetOptions options = Options(clock);
  options.fault_rate = 0.5;
  options.faults_until = today + 2;
  auto fleet = StartFleet(options);
  ASSERT_TRUE(fleet);
  auto errors = [&](Day day, int n) {  // the first n attempts' outcomes on `day`, as 0/1
    std::vector<bool> failed;
    for (int i = 0; i < n; ++i) {
      FleetFault want = FleetFaultFor(0.5, options.fault_seed, 0, day, i);
      Outcome got =
          Fetch(fleet->port(0), SummaryTarget(day - 1), want == FleetFault::kHang ? 300 : 5000);
      failed.push_back(got.status != 200);
      EXPECT_EQ(got.status != 200, want != FleetFault::kNone) << FormatDay(day) << " #" << i;
    }
    return failed;
  };
  std::vector<bool> first = errors(today, 8);
  clock.Set(Noon(today + 1));
  std::vector<bool> second = errors(today + 1, 8);
  EXPECT_NE(first, second);  // (fixed by the seed)

  clock.Set(Noon(today + 2));
  for (int i = 0; i < 30; ++i) {
    ASSERT_EQ(Fetch(fleet->port(0), SummaryTarget(today + 1)).status, 200) << i;
  }
  clock.Set(Noon(today + 5));
  EXPECT_EQ(Fetch(fleet->port(0), SummaryTarget(today + 4)).status, 200);
}

// Without a fixed `today`, the instances' day is the clock's, and every day since the start has
// its figures: a collector sees new days arrive as simulated time passes.
TEST(FakeFleetFaultsTest, FiguresFollowTheClocksDay) {
  Day start = *ParseDay(kToday);
  FakeClock clock(Noon(start));
  auto fleet = StartFleet(Options(clock));
  ASSERT_TRUE(fleet);
  EXPECT_EQ(fleet->today(), start);
  EXPECT_EQ(fleet->first_day(), start - 3);

  for (int later = 1; later <= 30; later += 29) {
    clock.Set(Noon(start + later));
    Day yesterday = start + later - 1;
    Outcome got = Fetch(fleet->port(0), SummaryTarget(yesterday));
    ASSERT_EQ(got.status, 200) << got.body;
    EXPECT_EQ(nlohmann::json::parse(got.body)["total"]["value"],
              FleetDailyFigures(0, yesterday).total)
        << FormatDay(yesterday);
  }
  // The first day stays where it was: the day before it has nothing.
  Outcome before =
      Fetch(fleet->port(0), "/api/v1/insights/summary?startDate=" + FormatDay(start - 4) +
                                "T00%3A00%3A00.000Z&endDate=" + FormatDay(start + 30) +
                                "T00%3A00%3A00.000Z");
  ASSERT_EQ(before.status, 200) << before.body;
  int64_t sum = 0;
  for (Day d = start - 3; d <= start + 29; d = d + 1) sum += FleetDailyFigures(0, d).total;
  EXPECT_EQ(nlohmann::json::parse(before.body)["total"]["value"], sum);
}

TEST(FakeFleetFaultsTest, RefusesARateOutsideZeroToOne) {
  FakeClock clock(Noon(*ParseDay(kToday)));
  FleetOptions options = Options(clock);
  options.fault_rate = 1.5;
  auto fleet = FakeFleet::Start(options);
  ASSERT_FALSE(fleet.has_value());
  EXPECT_NE(fleet.error().message.find("fault_rate"), std::string::npos);
}

}  // namespace
}  // namespace fleet::testing
