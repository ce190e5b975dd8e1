#pragma once

#include <cstdint>
#include <string_view>

#include "core/error.h"
#include "n8n/client.h"
#include "n8n/http.h"

namespace fleet::n8n {

// n8n's Insights summary (public API), n8n-reference.md section 2. The window n8n sums is NOT
// always the one sent: collector/plan.h holds the recipe that makes a day's figures exact.

// GET /api/v1/insights/summary?startDate=<ISO>&endDate=<ISO>, both as "2026-11-20T00:00:00.000Z"
// URL-encoded ("2026-11-20T00%3A00%3A00.000Z"): n8n refuses unencoded dates (400).
HttpRequest InsightsSummaryRequest(const Endpoint& endpoint, const ApiAuth& auth,
                                   int64_t start_unix, int64_t end_unix);

// One window's sums. n8n sends failureRate too; it is validated but not kept (it is rounded to
// 0.001; derive it from failed / total).
struct InsightsSummary {
  int64_t total{};  // production executions, successes + failures: the billed figure
  int64_t failed{};
  double time_saved_minutes{};
  double average_run_time_ms{};  // n8n rounds it to 0.01 ms

  // average x total: within 0.005 x total of the true sum, because of n8n's rounding.
  double total_run_time_ms() const { return average_run_time_ms * static_cast<double>(total); }
};

// Strict validation of a 200 answer: a JSON object with total, failed, failureRate, timeSaved
// and averageRunTime, each an object with a numeric "value"; total and failed whole (12 or 12.0)
// and >= 0 with failed <= total; the others finite and >= 0. Anything else is kBadResponse
// naming the field and `server`. Other answers are described like DescribeApiFailure (401
// kUnauthenticated, 403 kPermissionDenied, 404 kNotFound, 429 kRateLimited, 5xx kUnavailable,
// HTML or non-JSON kBadResponse), except a 403 for a range beyond the licence's history, which
// is kPermissionDenied recognised by IsBeyondHistory(). Messages never carry credentials.
Result<InsightsSummary> ParseInsightsSummary(const HttpResponse& response, std::string_view server);

// True only for the error ParseInsightsSummary returns when n8n refuses a range reaching further
// back than the licence's Insights history (its message starts with a fixed prefix): the window's
// first day can no longer be read, so it is unrecoverable rather than failed.
bool IsBeyondHistory(const Error& error);

}  // namespace fleet::n8n
