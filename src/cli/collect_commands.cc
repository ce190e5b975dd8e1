// `n8n-fleet collect` and `n8n-fleet runs ...`: pulling the fleet's daily Insights figures.
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <set>

#include "cli/commands.h"
#include "cli/progress.h"
#include "collector/engine.h"
#include "collector/store_sink.h"
#include "core/time.h"
#include "registry/authenticator.h"

namespace fleet::cli {
namespace {

struct CollectArgs {
  std::string day, from, to, customer;
  std::vector<std::string> servers;
  bool all{false}, backfill{false}, json{false};
  int concurrency{64};
  int timeout_seconds{30};
  int64_t run_id{};
  int limit{20};
};

// One collection at a time per home: a second `collect` (or a service) would fetch twice.
class CollectLock {
 public:
  static Result<CollectLock> Acquire(const std::string& home) {
    std::string path = home + "/collect.lock";
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return MakeError(ErrorCode::kIo, "cannot open " + path);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      ::close(fd);
      return MakeError(ErrorCode::kFailedPrecondition,
                       "another collection is running on this database (lock " + path +
                           "); wait for it to finish");
    }
    return CollectLock(fd);
  }
  CollectLock(CollectLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  CollectLock(const CollectLock&) = delete;
  ~CollectLock() {
    if (fd_ >= 0) ::close(fd_);
  }

 private:
  explicit CollectLock(int fd) : fd_(fd) {}
  int fd_;
};

// YYYY-MM-DD, "today" (partial: the live day) or "yesterday".
Result<Day> DayArg(const std::string& text, const char* option, Day today) {
  if (text == "today") return today;
  if (text == "yesterday") return today - 1;
  auto day = ParseDay(text);
  if (!day) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(option) + " must be a YYYY-MM-DD date, not '" + text + "'");
  }
  return *day;
}

// The servers a run covers: --server names (which must exist), else every active server,
// optionally of one customer.
Result<std::vector<Server>> SelectServers(storage::Store& store, const CollectArgs& a) {
  std::vector<Server> selected;
  if (!a.servers.empty()) {
    for (const auto& name : a.servers) {
      auto server = store.GetServer(name);
      if (!server) return tl::unexpected(server.error());
      selected.push_back(*server);
    }
    return selected;
  }
  storage::ServerFilter filter{.customer = std::nullopt, .active_only = true};
  if (!a.customer.empty()) filter.customer = a.customer;
  auto servers = store.ListServers(filter);
  if (!servers) return tl::unexpected(servers.error());
  return std::move(*servers);
}

