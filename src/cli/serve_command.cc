// `n8n-fleet serve`: the daemon. Wires the scheduler, the collection runner, the HTTP API and the
// dashboard together, then waits for signals: SIGTERM/SIGINT stop it gracefully, SIGHUP reloads
// the configuration file.
#include <signal.h>

#include <cstdlib>
#include <map>
#include <thread>

#include "cli/commands.h"
#include "n8n/http.h"
#include "service/assets.h"
#include "service/config.h"
#include "service/http_server.h"
#include "service/local_runner.h"
#include "service/log.h"
#include "service/metrics.h"
#include "service/scheduler.h"
#include "service/store_pool.h"

namespace fleet::cli {
namespace {

struct ServeArgs {
  std::string config;
  std::map<std::string, std::string> overrides;  // option -> value, from flags
  // Flag values (CLI11 binds to these; those given are copied into `overrides`).
  std::string listen, collect_at, tls_cert, tls_key, log_format, log_level;
  int concurrency{0};
  bool insecure_listen{false};
};

// Blocks the signals the daemon handles in every thread it starts, so the main thread can wait
// for them with sigwait.
sigset_t HandledSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

service::SchedulerOptions SchedulerOptionsOf(const service::ServiceConfig& c) {
  service::SchedulerOptions o;
  auto at = service::ParseCollectAt(c.collect_at);
  o.collect_minute_of_day = at ? *at : 90;
  o.retry_base_seconds = c.retry_base_seconds;
  o.retry_max_seconds = c.retry_max_seconds;
  o.backfill = c.backfill;
  return o;
}

Result<int> Serve(Context& ctx, const ServeArgs& a) {
  std::string file = a.config.empty() ? ctx.config_path() : a.config;
  auto loaded = service::LoadServiceConfig(file, a.overrides);
  if (!loaded) return tl::unexpected(loaded.error());
  service::ServiceConfig config = loaded->config;
  auto listen = service::SplitListen(config.listen);
  if (!listen) return tl::unexpected(listen.error());

  service::Logger log(stderr, service::ParseLogFormat(config.log_format),
                      service::ParseLogLevel(config.log_level));
  auto serve_lock = collector::CollectLock::Acquire(ctx.db_path(), "serve");
  if (!serve_lock) return tl::unexpected(serve_lock.error());
  auto registry = ctx.OpenRegistry();  // the runner's connection (master key checked here)
  if (!registry) return tl::unexpected(registry.error());

  // Threads started from here on inherit the blocked signals.
  sigset_t signals = HandledSignals();
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  service::Metrics metrics;
  std::string db_path = ctx.db_path();
  auto open_db = [location = ctx.location()]() -> Result<std::unique_ptr<storage::Store>> {
    if (!location) return tl::unexpected(location.error());
    return storage::OpenStore(*location, /*create=*/false);
  };
  service::StorePool stores(open_db, static_cast<size_t>(config.http_threads) + 1);

  service::Scheduler* scheduler_ptr = nullptr;
  service::LocalRunnerOptions runner_options;
  runner_options.database_path = db_path;
  runner_options.open_store = open_db;
  runner_options.lease_seconds = config.lease_seconds;
  runner_options.claim_servers = config.claim_servers;
  runner_options.poll = std::chrono::seconds(config.poll_seconds);
  runner_options.engine.concurrency = config.concurrency;
  runner_options.engine.request_timeout = std::chrono::seconds(config.request_timeout_seconds);
  runner_options.on_attempt = [&](const FetchAttempt& attempt) {
    metrics.RecordAttempt(attempt);
    if (attempt.outcome != "ok") {
      log.Warn("collection failed", {{"run", std::to_string(attempt.run_id)},
                                     {"server", attempt.server},
                                     {"day", attempt.day},
                                     {"outcome", attempt.outcome},
                                     {"http_status", std::to_string(attempt.http_status)},
                                     {"error", attempt.message}});
    }
  };
  runner_options.on_token_exchanges = [&](int64_t n) { metrics.AddTokenExchanges(n); };
  runner_options.on_work = [&](const collector::WorkReport& work) {
    metrics.AddWork(work.claims, work.lost_leases);
    if (work.lost_leases > 0) {
      log.Warn("servers finished after their lease was taken over (raise lease_seconds?)",
               {{"servers", std::to_string(work.lost_leases)}});
    }
  };
  runner_options.on_finished = [&](const collector::RunReport& report) {
    metrics.RecordRun(report.run);
    log.Info("run finished", {{"run", std::to_string(report.run.id)},
                              {"status", std::string(RunStatusName(report.run.status))},
                              {"servers", std::to_string(report.run.servers_attempted)},
                              {"failed", std::to_string(report.run.servers_failed)},
                              {"days_stored", std::to_string(report.days_stored)}});
    if (scheduler_ptr) scheduler_ptr->OnRunFinished(report);
  };
  runner_options.on_error = [&](int64_t run, const Error& error) {
    log.Error("run could not store its figures",
              {{"run", std::to_string(run)}, {"error", error.message}});
  };
  service::LocalRunner runner(**registry, ctx.transport(), ctx.clock(), runner_options);

  service::ConditionWaiter waiter;
  service::Scheduler scheduler(runner, ctx.clock(), waiter, SchedulerOptionsOf(config), &log);
  scheduler_ptr = &scheduler;

  service::HttpOptions http;
  http.host = listen->first;
  http.port = listen->second;
  http.threads = config.http_threads;
  http.max_body_bytes = static_cast<size_t>(config.max_body_bytes);
  http.tls_cert_file = config.tls_cert;
  http.tls_key_file = config.tls_key;
  http.insecure_listen = config.insecure_listen;
  service::ServiceDeps deps;
  deps.stores = &stores;
  deps.metrics = &metrics;
  deps.clock = &ctx.clock();
  deps.runner = &runner;
  deps.scheduler_alive = [&] {
    // The loop beats at least once a minute while it waits.
    return ctx.clock().NowUnixSeconds() - scheduler.last_heartbeat() < 180;
  };
  deps.find_asset = [](std::string_view path) { return service::FindAsset(path); };
  deps.on_request = [&](const service::RequestLog& r) {
    log.Debug("request", {{"method", r.method},
                          {"path", r.path},
                          {"status", std::to_string(r.status)},
                          {"ms", std::to_string(r.duration.count() / 1000)},
                          {"token_name", r.token_name}});
  };
  service::HttpService server(http, deps);
  if (auto ok = server.Start(); !ok) return tl::unexpected(ok.error());

  std::thread scheduler_thread([&] { scheduler.Run(); });
  std::string url = std::string(server.tls() ? "https" : "http") + "://" + listen->first + ":" +
                    std::to_string(server.port()) + "/";
  log.Info("serving", {{"url", url},
                       {"database", db_path},
                       {"collect_at", config.collect_at + " UTC"},
                       {"config", file.empty() ? "(none)" : file}});

  int signal = 0;
  while (true) {
    if (sigwait(&signals, &signal) != 0) continue;
    if (signal != SIGHUP) break;
    auto reloaded = service::LoadServiceConfig(file, a.overrides);
    if (!reloaded) {
      log.Error("configuration not reloaded; keeping the current one",
                {{"error", reloaded.error().message}});
      continue;
    }
    const auto& next = reloaded->config;
    if (next.listen != config.listen || next.tls_cert != config.tls_cert ||
        next.tls_key != config.tls_key || next.http_threads != config.http_threads ||
        next.concurrency != config.concurrency) {
      log.Warn("listen, TLS, http_threads and concurrency changes take effect on restart", {});
    }
    config.collect_at = reloaded->config.collect_at;
    config.retry_base_seconds = reloaded->config.retry_base_seconds;
    config.retry_max_seconds = reloaded->config.retry_max_seconds;
    config.backfill = reloaded->config.backfill;
    scheduler.Reconfigure(SchedulerOptionsOf(config));
    log.SetLevel(service::ParseLogLevel(reloaded->config.log_level));
    log.Info("configuration reloaded", {{"collect_at", config.collect_at + " UTC"}});
  }

  log.Info("shutting down", {{"signal", signal == SIGINT ? "SIGINT" : "SIGTERM"}});
  scheduler.Stop();
  scheduler_thread.join();
  runner.Shutdown(std::chrono::seconds(config.shutdown_grace_seconds));
  server.Stop();
  log.Info("stopped", {});
  return kExitOk;
}

}  // namespace

void AddServeCommand(CLI::App& app, Context& ctx, Action& action) {
  auto a = std::make_shared<ServeArgs>();
  auto* serve = app.add_subcommand(
      "serve", "Run the service: daily collection, HTTP API, dashboard and metrics");
  serve->add_option("--config", a->config,
                    "TOML file with any of the options below (env N8N_FLEET_CONFIG, default "
                    "<home>/config.toml if present)");
  serve->add_option("--listen", a->listen, "HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--collect-at", a->collect_at, "Daily collection time, HH:MM UTC");
  serve->add_option("--concurrency", a->concurrency, "Requests in flight at most (default 64)");
  serve->add_option("--tls-cert", a->tls_cert, "TLS certificate (PEM)");
  serve->add_option("--tls-key", a->tls_key, "TLS private key (PEM)");
  serve->add_flag("--insecure-listen", a->insecure_listen,
                  "Allow plain HTTP on a non-loopback address");
  serve->add_option("--log-format", a->log_format, "auto (default), text or json");
  serve->add_option("--log-level", a->log_level, "debug, info (default), warn or error");
  serve->callback([&action, &ctx, a, serve] {
    auto given = [&](const char* flag, const char* key, const std::string& value) {
      if (serve->count(flag) > 0) a->overrides[key] = value;
    };
    given("--listen", "listen", a->listen);
    given("--collect-at", "collect_at", a->collect_at);
    given("--concurrency", "concurrency", std::to_string(a->concurrency));
    given("--tls-cert", "tls_cert", a->tls_cert);
    given("--tls-key", "tls_key", a->tls_key);
    given("--insecure-listen", "insecure_listen", "true");
    given("--log-format", "log_format", a->log_format);
    given("--log-level", "log_level", a->log_level);
    action = [&ctx, a] { return Serve(ctx, *a); };
  });
}

}  // namespace fleet::cli
