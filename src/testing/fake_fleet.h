#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/time.h"
#include "testing/n8n_rules.h"

namespace fleet::testing {

// Thousands of fake n8n instances in one process, for benchmarks and the demo: each instance
// listens on its own 127.0.0.1 port (so a collector opens a real TCP connection per instance, as
// with a real fleet), and one thread runs a single epoll loop for all of them. Each instance
// answers like FakeN8n (the shared rules in n8n_rules.h): GET /healthz, GET
// /api/v1/insights/summary with n8n's window rules, the token exchange, and the public API's
// workflow routes as n8n 2.40.7 answers them (tests/real_n8n/WORKFLOWS.md): GET/POST
// /api/v1/workflows (offset cursors, ?limit= capped at 250), GET/PUT/DELETE
// /api/v1/workflows/{id}, POST /api/v1/workflows/{id}/activate|deactivate; each instance starts
// with none and keeps its own in memory. Optionally each Insights, token exchange and workflow
// answer is held back `latency_ms` (a timer queue in the loop: other connections are served
// meanwhile), each Insights request is logged, and a share of Insights requests fail
// (`fault_rate`, reproducibly: see FleetFaultFor). Test-only: never linked into the product.
struct FleetOptions {
  int count{1};
  // 0: ports chosen by the kernel (from the ephemeral range). Otherwise instance i listens on
  // base_port + i: keep the range below 32768, outside the ephemeral range.
  int base_port{0};
  std::optional<Day> today{};  // default: the clock's UTC day; "now" keeps its time of day
  // Days with figures: [start - days_back, today], where start is "today" when the fleet
  // started; without a fixed `today`, days added by the clock get figures too.
  int days_back{7};
  int history_days{365};  // the licence's insights history
  std::string api_key{};  // accepted as X-N8N-API-KEY by every instance ("" = none)
  // N8N_TOKEN_EXCHANGE_TRUSTED_KEYS; empty = the token exchange module is not loaded (404).
  std::vector<rules::TrustedKey> trusted_keys{};
  // Each instance expects its own URL as the subject's audience, as if configured with
  // `n8n-fleet key env --server <itself>` (overrides the keys' expectedAudience).
  bool expect_own_audience{false};
  // Every Insights summary, token exchange and workflow answer is sent this many ms after its
  // request arrived, as from a distant instance; answers on one connection keep their order.
  int latency_ms{0};
  // "" = none. Otherwise one line per Insights summary request, space-separated:
  //   INSTANCE START END ARRIVAL_MS STATUS
  // (instance index; startDate and endDate as decoded from the query, "-" when absent; unix ms
  // when the request was read; the answer's HTTP status). Written through a bounded buffer as
  // requests come (at least once a second while any wait), the rest when the fleet stops.
  std::string request_log{};
  // Time (unix seconds) for the instances' "today", token expiry and the faults' day; not owned,
  // must outlive the fleet. nullptr: the system's time().
  const Clock* clock{nullptr};
  // Share of Insights summary requests (0-1) that fail: answered 500, or the connection closed
  // without an answer, or never answered (the client must time out). Which ones is decided by
  // FleetFaultFor(fault_rate, fault_seed, instance, today, n), n counting that instance's Insights
  // requests since its "today" began, so a run is reproducible. None on or after `faults_until`.
  double fault_rate{0};
  uint64_t fault_seed{1};
  std::optional<Day> faults_until{};
};

struct FleetStats {
  int64_t requests{};           // HTTP requests answered
  int64_t exchanges{};          // access tokens issued
  int64_t exchange_failures{};  // exchanges refused with invalid_grant
  int64_t connections{};        // TCP connections accepted
  int64_t max_connections{};    // most connections open at once
  int64_t workflows{};          // workflows stored now, across the fleet
  // Workflow requests by route, answered or refused:
  int64_t workflow_lists{};        // GET /api/v1/workflows (one per page)
  int64_t workflow_gets{};         // GET /api/v1/workflows/{id}
  int64_t workflow_posts{};        // POST /api/v1/workflows
  int64_t workflow_puts{};         // PUT /api/v1/workflows/{id}
  int64_t workflow_activations{};  // POST /api/v1/workflows/{id}/activate and /deactivate
  int64_t workflow_deletes{};      // DELETE /api/v1/workflows/{id}
  int64_t workflows_created{};     // POSTs that created a workflow
  int64_t workflows_updated{};     // PUTs that saved one (a 400 after saving included, as n8n)
  // Insights requests failed on purpose (fault_rate), in all and by kind:
  int64_t faults{};
  int64_t fault_errors{};  // answered 500
  int64_t fault_closes{};  // connection closed without an answer
  int64_t fault_hangs{};   // never answered
};

// How many workflows bear one name across the fleet.
struct FleetWorkflowName {
  int64_t workflows{};  // workflows of this name
  int64_t instances{};  // instances holding at least one; fewer than `workflows`: duplicates
};

// One instance's figures for one UTC day: total = 50 + (index * 7 + day * 13) % 200 (day counted
// from 1970-01-01), failed = total / 10, 0.5 minutes saved and 120 ms run time per execution.
struct FleetDay {
  int64_t total{};
  int64_t failed{};
  double time_saved_minutes{};
  double total_runtime_ms{};
};
FleetDay FleetDailyFigures(int index, Day day);

// What FleetOptions::fault_rate does to one Insights request: the `attempt`-th (from 0) that
// instance `index` received on `day`. A pure function of its arguments: about `rate` of all
// attempts fault, six in ten of those with a 500, two a close, two a hang.
enum class FleetFault { kNone, kError, kClose, kHang };
FleetFault FleetFaultFor(double rate, uint64_t seed, int index, Day day, int64_t attempt);

class FakeFleet {
 public:
  // Binds every listener (an error names the port that failed) and creates the request log (if
  // any), then starts the loop thread.
  static Result<std::unique_ptr<FakeFleet>> Start(const FleetOptions& options);
  ~FakeFleet();  // stops the loop, joins its thread, closes every socket, writes the log
  FakeFleet(const FakeFleet&) = delete;
  FakeFleet& operator=(const FakeFleet&) = delete;

  int count() const;
  int port(int index) const;
  std::string url(int index) const;  // "http://127.0.0.1:<port>"
  Day today() const;                 // the "today" in force at start
  Day first_day() const;             // first day with figures: today - days_back
  FleetStats Stats() const;
  // Every workflow name stored on some instance, with its counts (from any thread).
  std::map<std::string, FleetWorkflowName> WorkflowNames() const;

 private:
  struct Impl;
  explicit FakeFleet(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit; returns the new soft limit.
int64_t RaiseOpenFileLimit();

}  // namespace fleet::testing
