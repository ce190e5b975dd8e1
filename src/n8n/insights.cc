#include "n8n/insights.h"

#include <cmath>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "core/url.h"

namespace fleet::n8n {
namespace {

constexpr char kBeyondHistoryPrefix[] = "beyond the Insights history: ";

std::string IsoMillis(int64_t unix_seconds) {
  std::string iso = FormatTimestamp(unix_seconds);  // ...THH:MM:SSZ
  return iso.substr(0, iso.size() - 1) + ".000Z";
}

Error Bad(std::string_view server, const std::string& what) {
  return Error{
      ErrorCode::kBadResponse,
      "server '" + std::string(server) + "' sent an Insights summary that cannot be used: " + what};
}

Result<double> Value(const nlohmann::json& body, const char* field, std::string_view server) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_object()) {
    return tl::unexpected(Bad(server, std::string("'") + field + "' is missing"));
  }
  auto value = it->find("value");
  if (value == it->end() || !value->is_number()) {
    return tl::unexpected(Bad(server, std::string("'") + field + ".value' is not a number"));
  }
  double number = value->get<double>();
  if (!std::isfinite(number) || number < 0) {
    return tl::unexpected(
        Bad(server, std::string("'") + field + ".value' is negative or not finite"));
  }
  return number;
}

Result<int64_t> Count(const nlohmann::json& body, const char* field, std::string_view server) {
  auto value = Value(body, field, server);
  if (!value) return tl::unexpected(value.error());
  if (*value != std::floor(*value) || *value > 9.0e15) {
    return tl::unexpected(Bad(server, std::string("'") + field + ".value' is not a whole count"));
  }
  return static_cast<int64_t>(*value);
}

}  // namespace

HttpRequest InsightsSummaryRequest(const Endpoint& endpoint, const ApiAuth& auth,
                                   int64_t start_unix, int64_t end_unix) {
  HttpRequest request;
  request.url = endpoint.base_url +
                "/api/v1/insights/summary?startDate=" + UrlEncode(IsoMillis(start_unix)) +
                "&endDate=" + UrlEncode(IsoMillis(end_unix));
  request.headers = {{auth.header_name, auth.header_value}, {"Accept", "application/json"}};
  request.verify_tls = endpoint.verify_tls;
  request.max_response_bytes = 64 * 1024;  // a summary is a few hundred bytes
  return request;
}

Result<InsightsSummary> ParseInsightsSummary(const HttpResponse& response,
                                             std::string_view server) {
  if (response.status == 403 && response.body.find("maximum history") != std::string::npos) {
    return MakeError(ErrorCode::kPermissionDenied,
                     kBeyondHistoryPrefix + std::string("server '") + std::string(server) +
                         "' no longer keeps Insights for that day (its licence's history "
                         "limit); the day cannot be collected");
  }
  if (response.status != 200) return tl::unexpected(DescribeApiFailure(response, server));
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(
        DescribeApiFailure(HttpResponse{200, response.headers, response.body, {}}, server));
  }
  InsightsSummary summary;
  auto total = Count(body, "total", server);
  if (!total) return tl::unexpected(total.error());
  auto failed = Count(body, "failed", server);
  if (!failed) return tl::unexpected(failed.error());
  auto rate = Value(body, "failureRate", server);
  if (!rate) return tl::unexpected(rate.error());
  auto saved = Value(body, "timeSaved", server);
  if (!saved) return tl::unexpected(saved.error());
  auto average = Value(body, "averageRunTime", server);
  if (!average) return tl::unexpected(average.error());
  if (*failed > *total) {
    return tl::unexpected(Bad(server, "'failed' (" + std::to_string(*failed) +
                                          ") exceeds 'total' (" + std::to_string(*total) + ")"));
  }
  summary.total = *total;
  summary.failed = *failed;
  summary.time_saved_minutes = *saved;
  summary.average_run_time_ms = *average;
  return summary;
}

bool IsBeyondHistory(const Error& error) {
  return error.code == ErrorCode::kPermissionDenied &&
         error.message.rfind(kBeyondHistoryPrefix, 0) == 0;
}

}  // namespace fleet::n8n
