// The HTTP API's request parsing (service/api_params.h) as the service does it: the input's first
// line is a query string, decoded by cpp-httplib as for a request; its second line an Accept
// header; the rest a POST /api/v1/collect body. Checks the promises the routes rely on.

#include <httplib.h>

#include "fuzz_util.h"
#include "service/api_params.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  using namespace fleet::service::api;
  std::string_view text = fuzz::AsText(data, size);
  auto next_line = [&text]() {
    size_t end = text.find('\n');
    std::string line(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return line;
  };
  std::string query = next_line();
  std::string accept = next_line();
  QueryParams params;
  httplib::detail::parse_query_text(query, params);
  const Day today = *ParseDay("2026-11-24");

  if (auto range = ParseDayRange(params, today - 30, today)) {
    FUZZ_CHECK(range->first <= range->second && range->second - range->first < kMaxRangeDays);
  } else {
    FUZZ_CHECK(!range.error().parameter.empty());
  }
  if (auto limit = ParseRunsLimit(params)) FUZZ_CHECK(*limit >= 1 && *limit <= 1000);
  if (auto source = ParseUsageSource(params)) {
    FUZZ_CHECK(*source == "" || *source == "pull" || *source == "push");
  }
  if (auto report = ParseMonthlyReportQuery(params, accept, today)) {
    FUZZ_CHECK(report->month.size() == 7 && report->month <= "2026-11");
  } else {
    FUZZ_CHECK(!report.error().parameter.empty());
  }
  if (auto request = ParseCollectBody(std::string(text))) {
    FUZZ_CHECK(request->origin == "api");
    FUZZ_CHECK(static_cast<int64_t>(request->days.size()) <= kMaxRangeDays);
    FUZZ_CHECK(request->servers.empty() || request->customer.empty());
  } else {
    // (the parameter may be empty: an unknown member named "" is refused without naming it)
    FUZZ_CHECK(request.error().error.code == ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!request.error().error.message.empty());
  }
  return 0;
}
