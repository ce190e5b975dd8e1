// The monthly report (JSON or CSV) and POST /api/v1/collect.

#include <cstdlib>
#include <memory>
#include <set>
#include <sstream>

#include "collector/run.h"
#include "core/text.h"
#include "service/api_router.h"
#include "service/reports.h"

namespace fleet::service::api {
namespace {

// The q-value the Accept header gives `type` ("text/csv"), through its exact, "text/*" or
// "*/*" ranges; 1 for every type when there is no Accept header.
double AcceptQuality(const std::string& accept, std::string_view type) {
  if (Trim(accept).empty()) return 1.0;
  std::string_view major = type.substr(0, type.find('/'));
  double best = 0.0;
  int best_specificity = -1;
  std::stringstream ranges(accept);
  std::string range;
  while (std::getline(ranges, range, ',')) {
    std::string_view text = range;
    std::string_view media = Trim(text.substr(0, text.find(';')));
    double q = 1.0;
    if (size_t at = text.find("q="); at != std::string_view::npos) {
      q = std::strtod(std::string(text.substr(at + 2)).c_str(), nullptr);
    }
    int specificity = -1;
    if (media == type) {
      specificity = 2;
    } else if (media.size() == major.size() + 2 && media.substr(0, major.size()) == major &&
               media.substr(major.size()) == "/*") {
      specificity = 1;
    } else if (media == "*/*") {
      specificity = 0;
    }
    if (specificity > best_specificity) {
      best_specificity = specificity;
      best = q;
    }
  }
  return best;
}

// Rendered reports kept per service; at most this many bytes of bodies (a month by server of a
// 10,000-server fleet renders to about 4 MB).
constexpr size_t kReportCacheBytes = 64 << 20;

void MonthlyReportRoute(Call& call, MonthlyReportCache& cache) {
  Day today = DayOf(call.now);
  std::string month = call.Query("month").value_or(MonthOf(today));
  std::string by_text = call.Query("by").value_or("customer");
  auto by = ParseGroupBy(by_text);
  if (!by) {
    return SendError(call.res, 400, "by '" + by_text + "' is not one of customer, server", "by");
  }
  bool csv = false;
  if (auto format = call.Query("format")) {
    if (*format != "csv" && *format != "json") {
      return SendError(call.res, 400, "format '" + *format + "' is not one of json, csv", "format");
    }
    csv = *format == "csv";
  } else {
    std::string accept = call.req.get_header_value("Accept");
    csv = AcceptQuality(accept, "text/csv") > AcceptQuality(accept, "application/json");
  }
  if (auto range = MonthRangeOf(month, today); !range) {
    return SendFailure(call.res, range.error(), "month");
  }
  auto store = call.Store();
  if (!store) return SendFailure(call.res, store.error());
  auto report = cache.Get(**store, month, *by, today);
  if (!report) return SendFailure(call.res, report.error());
  call.res.status = 200;
  call.res.set_header("Vary", "Accept");
  call.res.set_header("Cache-Control", "no-store");
  if (!csv) {
    call.res.set_content((*report)->json, "application/json; charset=utf-8");
    return;
  }
  call.res.set_header("Content-Disposition",
                      "attachment; filename=\"" + (*report)->filename + "\"");
  call.res.set_content((*report)->csv, "text/csv; charset=utf-8");
}

// Reads one optional string member; sends the 400 and returns false when it is not a string.
bool StringMember(Call& call, const nlohmann::json& body, const char* name, std::string& out) {
  if (!body.contains(name)) return true;
  if (!body[name].is_string()) {
    SendError(call.res, 400, std::string(name) + " must be a string", name);
    return false;
  }
  out = body[name].get<std::string>();
  return true;
}

bool DayMember(Call& call, const nlohmann::json& body, const char* name, std::optional<Day>& out) {
  std::string text;
  if (!StringMember(call, body, name, text)) return false;
  if (!body.contains(name)) return true;
  out = ParseDay(text);
  if (!out) SendError(call.res, 400, std::string(name) + " '" + text + "' is not YYYY-MM-DD", name);
  return out.has_value();
}

// The CollectionRequest of a POST /api/v1/collect body; nullopt after sending a 400.
std::optional<collector::CollectionRequest> ParseCollectBody(Call& call) {
  collector::CollectionRequest request;
  request.origin = "api";
  if (Trim(call.req.body).empty()) return request;
  nlohmann::json body = nlohmann::json::parse(call.req.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    SendError(call.res, 400, "the body must be a JSON object", "body");
    return std::nullopt;
  }
  static const std::set<std::string> kKnown = {"day",     "from",     "to",
                                               "servers", "customer", "backfill"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.contains(key)) {
      SendError(call.res, 400, "unknown member '" + key + "'", key);
      return std::nullopt;
    }
  }
  std::optional<Day> day, from, to;
  if (!DayMember(call, body, "day", day) || !DayMember(call, body, "from", from) ||
      !DayMember(call, body, "to", to)) {
    return std::nullopt;
  }
  if (day && (from || to)) {
    SendError(call.res, 400, "give either day or from/to, not both", "day");
    return std::nullopt;
  }
  if (from.has_value() != to.has_value()) {
    SendError(call.res, 400, "from and to go together", from ? "to" : "from");
    return std::nullopt;
  }
  if (day) request.days.push_back(*day);
  if (from) {
    if (*from > *to || *to - *from >= kMaxRangeDays) {
      SendError(call.res, 400,
                "from must not be after to, and the range at most " +
                    std::to_string(kMaxRangeDays) + " days",
                "from");
      return std::nullopt;
    }
    for (Day d = *from; d <= *to; d = d + 1) request.days.push_back(d);
  }
  if (body.contains("servers")) {
    const auto& servers = body["servers"];
    bool ok = servers.is_array();
    for (const auto& name : servers) ok = ok && name.is_string();
    if (!ok) {
      SendError(call.res, 400, "servers must be an array of server names", "servers");
      return std::nullopt;
    }
    for (const auto& name : servers) request.servers.push_back(name.get<std::string>());
  }
  if (!StringMember(call, body, "customer", request.customer)) return std::nullopt;
  if (!request.servers.empty() && !request.customer.empty()) {
    SendError(call.res, 400, "give either servers or customer, not both", "customer");
    return std::nullopt;
  }
  if (body.contains("backfill")) {
    if (!body["backfill"].is_boolean()) {
      SendError(call.res, 400, "backfill must be true or false", "backfill");
      return std::nullopt;
    }
    request.backfill = body["backfill"].get<bool>();
  }
  return request;
}

void Collect(Call& call) {
  if (call.deps.runner == nullptr) {
    return SendError(call.res, 503, "collections are not available in this service");
  }
  auto request = ParseCollectBody(call);
  if (!request) return;
  auto run = call.deps.runner->Start(*request);
  if (!run) {
    std::string parameter;
    if (run.error().code == ErrorCode::kNotFound) parameter = "servers";
    if (run.error().code == ErrorCode::kInvalidArgument) parameter = "body";
    return SendFailure(call.res, run.error(), parameter);
  }
  call.res.set_header("Location", "/api/v1/runs/" + std::to_string(*run));
  SendJson(call.res, 202, {{"run", *run}, {"status", "running"}});
}

}  // namespace

void AddReportRoutes(Router& router) {
  auto cache = std::make_shared<MonthlyReportCache>(kReportCacheBytes);
  router.Add("GET", "/api/v1/reports/monthly", Access::kApiToken,
             [cache](Call& call) { MonthlyReportRoute(call, *cache); });
  router.Add("POST", "/api/v1/collect", Access::kApiToken, Collect);
}

}  // namespace fleet::service::api
