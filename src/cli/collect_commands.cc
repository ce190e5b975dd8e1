// `n8n-fleet collect` and `n8n-fleet runs ...`: pulling the fleet's daily Insights figures.
#include <signal.h>

#include <atomic>

#include "cli/commands.h"
#include "cli/progress.h"
#include "collector/run.h"
#include "core/time.h"
#include "registry/authenticator.h"
#include "service/views.h"

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

// Ctrl-C (or SIGTERM) during `collect`: the first stops starting servers, lets those in flight
// finish and stores what arrived; a second one kills the process (the handler resets itself).
std::atomic<bool> g_interrupted{false};

extern "C" void OnInterrupt(int) { g_interrupted.store(true); }

class InterruptGuard {
 public:
  InterruptGuard() {
    struct sigaction action {};
    action.sa_handler = OnInterrupt;
    action.sa_flags = SA_RESETHAND;
    sigemptyset(&action.sa_mask);
    ::sigaction(SIGINT, &action, &old_int_);
    ::sigaction(SIGTERM, &action, &old_term_);
  }
  ~InterruptGuard() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
  }
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
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

// The command line as a collection request: explicit days from --day or --from/--to.
Result<collector::CollectionRequest> RequestOf(const CollectArgs& a, Day today) {
  collector::CollectionRequest request;
  request.servers = a.servers;
  request.customer = a.customer;
  request.backfill = a.backfill;
  if (!a.day.empty()) {
    auto day = DayArg(a.day, "--day", today);
    if (!day) return tl::unexpected(day.error());
    request.days.push_back(*day);
  } else if (!a.from.empty() || !a.to.empty()) {
    auto from = DayArg(a.from.empty() ? a.to : a.from, "--from", today);
    if (!from) return tl::unexpected(from.error());
    auto to = DayArg(a.to.empty() ? "yesterday" : a.to, "--to", today);
    if (!to) return tl::unexpected(to.error());
    if (*to < *from) return MakeError(ErrorCode::kInvalidArgument, "--to is before --from");
    if (*to - *from > 3660) {
      return MakeError(ErrorCode::kInvalidArgument, "a range of more than ten years is refused");
    }
    for (Day d = *from; d <= *to; d = d + 1) request.days.push_back(d);
  }
  return request;
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
  auto& store = (*registry)->store();
  int64_t now = ctx.clock().NowUnixSeconds();
  auto request = RequestOf(a, DayOf(now));
  if (!request) return tl::unexpected(request.error());
  if (auto ok = collector::ValidateRequest(*request, DayOf(now)); !ok) {
    return tl::unexpected(ok.error());
  }
  auto lock = collector::CollectLock::Acquire(ctx.db_path());
  if (!lock) return tl::unexpected(lock.error());
  auto prepared = collector::PrepareRun(store, *request, now, {.exclusive = lock->held()});
  if (!prepared) return tl::unexpected(prepared.error());

  registry::Authenticator auth(**registry, ctx.clock());
  ProgressBar progress("collect", static_cast<int64_t>(prepared->jobs.size()), !a.json);
  collector::RunOptions options;
  options.engine.concurrency = a.concurrency;
  options.engine.request_timeout = std::chrono::seconds(a.timeout_seconds);
  options.engine.progress = [&](int64_t done, int64_t failed) { progress.Update(done, failed); };
  options.stop = &g_interrupted;
  InterruptGuard interrupts;
  auto report = collector::ExecuteRun(std::move(*prepared), store, auth, ctx.transport(),
                                      ctx.clock(), options);
  progress.Finish();
  if (!report) return tl::unexpected(report.error());
  const CollectionRun& run = report->run;
  const collector::EngineStats& stats = report->stats;
  const collector::RunReport& sink = *report;

  if (a.json) {
    ctx.out().Json({{"run", run.id},
                    {"status", RunStatusName(run.status)},
                    {"servers", run.servers_attempted},
                    {"succeeded", run.servers_succeeded},
                    {"failed", run.servers_failed},
                    {"days_stored", sink.days_stored},
                    {"days_failed", sink.days_failed},
                    {"days_unrecoverable", sink.days_unrecoverable},
                    {"servers_not_started", stats.servers_not_started},
                    {"requests", stats.requests}});
  } else {
    std::string summary = "Run " + std::to_string(run.id) + ": " +
                          std::to_string(run.servers_succeeded) + "/" +
                          std::to_string(run.servers_attempted) + " servers, " +
                          std::to_string(sink.days_stored) + " days stored";
    if (sink.days_unrecoverable) {
      summary += ", " + std::to_string(sink.days_unrecoverable) + " beyond the instances' history";
    }
    if (run.status == RunStatus::kInterrupted) {
      ctx.out().Warn(summary + "; interrupted: " + std::to_string(stats.servers_not_started) +
                     " servers not started (what arrived is stored; run `collect` again)");
    } else if (run.servers_failed) {
      ctx.out().Warn(summary + ", " + std::to_string(run.servers_failed) +
                     " servers failed: see `n8n-fleet runs show " + std::to_string(run.id) + "`");
    } else {
      ctx.out().Success(summary);
    }
  }
  if (run.status == RunStatus::kSucceeded) return kExitOk;
  return run.status == RunStatus::kPartial || run.status == RunStatus::kInterrupted ? kExitPartial
                                                                                    : kExitNothing;
}

Result<int> RunsList(Context& ctx, const CollectArgs& a) {
  auto store = ctx.OpenStore();
  if (!store) return tl::unexpected(store.error());
  auto runs = (*store)->ListRuns(a.limit);
  if (!runs) return tl::unexpected(runs.error());
  if (a.json) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& r : *runs) list.push_back(service::RunJson(r));
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
    auto json = service::RunJson(*run);
    json["attempts"] = nlohmann::json::array();
    for (const auto& t : *attempts) json["attempts"].push_back(service::AttemptJson(t));
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
