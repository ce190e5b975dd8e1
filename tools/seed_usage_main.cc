// n8n-fleet-seed-usage: fills a database created by `n8n-fleet db init` (a SQLite file or a
// postgresql:// URL) with N servers and D days of pulled usage per server, straight through the
// Store interface (UpsertServers, then UpsertDailyUsage batches of about 10,000 rows), for
// benchmarks of what reads them (bench/api_bench.sh, bench/report_bench.sh). Test and bench tool;
// never installed as part of the product.
//
//   n8n-fleet-seed-usage --db HOME/fleet.db --servers 10000 --days 365 --customers 200
//   n8n-fleet-seed-usage --db postgresql://user@127.0.0.1:5432/fleet --servers 10000
//
// Figures are a pure function of (server index, day), so a run can be checked against SQL. Prints
// one line: "seeded servers=N rows=R days=FROM..TO raw_bytes=B seconds=S rows_per_s=X".

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "core/clock.h"
#include "core/time.h"
#include "storage/open_store.h"

namespace fleet::tools {
namespace {

struct Args {
  std::string db;
  int servers{10000};
  int days{365};
  int customers{200};
  std::string last_day;  // default: yesterday (UTC)
};

constexpr int kBatchRows = 10000;

std::string ServerName(int index) { return fmt::format("bench-{:05}", index); }

// Deterministic production executions of server `i` on day `d`: 0..999, about 2% failed.
int64_t TotalOf(int i, Day d) {
  uint64_t x = static_cast<uint64_t>(i) * 2654435761u + static_cast<uint64_t>(d.days_since_epoch);
  x ^= x >> 13;
  x *= 0x5bd1e995u;
  x ^= x >> 15;
  return static_cast<int64_t>(x % 1000);
}

// What the collector stores for a past day read from one Insights window (engine.cc), compact:
// about 200 bytes.
std::string RawJson(Day d, int64_t total, int64_t failed, double average_ms) {
  return fmt::format(
      R"({{"windows":[{{"start":"{}","end":"{}","summary":{{"total":{{"value":{}}},)"
      R"("failed":{{"value":{}}},"failureRate":{{"value":{:.4f}}},"timeSaved":{{"value":{}}},)"
      R"("averageRunTime":{{"value":{:.2f}}}}}}}]}})",
      FormatDay(d), FormatDay(d + 1), total, failed,
      total > 0 ? static_cast<double>(failed) / static_cast<double>(total) : 0.0, total / 4,
      average_ms);
}

// Server `i`'s pulled row for day `d`, as the collector would store it.
DailyUsage Figures(const std::string& server, int i, Day d, int64_t now) {
  DailyUsage u;
  u.server = server;
  u.day = FormatDay(d);
  u.total = TotalOf(i, d);
  u.failed = u.total / 50;
  u.failure_rate = u.total > 0 ? static_cast<double>(u.failed) / static_cast<double>(u.total) : 0.0;
  u.time_saved_minutes = static_cast<double>(u.total / 4);
  u.average_run_time_ms = 200.0 + static_cast<double>(u.total % 97) * 7.25;
  u.raw_json = RawJson(d, u.total, u.failed, u.average_run_time_ms);
  u.collected_at = now;
  u.n8n_version = "2.40.7";
  return u;
}

int Run(const Args& a) {
  SystemClock clock;
  const int64_t now = clock.NowUnixSeconds();
  Day last = DayOf(now) - 1;
  if (!a.last_day.empty()) {
    auto parsed = ParseDay(a.last_day);
    if (!parsed) {
      std::cerr << "error: --last-day must be YYYY-MM-DD, not '" << a.last_day << "'\n";
      return 2;
    }
    last = *parsed;
  }
  const Day first = last - (a.days - 1);

  // Not created here: `n8n-fleet db init` writes the master key check the CLI and serve need.
  auto location = storage::ParseDatabaseLocation(a.db);
  if (!location) {
    std::cerr << "error: --db: " << location.error().message << "\n";
    return 2;
  }
  auto store = storage::OpenStore(*location, /*create=*/false);
  if (!store) {
    std::cerr << "error: " << location->Scrub(store.error().message) << "\n";
    return 1;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<Server> servers;
  servers.reserve(static_cast<size_t>(a.servers));
  for (int i = 0; i < a.servers; ++i) {
    Server s;
    s.name = ServerName(i);
    // Loopback, a closed port: a collection started by mistake fails fast and stays local.
    s.url = "http://127.0.0.1:9/" + s.name;
    // Runs of neighbouring servers per customer (customer-000 has the first servers).
    s.customer = fmt::format("customer-{:03}", static_cast<int64_t>(i) * a.customers / a.servers);
    s.description = "seeded for the API benchmark";
    s.tracking_since = FormatDay(first);
    servers.push_back(std::move(s));
  }
  auto upserted = (*store)->UpsertServers(servers, now);
  if (!upserted) {
    std::cerr << "error: " << location->Scrub(upserted.error().message) << "\n";
    return 1;
  }

  // Server-major batches of about kBatchRows rows (a run of servers, every day each): the
  // primary key (server_name, day) then grows at its end and the by-day and by-customer indexes
  // take one run per day, so a batch dirties hundreds of pages instead of one per row. Day-major
  // batches (one day of every server, as the collector writes) make the seeding I/O-bound.
  const int servers_per_batch = std::max(1, kBatchRows / a.days);
  int64_t rows = 0;
  int64_t raw_bytes = 0;
  std::vector<DailyUsage> batch;
  for (int lo = 0; lo < a.servers; lo += servers_per_batch) {
    const int hi = std::min(a.servers, lo + servers_per_batch);
    batch.clear();
    for (int i = lo; i < hi; ++i) {
      for (Day d = first; d <= last; d = d + 1) {
        batch.push_back(Figures(servers[static_cast<size_t>(i)].name, i, d, now));
        raw_bytes += static_cast<int64_t>(batch.back().raw_json.size());
      }
    }
    if (auto stored = (*store)->UpsertDailyUsage(batch); !stored) {
      std::cerr << "error: servers " << lo << "-" << hi - 1 << ": "
                << location->Scrub(stored.error().message) << "\n";
      return 1;
    }
    rows += static_cast<int64_t>(batch.size());
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format(
                   "seeded servers={} rows={} days={}..{} raw_bytes={} seconds={:.1f} "
                   "rows_per_s={:.0f}",
                   a.servers, rows, FormatDay(first), FormatDay(last),
                   rows > 0 ? raw_bytes / rows : 0, seconds, static_cast<double>(rows) / seconds)
            << std::endl;
  return 0;
}

}  // namespace
}  // namespace fleet::tools

int main(int argc, char** argv) {
  fleet::tools::Args a;
  CLI::App app{"Seed servers and daily usage into an n8n-fleet database (bench tool)"};
  app.add_option("--db", a.db,
                 "The database `n8n-fleet db init` created: a SQLite file or a postgresql:// URL")
      ->required();
  app.add_option("--servers", a.servers, "Servers to create (default 10000)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--days", a.days, "Days of usage per server (default 365)")
      ->check(CLI::Range(1, 3660));
  app.add_option("--customers", a.customers, "Customers the servers are spread over (default 200)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--last-day", a.last_day, "The newest day seeded, YYYY-MM-DD (default yesterday)");
  CLI11_PARSE(app, argc, argv);
  return fleet::tools::Run(a);
}
