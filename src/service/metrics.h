#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "core/error.h"
#include "core/time.h"
#include "core/types.h"
#include "storage/store.h"

namespace fleet::service {

// A Prometheus histogram with fixed bucket bounds (seconds).
struct Histogram {
  static constexpr std::array<double, 10> kBounds{0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
  std::array<int64_t, kBounds.size()> buckets{};  // per bound, not cumulative
  int64_t count{};
  double sum{};
  void Observe(double seconds);
};

// The service's counters, written in the Prometheus text format (by hand: no client library is
// packaged). Thread-safe: the runner records fetches and runs, the HTTP server its requests.
// Gauges that come from the database (last collection per server, servers with gaps) are read
// when scraped.
class Metrics {
 public:
  // How long the gaps gauge is cached: finding gaps reads the whole recent history.
  static constexpr int64_t kGapsCacheSeconds = 60;
  static constexpr int64_t kGapsWindowDays = 30;

  void RecordAttempt(const FetchAttempt& attempt);  // per outcome, latency from duration_ms
  void RecordRun(const CollectionRun& run);         // per final status
  void AddTokenExchanges(int64_t count);
  // Work-queue claims of this service and the servers it finished after another service had
  // claimed them again (its lease had expired: a stall, or a lease too short).
  void AddWork(int64_t claims, int64_t lost_leases);
  // `route` is the matched pattern ("/api/v1/servers/{name}"), never the raw path.
  void RecordRequest(std::string_view route, int status, std::chrono::microseconds elapsed);

  // The exposition text: counters above plus the gauges read from `store` at `now`.
  Result<std::string> Render(storage::Store& store, int64_t now);

 private:
  Result<std::pair<int64_t, int64_t>> GapGauges(storage::Store& store, int64_t now);

  std::mutex mu_;
  std::map<std::string, int64_t> attempts_by_outcome_;
  Histogram fetch_latency_;
  std::map<std::string, int64_t> runs_by_status_;
  int64_t token_exchanges_{0};
  int64_t work_claims_{0};
  int64_t work_lost_leases_{0};
  std::map<std::pair<std::string, int>, int64_t> requests_;  // (route, status) -> count
  std::map<std::string, Histogram> request_latency_;         // by route
  // Cached gap gauges: (servers with gaps, gap days), computed at `gaps_at_`.
  std::optional<std::pair<int64_t, int64_t>> gaps_{};
  int64_t gaps_at_{0};
};

// `value` escaped for a label value: backslash, double quote and newline.
std::string EscapeLabel(std::string_view value);

}  // namespace fleet::service
