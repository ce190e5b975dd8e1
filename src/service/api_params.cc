#include "service/api_params.h"

#include <charconv>
#include <cstdlib>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/text.h"
#include "service/reports.h"

namespace fleet::service::api {
namespace {

constexpr int kDefaultRunsLimit = 50;
constexpr int kMaxRunsLimit = 1000;

ParamError Problem(std::string message, std::string parameter) {
  return ParamError{Error{ErrorCode::kInvalidArgument, std::move(message)}, std::move(parameter)};
}

tl::unexpected<ParamError> Bad(std::string message, std::string parameter) {
  return tl::unexpected(Problem(std::move(message), std::move(parameter)));
}

// Reads one optional string member into `out`; a problem when it is not a string.
std::optional<ParamError> StringMember(const nlohmann::json& body, const char* name,
                                       std::string& out) {
  if (!body.contains(name)) return std::nullopt;
  if (!body[name].is_string()) {
    return Problem(std::string(name) + " must be a string", name);
  }
  out = body[name].get<std::string>();
  return std::nullopt;
}

std::optional<ParamError> DayMember(const nlohmann::json& body, const char* name,
                                    std::optional<Day>& out) {
  std::string text;
  if (auto problem = StringMember(body, name, text)) return problem;
  if (!body.contains(name)) return std::nullopt;
  out = ParseDay(text);
  if (!out) return Problem(std::string(name) + " '" + text + "' is not YYYY-MM-DD", name);
  return std::nullopt;
}

}  // namespace

std::optional<int64_t> ParsePositive(std::string_view text) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 1) return std::nullopt;
  return value;
}

std::optional<std::string> QueryValue(const QueryParams& params, const std::string& name) {
  auto it = params.lower_bound(name);
  if (it == params.end() || it->first != name) return std::nullopt;
  return it->second;
}

ParamResult<std::pair<Day, Day>> ParseDayRange(const QueryParams& params, Day default_from,
                                               Day default_to) {
  std::pair<Day, Day> range{default_from, default_to};
  for (const char* name : {"from", "to"}) {
    auto text = QueryValue(params, name);
    if (!text) continue;
    auto day = ParseDay(*text);
    if (!day) return Bad(std::string(name) + " '" + *text + "' is not a day: use YYYY-MM-DD", name);
    (std::string_view(name) == "from" ? range.first : range.second) = *day;
  }
  if (range.first > range.second) {
    return Bad("from " + FormatDay(range.first) + " is after to " + FormatDay(range.second),
               "from");
  }
  if (range.second - range.first >= kMaxRangeDays) {
    return Bad("the range " + FormatDay(range.first) + ".." + FormatDay(range.second) +
                   " spans more than " + std::to_string(kMaxRangeDays) + " days; narrow it",
               "from");
  }
  return range;
}

ParamResult<int> ParseRunsLimit(const QueryParams& params) {
  auto text = QueryValue(params, "limit");
  if (!text) return kDefaultRunsLimit;
  auto value = ParsePositive(*text);
  if (!value || *value > kMaxRunsLimit) {
    return Bad(
        "limit '" + *text + "' must be a whole number from 1 to " + std::to_string(kMaxRunsLimit),
        "limit");
  }
  return static_cast<int>(*value);
}

ParamResult<std::string> ParseUsageSource(const QueryParams& params) {
  std::string source = QueryValue(params, "source").value_or("pull");
  if (source != "pull" && source != "push" && source != "all") {
    return Bad("source '" + source + "' is not one of pull, push, all", "source");
  }
  return source == "all" ? "" : source;
}

ParamResult<MonthlyReportQuery> ParseMonthlyReportQuery(const QueryParams& params,
                                                        const std::string& accept, Day today) {
  MonthlyReportQuery query;
  query.month = QueryValue(params, "month").value_or(MonthOf(today));
  std::string by_text = QueryValue(params, "by").value_or("customer");
  auto by = ParseGroupBy(by_text);
  if (!by) return Bad("by '" + by_text + "' is not one of customer, server", "by");
  query.by = *by;
  if (auto format = QueryValue(params, "format")) {
    if (*format != "csv" && *format != "json") {
      return Bad("format '" + *format + "' is not one of json, csv", "format");
    }
    query.csv = *format == "csv";
  } else {
    query.csv = AcceptQuality(accept, "text/csv") > AcceptQuality(accept, "application/json");
  }
  if (auto range = MonthRangeOf(query.month, today); !range) {
    return tl::unexpected(ParamError{range.error(), "month"});
  }
  return query;
}

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

ParamResult<collector::CollectionRequest> ParseCollectBody(const std::string& body_text) {
  collector::CollectionRequest request;
  request.origin = "api";
  if (Trim(body_text).empty()) return request;
  nlohmann::json body = nlohmann::json::parse(body_text, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return Bad("the body must be a JSON object", "body");
  }
  static const std::set<std::string> kKnown = {"day",     "from",     "to",
                                               "servers", "customer", "backfill"};
  for (const auto& [key, value] : body.items()) {
    if (!kKnown.contains(key)) return Bad("unknown member '" + key + "'", key);
  }
  std::optional<Day> day, from, to;
  if (auto problem = DayMember(body, "day", day)) return tl::unexpected(*problem);
  if (auto problem = DayMember(body, "from", from)) return tl::unexpected(*problem);
  if (auto problem = DayMember(body, "to", to)) return tl::unexpected(*problem);
  if (day && (from || to)) return Bad("give either day or from/to, not both", "day");
  if (from.has_value() != to.has_value())
    return Bad("from and to go together", from ? "to" : "from");
  if (day) request.days.push_back(*day);
  if (from) {
    if (*from > *to || *to - *from >= kMaxRangeDays) {
      return Bad("from must not be after to, and the range at most " +
                     std::to_string(kMaxRangeDays) + " days",
                 "from");
    }
    for (Day d = *from; d <= *to; d = d + 1) request.days.push_back(d);
  }
  if (body.contains("servers")) {
    const auto& servers = body["servers"];
    bool ok = servers.is_array();
    for (const auto& name : servers) ok = ok && name.is_string();
    if (!ok) return Bad("servers must be an array of server names", "servers");
    for (const auto& name : servers) request.servers.push_back(name.get<std::string>());
  }
  if (auto problem = StringMember(body, "customer", request.customer)) {
    return tl::unexpected(*problem);
  }
  if (!request.servers.empty() && !request.customer.empty()) {
    return Bad("give either servers or customer, not both", "customer");
  }
  if (body.contains("backfill")) {
    if (!body["backfill"].is_boolean()) return Bad("backfill must be true or false", "backfill");
    request.backfill = body["backfill"].get<bool>();
  }
  return request;
}

}  // namespace fleet::service::api
