#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>
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

// A monthly report rendered as the API sends it.
struct RenderedReport {
  std::string json{};      // MonthlyReportJson, compact, with a final newline
  std::string csv{};       // MonthlyReportCsv
  std::string filename{};  // MonthlyReportFilename
  int64_t total{};         // the report's totals, for logs and tests
  int64_t failed{};
};

// The rendered monthly reports of one store, kept while the store's DataVersion() says nothing
// they read has changed: a hit is exactly what building the report again would give. Keyed by
// (month, by, today, data version); least recently used entries go first once the bodies exceed
// `max_bytes` (a report larger than that is served but not kept). Thread-safe; two requests
// missing at once both build the report.
class MonthlyReportCache {
 public:
  explicit MonthlyReportCache(size_t max_bytes);
  MonthlyReportCache(const MonthlyReportCache&) = delete;
  MonthlyReportCache& operator=(const MonthlyReportCache&) = delete;

  // The report as the store holds it now (from the cache or built with BuildMonthlyReport).
  // Errors (a bad month, the store failing) are passed on and never kept.
  Result<std::shared_ptr<const RenderedReport>> Get(storage::Store& store, std::string_view month,
                                                    storage::GroupBy by, Day today);

  struct Stats {
    int64_t hits{};
    int64_t misses{};
    size_t entries{};
    size_t bytes{};
  };
  Stats stats() const;

 private:
  using Key = std::tuple<std::string, storage::GroupBy, int64_t, int64_t>;  // month, by, day, ver
  struct Entry {
    Key key{};
    std::shared_ptr<const RenderedReport> report{};
    size_t bytes{};
  };

  void Insert(const Key& key, std::shared_ptr<const RenderedReport> report);
  void Erase(std::list<Entry>::iterator entry);  // with mu_ held

  const size_t max_bytes_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;  // most recently used first
  std::map<Key, std::list<Entry>::iterator> index_;
  size_t bytes_{0};
  int64_t hits_{0};
  int64_t misses_{0};
};

}  // namespace fleet::service
