// `n8n-fleet usage ...`: the stored daily figures, monthly billing reports and gaps.
#include <cmath>
#include <map>
#include <set>

#include "cli/commands.h"
#include "collector/run.h"
#include "core/csv.h"
#include "core/time.h"
#include "service/reports.h"

namespace fleet::cli {
namespace {

constexpr char kTotalNote[] =
    "total = production executions n8n's Insights counted (webhook, trigger, cli, error, retry, "
    "evaluation runs that succeeded or failed); n8n's own internal billable counter excludes "
    "error-workflow runs, so it can be lower";

struct UsageArgs {
  std::string server, customer, from, to, month, by{"customer"}, format{"table"};
  bool json{false};
};

std::string Fixed(double value, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, value);
  return buf;
}

Result<std::string> Format(const UsageArgs& a) {
  std::string format = a.json ? "json" : a.format;
  if (format != "table" && format != "json" && format != "csv") {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--format must be table, json or csv, not '" + format + "'");
  }
  return format;
}

Result<int> Show(Context& ctx, const UsageArgs& a) {
  auto format = Format(a);
  if (!format) return tl::unexpected(format.error());
  for (const auto* day : {&a.from, &a.to}) {
    if (!day->empty() && !ParseDay(*day)) {
      return MakeError(ErrorCode::kInvalidArgument, "'" + *day + "' is not a YYYY-MM-DD date");
    }
  }
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  storage::UsageFilter filter;
  if (!a.server.empty()) filter.server = a.server;
  if (!a.customer.empty()) filter.customer = a.customer;
  filter.from_day = a.from;
  filter.to_day = a.to;
  auto rows = (*store)->ListDailyUsage(filter);
  if (!rows) return tl::unexpected(rows.error());
  std::vector<std::string> header = {
      "day",         "server",       "customer",           "total",
      "failed",      "failure_rate", "time_saved_minutes", "average_run_time_ms",
      "collected_at"};
  if (*format == "json") {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : *rows) {
      list.push_back({{"day", r.day},
                      {"server", r.server},
                      {"customer", r.customer},
                      {"total", r.total},
                      {"failed", r.failed},
                      {"failure_rate", r.failure_rate},
                      {"time_saved_minutes", r.time_saved_minutes},
                      {"average_run_time_ms", r.average_run_time_ms},
                      {"collected_at", FormatTimestamp(r.collected_at)},
                      {"run", r.run_id}});
    }
    ctx.out().Json(list);
    return kExitOk;
  }
  std::vector<std::vector<std::string>> table;
  for (const auto& r : *rows) {
    table.push_back({r.day, r.server, r.customer, std::to_string(r.total), std::to_string(r.failed),
                     Fixed(r.failure_rate, 4), Fixed(r.time_saved_minutes, 2),
                     Fixed(r.average_run_time_ms, 2), FormatTimestamp(r.collected_at)});
  }
  if (*format == "csv") {
    std::string out = CsvLine(header);
    for (auto row : table) {
      row[1] = SpreadsheetSafe(row[1]);  // names: never a formula in a spreadsheet
      row[2] = SpreadsheetSafe(row[2]);
      out += CsvLine(row);
    }
    ctx.out().Raw(out);
    return kExitOk;
  }
  if (table.empty()) {
    ctx.out().Info("No usage stored for that selection; collect it with `n8n-fleet collect`");
    return kExitOk;
  }
  ctx.out().Table({"Day", "Server", "Customer", "Total", "Failed", "Failure rate", "Saved (min)",
                   "Avg run (ms)", "Collected"},
                  table);
  return kExitOk;
}

// One report for the CLI and the HTTP API (service/reports.h): the same rows, JSON and CSV.
Result<int> Report(Context& ctx, const UsageArgs& a) {
  auto format = Format(a);
  if (!format) return tl::unexpected(format.error());
  auto by = service::ParseGroupBy(a.by);
  if (!by) return MakeError(ErrorCode::kInvalidArgument, "--by must be customer or server");
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto report =
      service::BuildMonthlyReport(**store, a.month, *by, DayOf(ctx.clock().NowUnixSeconds()));
  if (!report) return tl::unexpected(report.error());
  if (*format == "json") {
    auto json = service::MonthlyReportJson(*report);
    json["note"] = kTotalNote;
    ctx.out().Json(json);
    return kExitOk;
  }
  if (*format == "csv") {
    ctx.out().Raw(service::MonthlyReportCsv(*report));
    return kExitOk;
  }
  auto completeness = [](const storage::MonthlyRow& r) {
    return r.days_expected > 0
               ? static_cast<double>(r.days_collected) / static_cast<double>(r.days_expected)
               : 1.0;
  };
  std::vector<std::string> header = {a.by};
  if (a.by == "server") header.push_back("customer");
  for (const char* h :
       {"total", "failed", "servers", "days_collected", "days_expected", "completeness"}) {
    header.push_back(h);
  }
  bool pushed = false;
  for (const auto& r : report->rows) pushed |= r.push_days > 0;
  if (pushed) {
    header.push_back("push_total");
    header.push_back("disagreements");
  }
  std::vector<std::vector<std::string>> table;
  bool incomplete = false;
  for (const auto& r : report->rows) {
    std::vector<std::string> row = {r.group.empty() && a.by == "customer" ? "(none)" : r.group};
    if (a.by == "server") row.push_back(r.customer);
    double share = completeness(r);
    incomplete |= r.days_collected < r.days_expected;
    for (auto v : {r.total, r.failed, r.servers, r.days_collected, r.days_expected}) {
      row.push_back(std::to_string(v));
    }
    std::string pct = Fixed(std::floor(share * 1000) / 10, 1) + "%";
    row.push_back(r.days_collected < r.days_expected ? pct + " INCOMPLETE" : pct);
    if (pushed) {
      row.push_back(std::to_string(r.push_total));
      row.push_back(std::to_string(r.disagreements));
    }
    table.push_back(std::move(row));
  }
  ctx.out().Line("Billable executions " + report->range.from + " .. " + report->range.to + " by " +
                 a.by);
  std::vector<std::string> titles;
  for (const auto& h : header) {
    std::string t = h;
    t[0] = static_cast<char>(std::toupper(t[0]));
    for (auto& c : t) c = c == '_' ? ' ' : c;
    titles.push_back(t);
  }
  ctx.out().Table(titles, table);
  if (incomplete) {
    ctx.out().Warn(
        "some days are missing: the totals above are too low until they are collected "
        "(`n8n-fleet usage gaps`, `n8n-fleet collect --backfill`)");
  }
  ctx.out().Line(std::string("Note: ") + kTotalNote + ".");
  return kExitOk;
}

