#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"
#include "n8n/client.h"
#include "n8n/http.h"

namespace fleet::n8n {

// n8n's Insights summary (public API), n8n-reference.md section 2. The window n8n sums is NOT
// always the one sent: collector/plan.h holds the recipe that makes it exact.

// GET /api/v1/insights/summary?startDate=<ISO>&endDate=<ISO>, dates URL-encoded
// ("2026-11-20T00%3A00%3A00.000Z"), as n8n requires.
HttpRequest InsightsSummaryRequest(const Endpoint& endpoint, const ApiAuth& auth,
                                   int64_t start_unix, int64_t end_unix);

struct InsightsSummary {
  int64_t total{};  // production executions, success + failure
  int64_t failed{};
  double time_saved_minutes{};
  double average_run_time_ms{};
  double total_run_time_ms() const { return average_run_time_ms * static_cast<double>(total); }
};

// Strict validation of a 200 answer: an object with total, failed, failureRate, timeSaved and
// averageRunTime, each an object with a numeric "value"; total and failed whole and >= 0 with
// failed <= total; times finite and >= 0. Anything else is kBadResponse naming the field. Non-2xx
// answers are described like DescribeApiFailure, except a 403 for a range beyond the licence's
// history, which IsBeyondHistory() recognises.
Result<InsightsSummary> ParseInsightsSummary(const HttpResponse& response, std::string_view server);

// True for the error ParseInsightsSummary returns when n8n refuses a range reaching further back
// than the licence's Insights history: such a day can no longer be read.
bool IsBeyondHistory(const Error& error);

}  // namespace fleet::n8n
