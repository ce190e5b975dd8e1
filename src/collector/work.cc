#include "collector/work.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "collector/store_sink.h"

namespace fleet::collector {
namespace {

// Passes attempts to `on_attempt` on their way to the store, with their run's id.
class AttemptTap final : public ResultSink {
 public:
  AttemptTap(ResultSink& inner, const std::function<void(const FetchAttempt&)>& on_attempt,
             int64_t run_id)
      : inner_(inner), on_attempt_(on_attempt), run_id_(run_id) {}
  void Accept(ServerOutcome outcome) override {
    if (on_attempt_) {
      for (auto& day : outcome.days) {
        day.attempt.run_id = run_id_;
        on_attempt_(day.attempt);
      }
    }
    inner_.Accept(std::move(outcome));
  }

 private:
  ResultSink& inner_;
  const std::function<void(const FetchAttempt&)>& on_attempt_;
  int64_t run_id_;
};

bool Stopped(const WorkOptions& options) { return options.stop && options.stop->load(); }

// Collects one run's claimed servers; renews the leases as servers finish.
Result<void> CollectClaims(storage::Store& store, registry::Authenticator& auth,
                           n8n::HttpTransport& transport, const Clock& clock,
                           const WorkOptions& options, int64_t run_id,
                           const std::vector<ServerJob>& jobs, WorkReport& report) {
  // Small batches: what a crashed collector fetched but had not stored is fetched again.
  StoreSink sink(store, run_id, 16, options.owner);
  AttemptTap tap(sink, options.on_attempt, run_id);
  EngineOptions engine_options = options.engine;
  int64_t renewed_at = clock.NowUnixSeconds();
  auto progress = engine_options.progress;
  engine_options.progress = [&](int64_t done, int64_t failed) {
    int64_t now = clock.NowUnixSeconds();
    if (now - renewed_at >= std::max<int64_t>(options.lease_seconds / 3, 1)) {
      (void)store.RenewWork(options.owner, now, options.lease_seconds);
      renewed_at = now;
    }
    if (progress) progress(done, failed);
  };
  if (options.stop) {
    const std::atomic<bool>* stop = options.stop;
    auto outer = engine_options.stop;
    engine_options.stop = [stop, outer] { return stop->load() || (outer && outer()); };
  }
  Engine engine(transport, auth, clock, engine_options);
  EngineStats stats = engine.Run(jobs, tap);
  sink.Flush();
  report.stats.servers_ok += stats.servers_ok;
  report.stats.servers_failed += stats.servers_failed;
  report.stats.requests += stats.requests;
  report.stats.passes = std::max(report.stats.passes, stats.passes);
  report.stats.servers_not_started += stats.servers_not_started;
  report.days_stored += sink.days_stored();
  report.days_failed += sink.days_failed();
  report.days_unrecoverable += sink.days_unrecoverable();
  report.lost_leases += sink.lost_leases();
  if (sink.write_error()) return tl::unexpected(*sink.write_error());
  return {};
}

}  // namespace

std::string NewWorkerId() {
  char host[256] = {};
  if (::gethostname(host, sizeof(host) - 1) != 0) std::snprintf(host, sizeof(host), "host");
  std::random_device random;
  char suffix[16];
  std::snprintf(suffix, sizeof(suffix), "%08x", static_cast<unsigned>(random()));
  return std::string(host) + ":" + std::to_string(::getpid()) + ":" + suffix;
}

void Accumulate(WorkReport& total, const WorkReport& more) {
  total.stats.servers_ok += more.stats.servers_ok;
  total.stats.servers_failed += more.stats.servers_failed;
  total.stats.requests += more.stats.requests;
  total.stats.passes = std::max(total.stats.passes, more.stats.passes);
  total.stats.servers_not_started += more.stats.servers_not_started;
  total.claims += more.claims;
  total.lost_leases += more.lost_leases;
  total.days_stored += more.days_stored;
  total.days_failed += more.days_failed;
  total.days_unrecoverable += more.days_unrecoverable;
  std::set<int64_t> runs(total.runs.begin(), total.runs.end());
  runs.insert(more.runs.begin(), more.runs.end());
  total.runs.assign(runs.begin(), runs.end());
}

Result<WorkReport> DrainWork(storage::Store& store, registry::Authenticator& auth,
                             n8n::HttpTransport& transport, const Clock& clock,
                             const WorkOptions& options) {
  WorkReport report;
  std::set<int64_t> runs;
  const int claim = options.claim_servers > 0 ? options.claim_servers
                                              : std::max(2 * options.engine.concurrency, 1);
  Result<void> outcome;
  while (!Stopped(options)) {
    auto claims = store.ClaimWork({.owner = options.owner,
                                   .run_id = options.run_id,
                                   .now = clock.NowUnixSeconds(),
                                   .lease_seconds = options.lease_seconds,
                                   .max_servers = claim});
    if (!claims) {
      outcome = tl::unexpected(claims.error());
      break;
    }
    if (claims->empty()) break;
    report.claims += static_cast<int64_t>(claims->size());
    // Claims come ordered by run: one engine pass per run, so each sink knows its run.
    std::map<int64_t, std::vector<ServerJob>> by_run;
    for (auto& c : *claims) {
      ServerJob job{std::move(c.server), {}};
      for (const auto& d : c.days) {
        if (auto day = ParseDay(d)) job.days.push_back(*day);
      }
      by_run[c.run_id].push_back(std::move(job));
    }
    for (const auto& [run_id, jobs] : by_run) {
      runs.insert(run_id);
      outcome = CollectClaims(store, auth, transport, clock, options, run_id, jobs, report);
      if (!outcome || Stopped(options)) break;
    }
    if (!outcome) break;
  }
  // Servers not collected (stopped, or a write failed) go back to the queue at once.
  (void)store.ReleaseWork(options.owner);
  report.runs.assign(runs.begin(), runs.end());
  if (!outcome) return tl::unexpected(WithContext(outcome.error(), "storing the figures"));
  return report;
}

Result<std::vector<FetchAttempt>> RunFailures(storage::Store& store, int64_t run_id) {
  auto attempts = store.ListAttempts(run_id);
  if (!attempts) return tl::unexpected(attempts.error());
  std::map<std::pair<std::string, std::string>, const FetchAttempt*> last;
  for (const auto& a : *attempts) last[{a.server, a.day}] = &a;  // recorded in order
  std::vector<FetchAttempt> failures;
  for (const auto& [key, a] : last) {
    if (a->outcome != "ok" && a->outcome != "beyond_history") failures.push_back(*a);
  }
  return failures;
}

}  // namespace fleet::collector
