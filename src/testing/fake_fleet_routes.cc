// The fake fleet's routes: each instance answers like FakeN8n, through the same rules
// (n8n_rules.h), with figures from FleetDailyFigures and the faults of FleetFaultFor; the
// workflow routes are in fake_fleet_workflows.cc.

#include <algorithm>
#include <ctime>
#include <string_view>
#include <unordered_map>

#include "testing/fake_fleet_internal.h"

namespace fleet::testing {

FleetDay FleetDailyFigures(int index, Day day) {
  int64_t total = 50 + (int64_t{index} * 7 + day.days_since_epoch * 13) % 200;
  return {total, total / 10, static_cast<double>(total) * 0.5, static_cast<double>(total) * 120.0};
}

namespace {

// splitmix64's finaliser: every input bit moves about half the output bits.
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

FleetFault FleetFaultFor(double rate, uint64_t seed, int index, Day day, int64_t attempt) {
  if (rate <= 0) return FleetFault::kNone;
  uint64_t h = Mix(seed);
  h = Mix(h ^ static_cast<uint64_t>(index));
  h = Mix(h ^ static_cast<uint64_t>(day.days_since_epoch));
  h = Mix(h ^ static_cast<uint64_t>(attempt));
  double draw = static_cast<double>(h >> 11) * 0x1.0p-53;  // uniform in [0, 1)
  if (draw >= rate) return FleetFault::kNone;
  uint64_t kind = Mix(h) % 10;
  if (kind < 6) return FleetFault::kError;
  return kind < 8 ? FleetFault::kClose : FleetFault::kHang;
}

namespace fleet_impl {
namespace {

Response Json(int status, const rules::Json& body) { return JsonResponse(status, body); }

Response Message(int status, const std::string& message) {
  return MessageResponse(status, message);
}

Day Today(const Fleet& fleet) { return fleet.options.today.value_or(DayOf(UnixNow(fleet))); }

// With a fixed "today", now is that day at the clock's time of day.
int64_t Now(const Fleet& fleet) {
  int64_t real = UnixNow(fleet);
  return StartOfDay(Today(fleet)) + (real - StartOfDay(DayOf(real)));
}

rules::InsightsTotals Sum(const Fleet& fleet, const Instance& instance, rules::Window window) {
  rules::InsightsTotals totals;
  Day last = std::max(fleet.start_day, Today(fleet));
  for (Day day = fleet.start_day - fleet.options.days_back; day <= last; day = day + 1) {
    if (!window.Contains(day)) continue;
    FleetDay f = FleetDailyFigures(instance.index, day);
    totals.Add({f.total, f.failed, f.time_saved_minutes, f.total_runtime_ms});
  }
  return totals;
}

// The fault FleetOptions::fault_rate gives this request, counted; kNone for most.
FleetFault NextFault(Fleet& fleet, Instance& instance) {
  const FleetOptions& o = fleet.options;
  Day today = Today(fleet);
  if (instance.requests_day != today) {
    instance.requests_day = today;
    instance.insights_requests = 0;
  }
  int64_t attempt = instance.insights_requests++;
  if (o.fault_rate <= 0 || (o.faults_until && today >= *o.faults_until)) return FleetFault::kNone;
  FleetFault fault = FleetFaultFor(o.fault_rate, o.fault_seed, instance.index, today, attempt);
  Counters& c = fleet.counters;
  if (fault != FleetFault::kNone) c.faults.fetch_add(1, std::memory_order_relaxed);
  if (fault == FleetFault::kError) c.fault_errors.fetch_add(1, std::memory_order_relaxed);
  if (fault == FleetFault::kClose) c.fault_closes.fetch_add(1, std::memory_order_relaxed);
  if (fault == FleetFault::kHang) c.fault_hangs.fetch_add(1, std::memory_order_relaxed);
  return fault;
}

Response InsightsSummary(Fleet& fleet, Instance& instance, const wire::Request& request) {
  if (FleetFault fault = NextFault(fleet, instance); fault != FleetFault::kNone) {
    Response response = Message(500, "fault injected by the fake fleet");
    response.fault = fault;
    return response;
  }
  std::string role = Authorize(fleet, instance, request);
  if (role.empty()) return Message(401, "unauthorized");
  if (role != "global:owner" && role != "global:admin") return Message(403, "Forbidden");
  rules::InsightsQuery query{request.target, wire::QueryParam(request.query, "startDate"),
                             wire::QueryParam(request.query, "endDate")};
  rules::WindowAnswer answer =
      rules::DecideInsightsWindow(query, Today(fleet), Now(fleet), fleet.options.history_days);
  if (answer.status != 200) return Message(answer.status, answer.message);
  return Json(200, rules::InsightsSummaryJson(Sum(fleet, instance, answer.current),
                                              Sum(fleet, instance, answer.previous)));
}

Response TokenExchange(Fleet& fleet, Instance& instance, const wire::Request& request) {
  if (fleet.keyring.size() == 0) return Message(404, "not found");  // module not loaded
  int64_t now = UnixNow(fleet);
  rules::SubjectPolicy policy;
  if (fleet.options.expect_own_audience) policy.audience_override = instance.url;
  rules::ExchangeAnswer answer = rules::AnswerExchange(
      fleet.keyring, policy, instance.used_jtis, request.Header("content-type"), request.body, now);
  Response response = Json(answer.status, answer.body);
  if (answer.status == 200) {
    std::erase_if(instance.access_tokens,
                  [now](const auto& t) { return t.second.expires_at <= now; });
    instance.access_tokens[answer.token] = {now + answer.verdict.expires_in, answer.verdict.role};
    fleet.counters.exchanges.fetch_add(1, std::memory_order_relaxed);
    response.extra_headers = "Cache-Control: no-store\r\n";
  } else if (!answer.verdict.reason.empty()) {
    fleet.counters.exchange_failures.fetch_add(1, std::memory_order_relaxed);
  }
  return response;
}

}  // namespace

int64_t UnixNow(const Fleet& fleet) {
  if (fleet.options.clock) return fleet.options.clock->NowUnixSeconds();
  return static_cast<int64_t>(std::time(nullptr));
}

Response JsonResponse(int status, const rules::Json& body) { return {status, body.dump(), ""}; }

Response MessageResponse(int status, const std::string& message) {
  return JsonResponse(status, rules::Json{{"message", message}});
}

std::string Authorize(const Fleet& fleet, const Instance& instance, const wire::Request& request) {
  std::string_view key = request.Header("x-n8n-api-key");
  if (!key.empty() && key == fleet.options.api_key) return "global:owner";
  constexpr std::string_view kBearer = "Bearer ";
  std::string_view authorization = request.Header("authorization");
  if (authorization.substr(0, kBearer.size()) != kBearer) return "";
  auto it = instance.access_tokens.find(std::string(authorization.substr(kBearer.size())));
  if (it == instance.access_tokens.end() || UnixNow(fleet) >= it->second.expires_at) return "";
  return it->second.role;
}

Response HandleRequest(Fleet& fleet, Instance& instance, const wire::Request& request) {
  fleet.counters.requests.fetch_add(1, std::memory_order_relaxed);
  const std::string& path = request.path;
  if (request.method == "GET" && path == "/healthz") return Json(200, {{"status", "ok"}});
  if (request.method == "POST" && path == rules::kTokenExchangePath) {
    return TokenExchange(fleet, instance, request);
  }
  if (path.rfind("/rest/", 0) == 0) {  // the internal API wants a browser session
    return Json(401, {{"status", "error"}, {"message", "Unauthorized"}});
  }
  if (request.method == "GET" && path == rules::kInsightsSummaryPath) {
    return InsightsSummary(fleet, instance, request);
  }
  if (IsWorkflowPath(path)) return HandleWorkflowRequest(fleet, instance, request);
  return Message(404, "not found");
}

}  // namespace fleet_impl
}  // namespace fleet::testing
