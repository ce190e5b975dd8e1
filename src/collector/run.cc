#include "collector/run.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "collector/store_sink.h"

namespace fleet::collector {
namespace {

std::string Describe(const CollectionRequest& request, size_t servers, int64_t server_days) {
  std::string text =
      std::to_string(servers) + " servers, " + std::to_string(server_days) + " server-days";
  if (request.backfill) text += " (backfill)";
  if (request.origin != "cli") text += " [" + request.origin + "]";
  return text;
}

}  // namespace

Result<void> ValidateRequest(const CollectionRequest& request, Day today) {
  if (!request.servers.empty() && !request.customer.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "servers cannot be combined with a customer: name one or the other");
  }
  if (!request.days.empty() && request.backfill) {
    return MakeError(ErrorCode::kInvalidArgument, "explicit days cannot be combined with backfill");
  }
  if (request.days.size() > 3661) {
    return MakeError(ErrorCode::kInvalidArgument, "a range of more than ten years is refused");
  }
  for (Day d : request.days) {
    if (d > today) {
      return MakeError(ErrorCode::kInvalidArgument,
                       FormatDay(d) + " has not begun yet (today is " + FormatDay(today) + " UTC)");
    }
  }
  return {};
}

Result<std::vector<Server>> SelectServers(storage::Store& store, const CollectionRequest& request) {
  std::vector<Server> selected;
  if (!request.servers.empty()) {
    std::set<std::string> seen;
    for (const auto& name : request.servers) {
      if (!seen.insert(name).second) continue;
      auto server = store.GetServer(name);
      if (!server) return tl::unexpected(server.error());
      selected.push_back(*server);
    }
    return selected;
  }
  storage::ServerFilter filter{.customer = std::nullopt, .active_only = true};
  if (!request.customer.empty()) filter.customer = request.customer;
  auto servers = store.ListServers(filter);
  if (!servers) return tl::unexpected(servers.error());
  return std::move(*servers);
}

