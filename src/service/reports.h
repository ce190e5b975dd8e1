#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/time.h"
#include "storage/store.h"

namespace fleet::service {

// The days a monthly report covers: the month's first day to its last, or to yesterday for the
// month in progress (days not finished are not expected yet; on the 1st: just the 1st).
struct MonthRange {
  std::string month{};  // "YYYY-MM"
  std::string from{};   // YYYY-MM-DD, inclusive
  std::string to{};     // YYYY-MM-DD, inclusive
};

// kInvalidArgument for anything but "YYYY-MM" (months 01-12, years 1970-9999) and for a month
// that begins after `today`.
Result<MonthRange> MonthRangeOf(std::string_view month, Day today);
std::string MonthOf(Day day);  // "YYYY-MM"

std::string_view GroupByName(storage::GroupBy by);  // "customer" | "server"
std::optional<storage::GroupBy> ParseGroupBy(std::string_view text);

// Billable executions of one month per customer (or server), pulled and pushed figures side by
// side: what `GET /api/v1/reports/monthly` and the CLI report.
struct MonthlyReport {
  MonthRange range{};
  storage::GroupBy by{storage::GroupBy::kCustomer};
  std::vector<storage::MonthlyRow> rows{};
  int64_t total{};  // sums over rows (pulled figures)
  int64_t failed{};
};

Result<MonthlyReport> BuildMonthlyReport(storage::Store& store, std::string_view month,
                                         storage::GroupBy by, Day today);

// {"month","from","to","by","rows":[{group,customer,servers,total,failed,days_collected,
// days_expected,complete,push_total,push_days,disagreements}],"totals":{"total","failed"}}.
nlohmann::json MonthlyReportJson(const MonthlyReport& report);
// RFC 4180 with the header group,customer,servers,total,failed,days_collected,days_expected,
// push_total,push_days,disagreements; one line per row.
std::string MonthlyReportCsv(const MonthlyReport& report);
// "fleet-usage-<month>-by-<by>.csv".
std::string MonthlyReportFilename(const MonthlyReport& report);

}  // namespace fleet::service
