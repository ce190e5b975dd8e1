#pragma once

// Internal to the HTTP API: what the routes read from a request's query string and body, as pure
// functions of the decoded parameters (tested directly and fuzzed: fuzz/fuzz_api_params.cc).
// The route files turn a ParamError into a 400 naming the parameter.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "collector/run.h"
#include "core/error.h"
#include "core/time.h"
#include "storage/store.h"

namespace fleet::service::api {

// The longest range of days one request may ask for.
inline constexpr int64_t kMaxRangeDays = 3660;

// The query parameters as cpp-httplib decodes them (httplib::Params).
using QueryParams = std::multimap<std::string, std::string>;

// The first value of `name`, if present (an empty value counts as present).
std::optional<std::string> QueryValue(const QueryParams& params, const std::string& name);

// What is wrong with a request, and which parameter (or body member) it is about.
struct ParamError {
  Error error{};
  std::string parameter{};
};
template <class T>
using ParamResult = tl::expected<T, ParamError>;

// A whole number >= 1 written in decimal digits only (?limit=, the id in /api/v1/runs/{id}).
std::optional<int64_t> ParsePositive(std::string_view text);

// ?from=&to= as days (YYYY-MM-DD), defaulting to [default_from, default_to]; from <= to and at
// most kMaxRangeDays days.
ParamResult<std::pair<Day, Day>> ParseDayRange(const QueryParams& params, Day default_from,
                                               Day default_to);

// GET /api/v1/runs ?limit=: 1 to 1000, default 50.
ParamResult<int> ParseRunsLimit(const QueryParams& params);

// GET /api/v1/usage ?source=: pull (default), push or all; the store's filter ("" for all).
ParamResult<std::string> ParseUsageSource(const QueryParams& params);

// GET /api/v1/reports/monthly: ?month=YYYY-MM (default: today's month, not after it),
// ?by=customer|server, ?format=json|csv (else the Accept header decides).
struct MonthlyReportQuery {
  std::string month{};
  storage::GroupBy by{};
  bool csv{false};
};
ParamResult<MonthlyReportQuery> ParseMonthlyReportQuery(const QueryParams& params,
                                                        const std::string& accept, Day today);

// The q-value an Accept header gives `type` ("text/csv"), through its exact, "text/*" or "*/*"
// ranges; 1 for every type when there is no Accept header.
double AcceptQuality(const std::string& accept, std::string_view type);

// The body of POST /api/v1/collect ("" or a JSON object with day, from/to, servers, customer,
// backfill) as a collection request from the API.
ParamResult<collector::CollectionRequest> ParseCollectBody(const std::string& body);

}  // namespace fleet::service::api