Result<std::vector<ServerJob>> PlanJobs(storage::Store& store, const std::vector<Server>& servers,
                                        const CollectionRequest& request, Day today) {
  std::map<std::string, std::set<std::string>> collected;
  std::set<std::pair<std::string, std::string>> unrecoverable;
  if (request.backfill) {
    Day oldest = today;
    for (const auto& s : servers)
      oldest = std::min(oldest, ParseDay(s.tracking_since).value_or(today));
    auto days = store.CollectedDays(FormatDay(oldest));
    if (!days) return tl::unexpected(days.error());
    collected = std::move(*days);
    auto lost = store.ListUnrecoverable(FormatDay(oldest));
    if (!lost) return tl::unexpected(lost.error());
    for (const auto& u : *lost) unrecoverable.emplace(u.server, u.day);
  }
  std::vector<ServerJob> jobs;
  for (const auto& server : servers) {
    ServerJob job{server, request.days};
    if (request.days.empty()) {
      Day since = ParseDay(server.tracking_since).value_or(today - 1);
      if (request.backfill) {
        std::set<Day> have, lost;
        for (const auto& d : collected[server.name]) have.insert(*ParseDay(d));
        for (const auto& [name, d] : unrecoverable) {
          if (name == server.name) lost.insert(*ParseDay(d));
        }
        job.days = DaysDue(since, today - 1, have, lost, 2);
      } else {
        for (Day d = std::max(since, today - 2); d <= today - 1; d = d + 1) job.days.push_back(d);
      }
    }
    if (!job.days.empty()) jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<std::vector<Gap>> FindGaps(storage::Store& store, Day from, Day to,
                                  bool with_unrecoverable) {
  auto servers = store.ListServers({.customer = std::nullopt, .active_only = true});
  if (!servers) return tl::unexpected(servers.error());
  auto collected = store.CollectedDays(FormatDay(from));
  if (!collected) return tl::unexpected(collected.error());
  auto lost = store.ListUnrecoverable(FormatDay(from));
  if (!lost) return tl::unexpected(lost.error());
  std::map<std::pair<std::string, std::string>, std::string> reasons;
  for (const auto& u : *lost) reasons[{u.server, u.day}] = u.reason;
  std::vector<Gap> gaps;
  for (const auto& s : *servers) {
    Day since = std::max(from, ParseDay(s.tracking_since).value_or(from));
    const auto& have = (*collected)[s.name];
    for (Day d = since; d <= to; d = d + 1) {
      std::string day = FormatDay(d);
      if (have.count(day)) continue;
      auto reason = reasons.find({s.name, day});
      if (reason != reasons.end() && !with_unrecoverable) continue;
      gaps.push_back({s.name, s.customer, d, reason == reasons.end() ? "" : reason->second});
    }
  }
  return gaps;
}

Result<PreparedRun> PrepareRun(storage::Store& store, const CollectionRequest& request,
                               int64_t now) {
  Day today = DayOf(now);
  if (auto ok = ValidateRequest(request, today); !ok) return tl::unexpected(ok.error());
  auto servers = SelectServers(store, request);
  if (!servers) return tl::unexpected(servers.error());
  auto jobs = PlanJobs(store, *servers, request, today);
  if (!jobs) return tl::unexpected(jobs.error());

  // Runs left "running" were interrupted (the caller holds the lock: nobody else is collecting).
  if (auto runs = store.ListRuns(1000)) {
    for (auto run : *runs) {
      if (run.status != RunStatus::kRunning) continue;
      run.status = RunStatus::kInterrupted;
      (void)store.FinishRun(run);
    }
  }
  PreparedRun prepared;
  for (const auto& job : *jobs) prepared.server_days += static_cast<int64_t>(job.days.size());
  prepared.run.started_at = now;
  prepared.run.description = Describe(request, jobs->size(), prepared.server_days);
  auto id = store.CreateRun(prepared.run);
  if (!id) return tl::unexpected(id.error());
  prepared.run.id = *id;
  prepared.jobs = std::move(*jobs);
  return prepared;
}

Result<RunReport> ExecuteRun(PreparedRun prepared, storage::Store& store,
                             registry::Authenticator& auth, n8n::HttpTransport& transport,
                             const Clock& clock, const RunOptions& options) {
  RunReport report;
  report.run = prepared.run;
  CollectionRun& run = report.run;

  // Keeps the attempts that failed (for retries) on their way to the store.
  class Recorder final : public ResultSink {
   public:
    Recorder(ResultSink& inner, RunReport& report, const RunOptions& options)
        : inner_(inner), report_(report), options_(options) {}
    void Accept(ServerOutcome outcome) override {
      for (const auto& day : outcome.days) {
        if (options_.on_attempt) options_.on_attempt(day.attempt);
        if (day.attempt.outcome != "ok" && !day.unrecoverable) {
          report_.failures.push_back(day.attempt);
        }
      }
      inner_.Accept(std::move(outcome));
    }

   private:
    ResultSink& inner_;
    RunReport& report_;
    const RunOptions& options_;
  };
  StoreSink sink(store, run.id);
  Recorder recorder(sink, report, options);
  EngineOptions engine_options = options.engine;
  if (options.stop) {
    const std::atomic<bool>* stop = options.stop;
    auto outer = engine_options.stop;
    engine_options.stop = [stop, outer] { return stop->load() || (outer && outer()); };
  }
  Engine engine(transport, auth, clock, engine_options);
  report.stats = engine.Run(prepared.jobs, recorder);
  sink.Flush();

  run.finished_at = clock.NowUnixSeconds();
  run.servers_attempted = static_cast<int64_t>(prepared.jobs.size());
  run.servers_succeeded = report.stats.servers_ok;
  run.servers_failed = report.stats.servers_failed;
  run.days_stored = sink.days_stored();
  report.days_stored = sink.days_stored();
  report.days_failed = sink.days_failed();
  report.days_unrecoverable = sink.days_unrecoverable();
  bool wrote = !sink.write_error().has_value();
  bool stopped = options.stop && options.stop->load();
  if (!wrote || (report.stats.servers_ok == 0 && report.stats.servers_failed > 0 && !stopped)) {
    run.status = RunStatus::kFailed;
  } else if (stopped) {
    run.status = RunStatus::kInterrupted;
  } else if (report.stats.servers_failed > 0) {
    run.status = RunStatus::kPartial;
  } else {
    run.status = RunStatus::kSucceeded;
  }
  if (auto ok = store.FinishRun(run); !ok) return tl::unexpected(ok.error());
  if (!wrote) return tl::unexpected(WithContext(*sink.write_error(), "storing the figures"));
  return report;
}

Result<CollectLock> CollectLock::Acquire(const std::string& database_path,
                                         const std::string& purpose) {
  std::string path = database_path + "." + purpose + ".lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return MakeError(ErrorCode::kIo, "cannot open the lock file " + path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    std::string what = purpose == "serve" ? "another `n8n-fleet serve` is running"
                                          : "another collection is running";
    return MakeError(ErrorCode::kFailedPrecondition,
                     what + " on this database (lock " + path + "); wait for it to finish");
  }
  return CollectLock(fd);
}

CollectLock& CollectLock::operator=(CollectLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    other.fd_ = -1;
  }
  return *this;
}

CollectLock::~CollectLock() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace fleet::collector
