#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "collector/plan.h"
#include "core/clock.h"
#include "core/types.h"
#include "n8n/http.h"
#include "n8n/insights.h"
#include "registry/authenticator.h"

namespace fleet::collector {

// One server and the days to collect for it (past days and, optionally, today).
struct ServerJob {
  Server server{};
  std::vector<Day> days{};
};

// The result for one (server, day).
struct DayOutcome {
  Day day{};
  std::optional<DailyFigures> figures{};  // set when outcome == "ok"
  bool unrecoverable{false};              // beyond the instance's Insights history
  std::string raw_json{};                 // the windows the figures came from
  FetchAttempt attempt{};                 // outcome, http status, duration, message
};

struct ServerOutcome {
  std::string server{};  // name
  std::vector<DayOutcome> days{};
  bool ok() const;  // every day stored or unrecoverable
};

// Where results go as servers finish (e.g. batched database writes). Called on Run()'s thread.
class ResultSink {
 public:
  virtual ~ResultSink() = default;
  virtual void Accept(ServerOutcome outcome) = 0;
};

struct EngineOptions {
  int concurrency{64};  // transfers in flight at most
  std::chrono::milliseconds request_timeout{std::chrono::seconds(30)};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  int passes{3};  // rounds for servers that failed with a passing error (timeout, 429, 5xx)
  std::chrono::milliseconds retry_base{std::chrono::milliseconds(500)};
  std::chrono::milliseconds retry_max{std::chrono::seconds(30)};
  std::function<void(std::chrono::milliseconds)> sleep{};  // default: std::this_thread
  std::function<void(int64_t done, int64_t failed)> progress{};
  // Polled before each server starts: once it returns true no server starts (those in flight
  // finish) and no further pass runs.
  std::function<bool()> stop{};
};

struct EngineStats {
  int64_t servers_ok{};
  int64_t servers_failed{};
  int64_t requests{};
  int64_t passes{};
  int64_t servers_not_started{};  // left out because `stop` said so
};

// Collects many servers concurrently over one HttpTransport (libcurl multi: no thread per
// server). At most a bounded number of servers are in progress at once, so memory does not grow
// with the fleet; each finished server goes to the sink and is forgotten.
class Engine {
 public:
  Engine(n8n::HttpTransport& transport, registry::Authenticator& auth, const Clock& clock,
         EngineOptions options);
  ~Engine();
  EngineStats Run(const std::vector<ServerJob>& jobs, ResultSink& sink);

 private:
  // One server in progress.
  struct State {
    size_t job{};
    Day today{};
    int64_t started_at{};
    std::chrono::steady_clock::time_point started{};
    int pending{};
    bool redone{false};
    std::map<Day, n8n::InsightsSummary> sums{};  // keyed by window start
    std::map<Day, std::string> bodies{};
    std::set<Day> beyond_history{};
    std::optional<Error> failure{};
    int failure_status{};
    bool retryable{false};
    // Windows and the consistency check (see StartWindows).
    enum class Phase { kAll, kWidest, kRest, kRecheck };
    n8n::ApiAuth auth{};
    std::vector<std::pair<Day, Day>> windows{};  // [start, end), widest first
    bool verify{false};
    Phase phase{Phase::kAll};
    n8n::InsightsSummary recheck{};
    int rereads{0};
  };
  void Start(size_t job);
  void StartWindows(State* state, const n8n::ApiAuth& auth);
  void SubmitWindow(State* state, Day start, Day end, bool last = false);
  bool Advance(State* state);
  void Fail(State* state, const Error& error, int http_status, bool retryable);
  void Settle(State* state);
  void Finish(State* state);
  void StartMore();
  bool Stopping() const;

  n8n::HttpTransport& transport_;
  registry::Authenticator& auth_;
  const Clock& clock_;
  EngineOptions options_;
  const std::vector<ServerJob>* jobs_{nullptr};
  ResultSink* sink_{nullptr};
  std::vector<size_t> queue_{};              // jobs waiting to start (this pass), back = next
  std::vector<size_t> retry_{};              // jobs to try again next pass
  std::chrono::milliseconds retry_after_{};  // longest Retry-After seen this pass
  std::unordered_map<size_t, std::unique_ptr<State>> states_{};  // servers in progress
  bool last_pass_{false};
  bool starting_{false};  // inside Start(): requests are a new server's, not follow-ups
  EngineStats stats_{};
};

}  // namespace fleet::collector