// Explicit days (--day, --from/--to), or the default: the last two finished days (yesterday is
// not final until the instance's compaction ran), or with --backfill every missing day too.
Result<std::vector<collector::ServerJob>> PlanJobs(storage::Store& store,
                                                   const std::vector<Server>& servers,
                                                   const CollectArgs& a, Day today) {
  std::vector<Day> explicit_days;
  auto resolve = [&](const std::string& text, const char* option) {
    return DayArg(text, option, today);
  };
  if (!a.day.empty()) {
    auto day = resolve(a.day, "--day");
    if (!day) return tl::unexpected(day.error());
    explicit_days.push_back(*day);
  } else if (!a.from.empty() || !a.to.empty()) {
    auto from = resolve(a.from.empty() ? a.to : a.from, "--from");
    if (!from) return tl::unexpected(from.error());
    auto to = resolve(a.to.empty() ? "yesterday" : a.to, "--to");
    if (!to) return tl::unexpected(to.error());
    if (*to < *from) return MakeError(ErrorCode::kInvalidArgument, "--to is before --from");
    if (*to - *from > 3660) {
      return MakeError(ErrorCode::kInvalidArgument, "a range of more than ten years is refused");
    }
    for (Day d = *from; d <= *to; d = d + 1) explicit_days.push_back(d);
  }
  for (Day d : explicit_days) {
    if (d > today) {
      return MakeError(ErrorCode::kInvalidArgument,
                       FormatDay(d) + " has not begun yet (today is " + FormatDay(today) + " UTC)");
    }
  }
  std::map<std::string, std::set<std::string>> collected;
  std::set<std::pair<std::string, std::string>> unrecoverable;
  if (a.backfill) {
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
  std::vector<collector::ServerJob> jobs;
  for (const auto& server : servers) {
    collector::ServerJob job{server, explicit_days};
    if (explicit_days.empty()) {
      Day since = ParseDay(server.tracking_since).value_or(today - 1);
      std::set<Day> have, lost;
      for (const auto& d : collected[server.name]) have.insert(*ParseDay(d));
      for (const auto& [name, d] : unrecoverable) {
        if (name == server.name) lost.insert(*ParseDay(d));
      }
      if (a.backfill) {
        job.days = collector::DaysDue(since, today - 1, have, lost, 2);
      } else {
        for (Day d = std::max(since, today - 2); d <= today - 1; d = d + 1) job.days.push_back(d);
      }
    }
    if (!job.days.empty()) jobs.push_back(std::move(job));
  }
  return jobs;
}

Result<int> Collect(Context& ctx, const CollectArgs& a) {
  if (!a.servers.empty() && (!a.customer.empty() || a.all)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--server cannot be combined with --customer/--all");
  }
  if (!a.day.empty() && (!a.from.empty() || !a.to.empty() || a.backfill)) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--day cannot be combined with --from/--to/--backfill");
  }
  if (a.concurrency < 1 || a.concurrency > 4096) {
    return MakeError(ErrorCode::kInvalidArgument, "--concurrency must be 1-4096");
  }
  auto registry = ctx.OpenRegistry();
  if (!registry) return tl::unexpected(registry.error());
  auto lock = CollectLock::Acquire(ctx.home());
  if (!lock) return tl::unexpected(lock.error());
  auto& store = (*registry)->store();
  int64_t now = ctx.clock().NowUnixSeconds();
  Day today = DayOf(now);
  auto servers = SelectServers(store, a);
  if (!servers) return tl::unexpected(servers.error());
  auto jobs = PlanJobs(store, *servers, a, today);
  if (!jobs) return tl::unexpected(jobs.error());

  // Runs left "running" were interrupted (we hold the lock: nobody else is collecting).
  if (auto runs = store.ListRuns(1000)) {
    for (auto run : *runs) {
      if (run.status != RunStatus::kRunning) continue;
      run.status = RunStatus::kInterrupted;
      (void)store.FinishRun(run);
    }
  }
  CollectionRun run;
  run.started_at = now;
  int64_t day_count = 0;
  for (const auto& job : *jobs) day_count += static_cast<int64_t>(job.days.size());
  run.description = std::to_string(jobs->size()) + " servers, " + std::to_string(day_count) +
                    " server-days" + (a.backfill ? " (backfill)" : "");
  auto run_id = store.CreateRun(run);
  if (!run_id) return tl::unexpected(run_id.error());
  run.id = *run_id;

  registry::Authenticator auth(**registry, ctx.clock());
  collector::StoreSink sink(store, run.id);
  ProgressBar progress("collect", static_cast<int64_t>(jobs->size()), !a.json);
  collector::EngineOptions options;
  options.concurrency = a.concurrency;
  options.request_timeout = std::chrono::seconds(a.timeout_seconds);
  options.progress = [&](int64_t done, int64_t failed) { progress.Update(done, failed); };
  collector::Engine engine(ctx.transport(), auth, ctx.clock(), options);
  auto stats = engine.Run(*jobs, sink);
  sink.Flush();
  progress.Finish();

  run.finished_at = ctx.clock().NowUnixSeconds();
  run.servers_attempted = static_cast<int64_t>(jobs->size());
  run.servers_succeeded = stats.servers_ok;
  run.servers_failed = stats.servers_failed;
  run.days_stored = sink.days_stored();
  bool wrote = !sink.write_error().has_value();
  run.status = !wrote || (stats.servers_ok == 0 && stats.servers_failed > 0) ? RunStatus::kFailed
               : stats.servers_failed > 0                                    ? RunStatus::kPartial
                                          : RunStatus::kSucceeded;
  if (auto ok = store.FinishRun(run); !ok) return tl::unexpected(ok.error());
  if (!wrote) return tl::unexpected(WithContext(*sink.write_error(), "storing the figures"));

  if (a.json) {
    ctx.out().Json({{"run", run.id},
                    {"status", RunStatusName(run.status)},
                    {"servers", run.servers_attempted},
                    {"succeeded", run.servers_succeeded},
                    {"failed", run.servers_failed},
                    {"days_stored", sink.days_stored()},
                    {"days_failed", sink.days_failed()},
                    {"days_unrecoverable", sink.days_unrecoverable()},
                    {"requests", stats.requests}});
  } else {
    std::string summary = "Run " + std::to_string(run.id) + ": " +
                          std::to_string(run.servers_succeeded) + "/" +
                          std::to_string(run.servers_attempted) + " servers, " +
                          std::to_string(sink.days_stored()) + " days stored";
    if (sink.days_unrecoverable()) {
      summary +=
          ", " + std::to_string(sink.days_unrecoverable()) + " beyond the instances' history";
    }
    if (run.servers_failed) {
      ctx.out().Warn(summary + ", " + std::to_string(run.servers_failed) +
                     " servers failed: see `n8n-fleet runs show " + std::to_string(run.id) + "`");
    } else {
      ctx.out().Success(summary);
    }
  }
  if (run.status == RunStatus::kSucceeded) return kExitOk;
  return run.status == RunStatus::kPartial ? kExitPartial : kExitNothing;
}