Result<int> Gaps(Context& ctx, const UsageArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  Day today = DayOf(ctx.clock().NowUnixSeconds());
  auto servers = (*store)->ListServers({.customer = std::nullopt, .active_only = true});
  if (!servers) return tl::unexpected(servers.error());
  Day oldest = today;
  for (const auto& s : *servers)
    oldest = std::min(oldest, ParseDay(s.tracking_since).value_or(today));
  auto gaps = collector::FindGaps(**store, oldest, today - 1, /*with_unrecoverable=*/true);
  if (!gaps) return tl::unexpected(gaps.error());
  // Per server (in name order), its missing and unrecoverable days.
  std::map<std::string, std::pair<std::vector<std::string>, std::vector<std::string>>> days;
  std::map<std::string, std::string> customers;
  for (const auto& g : *gaps) {
    if (!a.server.empty() && g.server != a.server) continue;
    auto& [missing, gone] = days[g.server];
    (g.unrecoverable.empty() ? missing : gone).push_back(FormatDay(g.day));
    customers[g.server] = g.customer;
  }
  nlohmann::json list = nlohmann::json::array();
  std::vector<std::vector<std::string>> table;
  for (const auto& [server, pair] : days) {
    const auto& [missing, gone] = pair;
    list.push_back({{"server", server},
                    {"customer", customers[server]},
                    {"missing", missing},
                    {"unrecoverable", gone}});
    auto summarize = [](const std::vector<std::string>& days) {
      if (days.empty()) return std::string("-");
      return days.size() == 1
                 ? days[0]
                 : days.front() + " .. " + days.back() + " (" + std::to_string(days.size()) + ")";
    };
    table.push_back({server, customers[server], summarize(missing), summarize(gone)});
  }
  if (a.json) {
    ctx.out().Json(list);
    return kExitOk;
  }
  if (table.empty()) {
    ctx.out().Success("No gaps: every tracked day up to yesterday is collected");
    return kExitOk;
  }
  ctx.out().Table({"Server", "Customer", "Missing", "Unrecoverable"}, table);
  return kExitOk;
}

}  // namespace

void AddUsageCommands(CLI::App& app, Context& ctx, Action& action) {
  auto* group = app.add_subcommand("usage", "Stored usage: daily rows, monthly reports, gaps");
  group->require_subcommand(1);
  auto a = std::make_shared<UsageArgs>();
  auto bind = [&action, &ctx, a](CLI::App* cmd, auto fn) {
    cmd->callback([&action, &ctx, a, fn] { action = [&ctx, a, fn] { return fn(ctx, *a); }; });
  };
  auto* show = group->add_subcommand("show", "Daily rows");
  show->add_option("--server,-s", a->server, "Only this server");
  show->add_option("--customer", a->customer, "Only this customer");
  show->add_option("--from", a->from, "First day (YYYY-MM-DD)");
  show->add_option("--to", a->to, "Last day (YYYY-MM-DD)");
  show->add_option("--format", a->format, "table (default), json or csv");
  show->add_flag("--json", a->json, "Same as --format json");
  bind(show, Show);
  auto* report = group->add_subcommand("report", "Billable executions per customer or server");
  report->add_option("--month", a->month, "YYYY-MM")->required();
  report->add_option("--by", a->by, "customer (default) or server");
  report->add_option("--format", a->format, "table (default), json or csv");
  report->add_flag("--json", a->json, "Same as --format json");
  bind(report, Report);
  auto* gaps = group->add_subcommand("gaps", "Days not collected yet, per server");
  gaps->add_option("--server,-s", a->server, "Only this server");
  gaps->add_flag("--json", a->json, "JSON output");
  bind(gaps, Gaps);
}

}  // namespace fleet::cli
