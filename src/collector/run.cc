#include "collector/run.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "collector/store_sink.h"
#include "collector/work.h"

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

namespace {

// Ends a run left running: its unclaimed servers are cancelled and it is closed as interrupted
// (servers another collector still holds finish under their lease; the run stays interrupted).
Result<void> Interrupt(storage::Store& store, CollectionRun run, int64_t now) {
  if (auto cancelled = store.CancelWork(run.id, now); !cancelled) {
    return tl::unexpected(cancelled.error());
  }
  auto closed = store.CloseRunIfDone(run.id, now);
  if (!closed) return tl::unexpected(closed.error());
  if (*closed) return {};
  run.status = RunStatus::kInterrupted;
  run.finished_at = now;
  return store.FinishRun(run);
}

std::vector<storage::WorkItem> ItemsOf(const std::vector<ServerJob>& jobs) {
  std::vector<storage::WorkItem> items;
  for (const auto& job : jobs) {
    for (Day d : job.days) items.push_back({job.server.name, FormatDay(d)});
  }
  return items;
}

}  // namespace

Result<PreparedRun> PrepareRun(storage::Store& store, const CollectionRequest& request, int64_t now,
                               const PrepareOptions& prepare) {
  Day today = DayOf(now);
  if (auto ok = ValidateRequest(request, today); !ok) return tl::unexpected(ok.error());
  auto servers = SelectServers(store, request);
  if (!servers) return tl::unexpected(servers.error());
  auto jobs = PlanJobs(store, *servers, request, today);
  if (!jobs) return tl::unexpected(jobs.error());

  PreparedRun prepared;
  for (const auto& job : *jobs) prepared.server_days += static_cast<int64_t>(job.days.size());
  prepared.run.started_at = now;
  prepared.run.description = Describe(request, jobs->size(), prepared.server_days);
  auto created = store.Transaction([&]() -> Result<void> {
    // Writing this row first makes concurrent creators (other processes) take turns: each then
    // sees the runs the others created.
    if (auto ok = store.SetMeta("run_created_at", std::to_string(now)); !ok) return ok;
    auto id = store.CreateRun(prepared.run);
    if (!id) return tl::unexpected(id.error());
    prepared.run.id = *id;
    if (!request.slot.empty()) {  // first: a taken slot is not "busy", it is done
      auto taken = store.ClaimSlot(request.slot, *id, now);
      if (!taken) return tl::unexpected(taken.error());
      if (!*taken) {
        return MakeError(ErrorCode::kAlreadyExists,
                         "the run for " + request.slot + " was already started");
      }
    }
    auto runs = store.ListRuns(100);
    if (!runs) return tl::unexpected(runs.error());
    for (const auto& run : *runs) {
      if (run.status != RunStatus::kRunning || run.id == *id) continue;
      if (!prepare.exclusive) {
        auto progress = store.GetWorkProgress(run.id, now);
        if (!progress) return tl::unexpected(progress.error());
        if (progress->servers_leased > 0 || run.started_at > now - prepare.lease_seconds) {
          std::string detail =
              progress->servers_leased > 0
                  ? std::to_string(progress->servers_leased) +
                        " servers leased by collectors; a collector that died gives its servers "
                        "up when its lease expires (lease_seconds)"
                  : "started " + FormatTimestamp(run.started_at) + ", waiting to be claimed";
          return MakeError(ErrorCode::kFailedPrecondition,
                           "collection run " + std::to_string(run.id) + " is in progress (" +
                               detail + "); try again when it has finished");
        }
      }
      if (auto ok = Interrupt(store, run, now); !ok) return ok;
    }
    return store.EnqueueWork(*id, ItemsOf(*jobs));
  });
  if (!created) return tl::unexpected(created.error());
  prepared.jobs = std::move(*jobs);
  return prepared;
}

Result<RunReport> ExecuteRun(PreparedRun prepared, storage::Store& store,
                             registry::Authenticator& auth, n8n::HttpTransport& transport,
                             const Clock& clock, const RunOptions& options) {
  const int64_t id = prepared.run.id;
  WorkOptions work;
  work.owner = options.owner.empty() ? NewWorkerId() : options.owner;
  work.run_id = id;
  work.lease_seconds = options.lease_seconds;
  work.claim_servers = options.claim_servers;
  work.engine = options.engine;
  work.stop = options.stop;
  work.on_attempt = options.on_attempt;
  auto stopped = [&] { return options.stop && options.stop->load(); };

  WorkReport done;
  std::optional<Error> write_error;
  std::optional<CollectionRun> closed;
  while (true) {
    auto drained = DrainWork(store, auth, transport, clock, work);
    if (!drained) {
      write_error = drained.error();
      break;
    }
    Accumulate(done, *drained);
    if (stopped()) break;
    auto close = store.CloseRunIfDone(id, clock.NowUnixSeconds());
    if (!close) return tl::unexpected(close.error());
    if (*close) {
      closed = std::move(*close);
      break;
    }
    auto run = store.GetRun(id);
    if (!run) return tl::unexpected(run.error());
    if (run->status != RunStatus::kRunning) break;  // another collector closed it
    // Other collectors hold some of its servers: wait for them (or for their leases to expire).
    auto until = std::chrono::steady_clock::now() + options.poll;
    while (std::chrono::steady_clock::now() < until && !stopped()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  int64_t now = clock.NowUnixSeconds();
  if (!closed && (stopped() || write_error)) {
    auto run = store.GetRun(id);
    if (!run) return tl::unexpected(run.error());
    if (run->status == RunStatus::kRunning) {
      if (auto ok = Interrupt(store, *run, now); !ok) return tl::unexpected(ok.error());
    }
    if (write_error) {
      auto failed = store.GetRun(id);
      if (failed) {
        failed->status = RunStatus::kFailed;
        (void)store.FinishRun(*failed);
      }
      return tl::unexpected(WithContext(*write_error, "run " + std::to_string(id)));
    }
  }
  RunReport report;
  auto run = store.GetRun(id);
  if (!run) return tl::unexpected(run.error());
  report.run = *run;
  report.stats = done.stats;
  report.days_stored = done.days_stored;
  report.days_failed = done.days_failed;
  report.days_unrecoverable = done.days_unrecoverable;
  if (stopped()) {
    // Servers never started: those this process left (in a claim) and those nobody claimed.
    auto progress = store.GetWorkProgress(id, now);
    if (!progress) return tl::unexpected(progress.error());
    report.stats.servers_not_started = progress->servers_cancelled;
  }
  auto failures = RunFailures(store, id);
  if (!failures) return tl::unexpected(failures.error());
  report.failures = std::move(*failures);
  return report;
}

Result<CollectLock> CollectLock::Acquire(const std::string& database_path,
                                         const std::string& purpose) {
  if (database_path.rfind("postgresql://", 0) == 0 || database_path.rfind("postgres://", 0) == 0) {
    return CollectLock(-1);  // collectors share a PostgreSQL database through leases
  }
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