nlohmann::json RunJson(const CollectionRun& run) {
  return {{"id", run.id},
          {"status", RunStatusName(run.status)},
          {"started_at", FormatTimestamp(run.started_at)},
          {"finished_at", run.finished_at ? nlohmann::json(FormatTimestamp(*run.finished_at))
                                          : nlohmann::json(nullptr)},
          {"description", run.description},
          {"servers_attempted", run.servers_attempted},
          {"servers_succeeded", run.servers_succeeded},
          {"servers_failed", run.servers_failed},
          {"days_stored", run.days_stored}};
}

Result<int> RunsList(Context& ctx, const CollectArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto runs = (*store)->ListRuns(a.limit);
  if (!runs) return tl::unexpected(runs.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : *runs) list.push_back(RunJson(r));
    ctx.out().Json(list);
    return kExitOk;
  }
  if (runs->empty()) {
    ctx.out().Info("No collection runs yet: `n8n-fleet collect`");
    return kExitOk;
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& r : *runs) {
    rows.push_back({std::to_string(r.id), std::string(RunStatusName(r.status)),
                    FormatTime(r.started_at), FormatTime(r.finished_at),
                    std::to_string(r.servers_succeeded) + "/" + std::to_string(r.servers_attempted),
                    std::to_string(r.servers_failed), std::to_string(r.days_stored)});
  }
  ctx.out().Table({"Run", "Status", "Started", "Finished", "Servers ok", "Failed", "Days stored"},
                  rows);
  return kExitOk;
}

Result<int> RunsShow(Context& ctx, const CollectArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto run = (*store)->GetRun(a.run_id);
  if (!run) return tl::unexpected(run.error());
  auto attempts = (*store)->ListAttempts(a.run_id);
  if (!attempts) return tl::unexpected(attempts.error());
  if (a.json) {
    auto json = RunJson(*run);
    json["attempts"] = nlohmann::json::array();
    for (const auto& t : *attempts) {
      json["attempts"].push_back({{"server", t.server},
                                  {"day", t.day},
                                  {"outcome", t.outcome},
                                  {"http_status", t.http_status},
                                  {"duration_ms", t.duration_ms},
                                  {"message", t.message}});
    }
    ctx.out().Json(json);
    return kExitOk;
  }
  ctx.out().Line("Run " + std::to_string(run->id) + " (" + std::string(RunStatusName(run->status)) +
                 "): " + run->description + ", started " + FormatTime(run->started_at));
  std::vector<std::vector<std::string>> rows;
  for (const auto& t : *attempts) {
    rows.push_back({t.server, t.day, t.outcome, t.http_status ? std::to_string(t.http_status) : "-",
                    std::to_string(t.duration_ms) + " ms", t.message});
  }
  ctx.out().Table({"Server", "Day", "Outcome", "HTTP", "Took", "Message"}, rows);
  return kExitOk;
}

}  // namespace

void AddCollectCommands(CLI::App& app, Context& ctx, Action& action) {
  auto a = std::make_shared<CollectArgs>();
  auto* collect = app.add_subcommand("collect", "Pull the daily Insights figures of the fleet");
  collect->add_option("--day", a->day, "One day: YYYY-MM-DD, yesterday or today (partial)");
  collect->add_option("--from", a->from, "First day of a range");
  collect->add_option("--to", a->to, "Last day of a range (default yesterday)");
  collect->add_option("--server,-s", a->servers, "Only these servers (repeatable)");
  collect->add_option("--customer", a->customer, "Only this customer's servers");
  collect->add_flag("--all", a->all, "Every active server (the default)");
  collect->add_flag("--backfill", a->backfill, "Also every missing day since tracking began");
  collect->add_option("--concurrency", a->concurrency, "Requests in flight at most (default 64)");
  collect->add_option("--timeout", a->timeout_seconds, "Seconds per request (default 30)");
  collect->add_flag("--json", a->json, "JSON output (no progress bar)");
  collect->callback([&action, &ctx, a] { action = [&ctx, a] { return Collect(ctx, *a); }; });

  auto* runs = app.add_subcommand("runs", "Collection runs and their attempts");
  runs->require_subcommand(1);
  auto* list = runs->add_subcommand("list", "Recent runs, newest first");
  list->add_option("--limit", a->limit, "How many (default 20)");
  list->add_flag("--json", a->json, "JSON output");
  list->callback([&action, &ctx, a] { action = [&ctx, a] { return RunsList(ctx, *a); }; });
  auto* show = runs->add_subcommand("show", "One run with every (server, day) attempt");
  show->add_option("id", a->run_id)->required();
  show->add_flag("--json", a->json, "JSON output");
  show->callback([&action, &ctx, a] { action = [&ctx, a] { return RunsShow(ctx, *a); }; });
}

}  // namespace fleet::cli
