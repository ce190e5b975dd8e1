#include "n8n/insights.h"

#include <cmath>
#include <string>

#include <nlohmann/json.hpp>

#include "core/time.h"
#include "core/url.h"

namespace fleet::n8n {
namespace {

// Starts every message of the beyond-history error, so that IsBeyondHistory() recognises it
// without a dedicated ErrorCode. Part of the contract: do not reword.
constexpr std::string_view kBeyondHistoryPrefix = "beyond the Insights history: ";
// n8n 2.40.7: 403 "The selected date range exceeds the maximum history allowed by your license".
constexpr std::string_view kN8nHistoryMessage = "exceeds the maximum history";
// Counts above 2^53 are not exact in the double n8n (JavaScript) sends.
constexpr double kMaxExactCount = 9007199254740992.0;

// "2026-11-20T00:00:00.000Z": the form n8n's own UI sends.
std::string IsoMillis(int64_t unix_seconds) {
  std::string iso = FormatTimestamp(unix_seconds);  // "...THH:MM:SSZ"
  iso.insert(iso.size() - 1, ".000");
  return iso;
}

Error Bad(std::string_view server, const std::string& what) {
  return Error{ErrorCode::kBadResponse,
               "server '" + std::string(server) +
                   "' sent an Insights summary that cannot be used: " + what +
                   "; is it an n8n instance of a supported version?"};
}

// body[field].value as a finite number >= 0.
Result<double> Value(const nlohmann::json& body, const std::string& field,
                     std::string_view server) {
  auto it = body.find(field);
  if (it == body.end() || !it->is_object()) {
    return tl::unexpected(Bad(server, "'" + field + "' is missing or not an object"));
  }
  auto value = it->find("value");
  if (value == it->end() || !value->is_number()) {
    return tl::unexpected(Bad(server, "'" + field + ".value' is missing or not a number"));
  }
  double number = value->get<double>();
  if (!std::isfinite(number) || number < 0) {
    return tl::unexpected(
        Bad(server, "'" + field + ".value' is " + value->dump() + ", not a finite number >= 0"));
  }
  return number;
}

// body[field].value as a whole count >= 0 (n8n may send 12 or 12.0).
Result<int64_t> Count(const nlohmann::json& body, const std::string& field,
                      std::string_view server) {
  auto value = Value(body, field, server);
  if (!value) return tl::unexpected(value.error());
  if (*value != std::floor(*value) || *value > kMaxExactCount) {
    return tl::unexpected(Bad(
        server, "'" + field + ".value' is " + body[field]["value"].dump() + ", not a whole count"));
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
  if (response.status == 403) {
    if (response.body.find(kN8nHistoryMessage) != std::string::npos) {
      return MakeError(ErrorCode::kPermissionDenied,
                       std::string(kBeyondHistoryPrefix) + "server '" + std::string(server) +
                           "' no longer keeps Insights that far back (its licence's history "
                           "limit): the day cannot be collected any more");
    }
    Error error = DescribeApiFailure(response, server);
    error.message +=
        "; reading Insights needs the insights:read scope (API key) or an owner/admin identity "
        "(token exchange)";
    return tl::unexpected(std::move(error));
  }
  if (response.status != 200) return tl::unexpected(DescribeApiFailure(response, server));
  auto body = nlohmann::json::parse(response.body, nullptr, false);
  if (body.is_discarded() || !body.is_object()) {
    return tl::unexpected(DescribeApiFailure(response, server));
  }
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
  InsightsSummary summary;
  summary.total = *total;
  summary.failed = *failed;
  summary.time_saved_minutes = *saved;
  summary.average_run_time_ms = *average;
  return summary;
}

bool IsBeyondHistory(const Error& error) {
  return error.code == ErrorCode::kPermissionDenied &&
         error.message.starts_with(kBeyondHistoryPrefix);
}

}  // namespace fleet::n8n
