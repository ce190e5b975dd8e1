#include "service/reports.h"

#include <iterator>
#include <limits>
#include <string>

#include <fmt/format.h>

#include "core/csv.h"

namespace fleet::service {
namespace {

bool AllDigits(std::string_view text) {
  for (char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return !text.empty();
}

}  // namespace

std::string MonthOf(Day day) { return FormatDay(day).substr(0, 7); }

Result<MonthRange> MonthRangeOf(std::string_view month, Day today) {
  auto bad = [&] {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "month '" + std::string(month) + "' is not a month: use YYYY-MM, e.g. " + MonthOf(today));
  };
  if (month.size() != 7 || month[4] != '-' || !AllDigits(month.substr(0, 4)) ||
      !AllDigits(month.substr(5, 2))) {
    return bad();
  }
  auto first = ParseDay(std::string(month) + "-01");
  if (!first || first->days_since_epoch < 0) return bad();
  if (*first > today) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "month " + std::string(month) + " has not begun (today is " + FormatDay(today) + ")");
  }
  // The last day: the day before the next month's first.
  int year = std::stoi(std::string(month.substr(0, 4)));
  int mon = std::stoi(std::string(month.substr(5, 2)));
  std::string next = mon == 12 ? fmt::format("{:04}-01-01", year + 1)
                               : fmt::format("{:04}-{:02}-01", year, mon + 1);
  auto next_first = ParseDay(next);
  if (!next_first) return bad();
  Day last = *next_first - 1;
  if (last >= today) last = today - 1 < *first ? *first : today - 1;
  return MonthRange{std::string(month), FormatDay(*first), FormatDay(last)};
}

std::string_view GroupByName(storage::GroupBy by) {
  return by == storage::GroupBy::kServer ? "server" : "customer";
}

std::optional<storage::GroupBy> ParseGroupBy(std::string_view text) {
  if (text == "customer") return storage::GroupBy::kCustomer;
  if (text == "server") return storage::GroupBy::kServer;
  return std::nullopt;
}

Result<MonthlyReport> BuildMonthlyReport(storage::Store& store, std::string_view month,
                                         storage::GroupBy by, Day today) {
  auto range = MonthRangeOf(month, today);
  if (!range) return tl::unexpected(range.error());
  auto rows = store.UsageTotals(range->from, range->to, by);
  if (!rows) return tl::unexpected(WithContext(rows.error(), "monthly report " + range->month));
  MonthlyReport report{*range, by, std::move(*rows), 0, 0};
  for (const auto& row : report.rows) {
    report.total += row.total;
    report.failed += row.failed;
  }
  return report;
}

nlohmann::json MonthlyReportJson(const MonthlyReport& report) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& row : report.rows) {
    rows.push_back({{"group", row.group},
                    {"customer", row.customer},
                    {"servers", row.servers},
                    {"total", row.total},
                    {"failed", row.failed},
                    {"days_collected", row.days_collected},
                    {"days_expected", row.days_expected},
                    {"complete", row.days_collected >= row.days_expected},
                    {"push_total", row.push_total},
                    {"push_days", row.push_days},
                    {"disagreements", row.disagreements}});
  }
  return {{"month", report.range.month},
          {"from", report.range.from},
          {"to", report.range.to},
          {"by", GroupByName(report.by)},
          {"rows", std::move(rows)},
          {"totals", {{"total", report.total}, {"failed", report.failed}}}};
}

std::string MonthlyReportCsv(const MonthlyReport& report) {
  std::string out = CsvLine({"group", "customer", "servers", "total", "failed", "days_collected",
                             "days_expected", "push_total", "push_days", "disagreements"});
  for (const auto& row : report.rows) {
    out += CsvLine({SpreadsheetSafe(row.group), SpreadsheetSafe(row.customer),
                    std::to_string(row.servers), std::to_string(row.total),
                    std::to_string(row.failed), std::to_string(row.days_collected),
                    std::to_string(row.days_expected), std::to_string(row.push_total),
                    std::to_string(row.push_days), std::to_string(row.disagreements)});
  }
  return out;
}

std::string MonthlyReportFilename(const MonthlyReport& report) {
  return fmt::format("fleet-usage-{}-by-{}.csv", report.range.month, GroupByName(report.by));
}

MonthlyReportCache::MonthlyReportCache(size_t max_bytes) : max_bytes_(max_bytes) {}

Result<std::shared_ptr<const RenderedReport>> MonthlyReportCache::Get(storage::Store& store,
                                                                      std::string_view month,
                                                                      storage::GroupBy by,
                                                                      Day today) {
  // The version is read first, so the report built below is never older than the key it is
  // kept under (a write in between only makes it newer; the next reader sees a new version).
  auto version = store.DataVersion();
  if (!version) return tl::unexpected(WithContext(version.error(), "monthly report"));
  Key key{std::string(month), by, today.days_since_epoch, *version};
  {
    std::lock_guard lock(mu_);
    if (auto found = index_.find(key); found != index_.end()) {
      lru_.splice(lru_.begin(), lru_, found->second);
      ++hits_;
      return found->second->report;
    }
    ++misses_;
  }
  auto report = BuildMonthlyReport(store, month, by, today);
  if (!report) return tl::unexpected(report.error());
  auto rendered = std::make_shared<RenderedReport>();
  rendered->json =
      MonthlyReportJson(*report).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
      "\n";
  rendered->csv = MonthlyReportCsv(*report);
  rendered->filename = MonthlyReportFilename(*report);
  rendered->total = report->total;
  rendered->failed = report->failed;
  Insert(key, rendered);
  return rendered;
}

void MonthlyReportCache::Insert(const Key& key, std::shared_ptr<const RenderedReport> report) {
  const size_t bytes = report->json.size() + report->csv.size() + report->filename.size();
  if (bytes > max_bytes_) return;
  std::lock_guard lock(mu_);
  // Versions only grow: the same report at an older version will never be asked for again, and
  // one built from an older version than a kept one (a slower request) is not worth keeping.
  const auto& [month, by, day, version] = key;
  for (auto it = index_.lower_bound(Key{month, by, day, std::numeric_limits<int64_t>::min()});
       it != index_.end() && std::get<0>(it->first) == month && std::get<1>(it->first) == by &&
       std::get<2>(it->first) == day;) {
    if (std::get<3>(it->first) >= version) return;
    Erase((it++)->second);
  }
  lru_.push_front(Entry{key, std::move(report), bytes});
  index_[key] = lru_.begin();
  bytes_ += bytes;
  while (bytes_ > max_bytes_) Erase(std::prev(lru_.end()));
}

void MonthlyReportCache::Erase(std::list<Entry>::iterator entry) {
  bytes_ -= entry->bytes;
  index_.erase(entry->key);
  lru_.erase(entry);
}

MonthlyReportCache::Stats MonthlyReportCache::stats() const {
  std::lock_guard lock(mu_);
  return Stats{hits_, misses_, lru_.size(), bytes_};
}

}  // namespace fleet::service
