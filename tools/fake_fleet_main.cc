// n8n-fleet-fake-fleet: serves a fleet of fake n8n instances on 127.0.0.1 until SIGTERM/SIGINT,
// writing the servers' import CSV and the exact figures a collector must store. Test and demo
// tool; never installed as part of the product.
//
//   n8n-fleet-fake-fleet --count 10000 --trust trust.json --csv fleet.csv --expected expected.csv
//   n8n-fleet-fake-fleet --count 300 --latency-ms 150 --request-log requests.log ...
//   n8n-fleet-fake-fleet --count 1000 --fault-rate 0.05 --fault-seed 7 --faults-until 2026-12-01
//   ...
//
// Prints "ready" on stdout once every instance listens; on SIGUSR1, a line "stats {JSON}" (the
// counters, faults and workflows among them, and every workflow name's counts:
// {"workflow_names": {NAME: {"workflows": N, "instances": M}}}, M < N meaning duplicates on some
// instance); at exit (SIGTERM/SIGINT), after the request log is written out, that line again and
// one line of statistics.

#include <sys/resource.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "testing/fake_fleet.h"

namespace fleet::tools {
namespace {

using testing::FakeFleet;
using testing::FleetOptions;

struct Args {
  int count{0};
  int days_back{7};
  int base_port{0};
  int latency_ms{0};
  double fault_rate{0};
  uint64_t fault_seed{1};
  std::string today, trust, api_key, csv, expected, request_log, faults_until;
  bool expect_own_audience{false};
};

std::string ServerName(int index) {
  char name[32];
  std::snprintf(name, sizeof name, "fleet-%05d", index);
  return name;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The file holds what `n8n-fleet key env --format json` prints (an object whose
// N8N_TOKEN_EXCHANGE_TRUSTED_KEYS is the JSON array as a string), or that array itself.
Result<std::vector<testing::rules::TrustedKey>> ReadTrust(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return tl::unexpected(text.error());
  nlohmann::json json = nlohmann::json::parse(*text, nullptr, false);
  std::string array = *text;
  if (json.is_object()) {
    auto keys = json.find("N8N_TOKEN_EXCHANGE_TRUSTED_KEYS");
    if (keys == json.end() || !keys->is_string()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       path +
                           " has no N8N_TOKEN_EXCHANGE_TRUSTED_KEYS: write it with "
                           "`n8n-fleet key env --format json`");
    }
    array = keys->get<std::string>();
  }
  auto parsed = testing::rules::ParseTrustedKeys(array);
  if (!parsed) return tl::unexpected(WithContext(parsed.error(), path));
  return parsed;
}

Result<void> WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return MakeError(ErrorCode::kIo, "cannot write " + path);
  return {};
}

// name,url,customer,description,auth: the columns `n8n-fleet server import` reads.
std::string ImportCsv(const FakeFleet& fleet, bool token_exchange) {
  std::string csv = "name,url,customer,description,auth\n";
  for (int i = 0; i < fleet.count(); ++i) {
    csv += ServerName(i) + "," + fleet.url(i) + ",customer-" + std::to_string(i % 10) +
           ",fake fleet instance " + std::to_string(i) + "," +
           (token_exchange ? "token-exchange" : "api-key") + "\n";
  }
  return csv;
}

// Every (server, day) figure served, days first_day()..today(); JSON when the path ends .json.
std::string Expected(const FakeFleet& fleet, bool json) {
  nlohmann::json rows = nlohmann::json::array();
  std::string csv = "server,day,total,failed,time_saved_minutes,total_runtime_ms\n";
  for (int i = 0; i < fleet.count(); ++i) {
    for (Day d = fleet.first_day(); d <= fleet.today(); d = d + 1) {
      testing::FleetDay f = testing::FleetDailyFigures(i, d);
      if (json) {
        rows.push_back({{"server", ServerName(i)},
                        {"day", FormatDay(d)},
                        {"total", f.total},
                        {"failed", f.failed},
                        {"time_saved_minutes", f.time_saved_minutes},
                        {"total_runtime_ms", f.total_runtime_ms}});
      } else {
        csv += ServerName(i) + "," + FormatDay(d) + "," + std::to_string(f.total) + "," +
               std::to_string(f.failed) + "," + nlohmann::json(f.time_saved_minutes).dump() + "," +
               nlohmann::json(f.total_runtime_ms).dump() + "\n";
      }
    }
  }
  return json ? rows.dump(1) + "\n" : csv;
}

double Seconds(const timeval& tv) {
  return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
}

// "stats {...}": what a bench checks between rounds without stopping the fleet.
std::string StatsLine(const FakeFleet& fleet) {
  testing::FleetStats s = fleet.Stats();
  nlohmann::json names = nlohmann::json::object();
  for (const auto& [name, counts] : fleet.WorkflowNames()) {
    names[name] = {{"workflows", counts.workflows}, {"instances", counts.instances}};
  }
  nlohmann::json json = {{"requests", s.requests},
                         {"exchanges", s.exchanges},
                         {"exchange_failures", s.exchange_failures},
                         {"connections", s.connections},
                         {"max_connections", s.max_connections},
                         {"workflows", s.workflows},
                         {"workflow_lists", s.workflow_lists},
                         {"workflow_gets", s.workflow_gets},
                         {"workflow_posts", s.workflow_posts},
                         {"workflow_puts", s.workflow_puts},
                         {"workflow_activations", s.workflow_activations},
                         {"workflow_deletes", s.workflow_deletes},
                         {"workflows_created", s.workflows_created},
                         {"workflows_updated", s.workflows_updated},
                         {"faults", s.faults},
                         {"fault_errors", s.fault_errors},
                         {"fault_closes", s.fault_closes},
                         {"fault_hangs", s.fault_hangs},
                         {"workflow_names", std::move(names)}};
  return "stats " + json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

int Run(const Args& a) {
  FleetOptions options;
  options.count = a.count;
  options.days_back = a.days_back;
  options.base_port = a.base_port;
  options.api_key = a.api_key;
  options.expect_own_audience = a.expect_own_audience;
  options.latency_ms = a.latency_ms;
  options.request_log = a.request_log;
  options.fault_rate = a.fault_rate;
  options.fault_seed = a.fault_seed;
  if (!a.faults_until.empty()) {
    options.faults_until = ParseDay(a.faults_until);
    if (!options.faults_until) {
      std::cerr << "error: --faults-until must be YYYY-MM-DD, not '" << a.faults_until << "'\n";
      return 2;
    }
  }
  if (!a.today.empty()) {
    options.today = ParseDay(a.today);
    if (!options.today) {
      std::cerr << "error: --today must be YYYY-MM-DD, not '" << a.today << "'\n";
      return 2;
    }
  }
  if (!a.trust.empty()) {
    auto keys = ReadTrust(a.trust);
    if (!keys) {
      std::cerr << "error: " << keys.error().message << "\n";
      return 1;
    }
    options.trusted_keys = std::move(*keys);
  }
  int64_t files = testing::RaiseOpenFileLimit();
  if (files >= 0 && files < a.count + 64) {
    std::cerr << "error: the open-file limit (" << files << ") is too low for " << a.count
              << " listeners: raise `ulimit -Hn`\n";
    return 1;
  }
  // Signals are waited for synchronously: block them before the loop thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGUSR1);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  auto fleet = FakeFleet::Start(options);
  if (!fleet) {
    std::cerr << "error: " << fleet.error().message << "\n";
    return 1;
  }
  if (!a.csv.empty()) {
    if (auto ok = WriteFile(a.csv, ImportCsv(**fleet, !a.trust.empty())); !ok) {
      std::cerr << "error: " << ok.error().message << "\n";
      return 1;
    }
  }
  if (!a.expected.empty()) {
    bool json = a.expected.size() > 5 && a.expected.substr(a.expected.size() - 5) == ".json";
    if (auto ok = WriteFile(a.expected, Expected(**fleet, json)); !ok) {
      std::cerr << "error: " << ok.error().message << "\n";
      return 1;
    }
  }
  std::cerr << a.count << " fake n8n instances on 127.0.0.1, ports " << (*fleet)->port(0)
            << (a.base_port > 0 ? "-" + std::to_string((*fleet)->port(a.count - 1)) : " ...")
            << ", today " << FormatDay((*fleet)->today()) << ", figures from "
            << FormatDay((*fleet)->first_day())
            << (a.trust.empty() ? ", API key only" : ", token exchange on")
            << (a.latency_ms > 0 ? ", " + std::to_string(a.latency_ms) + " ms latency" : "")
            << (a.fault_rate > 0 ? ", fault rate " + std::to_string(a.fault_rate) + " (seed " +
                                       std::to_string(a.fault_seed) + ")" +
                                       (a.faults_until.empty() ? "" : " until " + a.faults_until)
                                 : "")
            << (a.request_log.empty() ? "" : ", requests logged to " + a.request_log) << "\n";
  std::cout << "ready" << std::endl;

  for (int signal = SIGUSR1; signal == SIGUSR1;) {
    sigwait(&signals, &signal);
    if (signal == SIGUSR1) std::cout << StatsLine(**fleet) << std::endl;
  }
  testing::FleetStats stats = (*fleet)->Stats();
  std::string last = StatsLine(**fleet);
  fleet->reset();
  std::cout << last << std::endl;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::cout << "requests " << stats.requests << " exchanges " << stats.exchanges
            << " exchange_failures " << stats.exchange_failures << " connections "
            << stats.connections << " max_concurrent_connections " << stats.max_connections
            << " cpu_user_s " << Seconds(usage.ru_utime) << " cpu_sys_s " << Seconds(usage.ru_stime)
            << " max_rss_kb " << usage.ru_maxrss << " workflows " << stats.workflows
            << " workflows_created " << stats.workflows_created << " workflows_updated "
            << stats.workflows_updated << " faults " << stats.faults << std::endl;
  return 0;
}

}  // namespace
}  // namespace fleet::tools

int main(int argc, char** argv) {
  fleet::tools::Args a;
  CLI::App app{"Fake n8n fleet on 127.0.0.1 for benchmarks and demos (test tool)"};
  app.add_option("--count", a.count, "Instances to serve")->required()->check(CLI::Range(1, 60000));
  app.add_option("--days-back", a.days_back, "Days of figures before today (default 7)")
      ->check(CLI::Range(0, 3650));
  app.add_option("--today", a.today, "The instances' UTC day, YYYY-MM-DD (default: today)");
  app.add_option("--base-port", a.base_port,
                 "Instance i listens on BASE+i (keep below 32768); default: kernel-chosen ports")
      ->check(CLI::Range(1, 65535));
  app.add_option("--trust", a.trust,
                 "Trusted keys: the JSON printed by `n8n-fleet key env --format json`");
  app.add_flag("--expect-own-audience", a.expect_own_audience,
               "Each instance requires its own URL as the subject token's audience");
  app.add_option("--api-key", a.api_key, "The X-N8N-API-KEY every instance accepts");
  app.add_option("--csv", a.csv, "Write the servers import CSV here");
  app.add_option("--expected", a.expected,
                 "Write every served (server, day) figure here (.json for JSON, else CSV)");
  app.add_option("--latency-ms", a.latency_ms,
                 "Send each Insights, token exchange and workflow answer this many ms after its "
                 "request (default 0)")
      ->check(CLI::Range(0, 600000));
  app.add_option("--request-log", a.request_log,
                 "Write one line per Insights request here: INSTANCE START END ARRIVAL_MS STATUS "
                 "(completed at exit)");
  app.add_option("--fault-rate", a.fault_rate,
                 "Share of Insights requests that fail: a 500, a connection closed unanswered, or "
                 "no answer at all (default 0)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--fault-seed", a.fault_seed,
                 "Seed of the faults: the same seed and requests give the same faults (default 1)");
  app.add_option("--faults-until", a.faults_until,
                 "No faults on this UTC day (the instances' today) and after, YYYY-MM-DD");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  return fleet::tools::Run(a);
}
