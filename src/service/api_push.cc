// POST /api/v1/instance-reports: the receiver of n8n's instance-reporting module
// (n8n-reference.md section 5), authenticated by a server's report token.

#include "service/api_router.h"

namespace fleet::service::api {
namespace {

// The largest daily count accepted: 10^12 executions a day (11.6 million a second) is beyond any
// instance, and keeps the report's sums of such rows far from overflowing int64 (SQLite's SUM
// fails on overflow: one hostile instance must not be able to break every customer's report).
constexpr int64_t kMaxPushedCount = 1'000'000'000'000;

// A 400 naming the member (e.g. "dataPoints[2].date").
struct BadMember {
  std::string member{};
  std::string message{};
};

std::optional<BadMember> RequireString(const nlohmann::json& body, const char* name,
                                       bool required) {
  if (!body.contains(name)) {
    if (!required) return std::nullopt;
    return BadMember{name, std::string(name) + " is missing"};
  }
  if (!body[name].is_string() || (required && body[name].get<std::string>().empty())) {
    return BadMember{name, std::string(name) + " must be a non-empty string"};
  }
  return std::nullopt;
}

// The daily billableExecutions points as rows; cumulative points and other names stay in the
// stored payload only.
tl::expected<std::vector<DailyUsage>, BadMember> DailyRows(const nlohmann::json& points,
                                                           const InstanceReport& report, Day today,
                                                           int64_t now) {
  if (!points.is_array())
    return tl::unexpected(BadMember{"dataPoints", "dataPoints must be an array"});
  std::vector<DailyUsage> rows;
  for (size_t i = 0; i < points.size(); ++i) {
    const auto& point = points[i];
    std::string where = "dataPoints[" + std::to_string(i) + "]";
    if (!point.is_object()) return tl::unexpected(BadMember{where, where + " must be an object"});
    for (const char* name : {"kind", "name"}) {
      if (!point.contains(name) || !point[name].is_string()) {
        return tl::unexpected(
            BadMember{where + "." + name, where + "." + name + " must be a string"});
      }
    }
    const std::string kind = point["kind"].get<std::string>();
    if (kind != "daily" && kind != "cumulative") {
      return tl::unexpected(
          BadMember{where + ".kind", where + ".kind '" + kind + "' is not daily or cumulative"});
    }
    if (!point.contains("value") || !point["value"].is_number_integer() ||
        point["value"].get<int64_t>() < 0 || point["value"].get<int64_t>() > kMaxPushedCount) {
      return tl::unexpected(BadMember{where + ".value", where +
                                                            ".value must be a whole number "
                                                            "from 0 to " +
                                                            std::to_string(kMaxPushedCount)});
    }
    if (kind != "daily") continue;
    if (!point.contains("date") || !point["date"].is_string()) {
      return tl::unexpected(BadMember{where + ".date", where + ".date (YYYY-MM-DD) is missing"});
    }
    std::string date = point["date"].get<std::string>();
    auto day = ParseDay(date);
    if (!day) {
      return tl::unexpected(
          BadMember{where + ".date", where + ".date '" + date + "' is not YYYY-MM-DD"});
    }
    if (*day > today) {
      return tl::unexpected(BadMember{
          where + ".date",
          where + ".date " + date + " is in the future (today is " + FormatDay(today) + " UTC)"});
    }
    if (point["name"] != "billableExecutions") continue;
    DailyUsage row;
    row.server = report.server;
    row.day = FormatDay(*day);
    row.total = point["value"].get<int64_t>();
    row.failed = 0;
    row.raw_json = point.dump();
    row.collected_at = now;
    row.n8n_version = report.n8n_version;
    row.source = "push";
    rows.push_back(std::move(row));
  }
  return rows;
}

void InstanceReports(Call& call) {
  nlohmann::json body = nlohmann::json::parse(call.req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return SendError(call.res, 400, "the body must be a JSON object", "body");
  }
  for (auto [name, required] : {std::pair{"instanceId", true}, std::pair{"batchId", true},
                                std::pair{"label", false}, std::pair{"n8nVersion", false}}) {
    if (auto bad = RequireString(body, name, required)) {
      return SendError(call.res, 400, bad->message, bad->member);
    }
  }
  if (!body.contains("dataPoints")) {
    return SendError(call.res, 400, "dataPoints is missing", "dataPoints");
  }
  InstanceReport report;
  report.server = call.token->server;
  report.batch_id = body["batchId"].get<std::string>();
  report.instance_id = body["instanceId"].get<std::string>();
  report.label = body.value("label", "");
  report.n8n_version = body.value("n8nVersion", "");
  report.received_at = call.now;
  auto rows = DailyRows(body["dataPoints"], report, DayOf(call.now), call.now);
  if (!rows) return SendError(call.res, 400, rows.error().message, rows.error().member);
  body.erase("licenseCert");  // a licence is not ours to keep
  report.payload_json = body.dump();

  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  if (auto recorded = (*store)->RecordInstanceReport(report, *rows); !recorded) {
    if (recorded.error().code == ErrorCode::kAlreadyExists) {
      return SendError(
          call.res, 409,
          "batch '" + report.batch_id + "' of server '" + report.server + "' was already received",
          "batchId");
    }
    return SendFailure(call.res, recorded.error());
  }
  SendJson(call.res, 201, {{"accepted", rows->size()}});
}

}  // namespace

void AddPushRoutes(Router& router) {
  router.Add("POST", "/api/v1/instance-reports", Access::kReportToken, InstanceReports);
}

}  // namespace fleet::service::api
