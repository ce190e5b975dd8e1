#include "collector/engine.h"

#include <algorithm>
#include <map>
#include <set>
#include <thread>

#include "n8n/insights.h"

namespace fleet::collector {
namespace {

std::string OutcomeOf(const Error& error, int http_status) {
  if (n8n::IsBeyondHistory(error)) return "beyond_history";
  if (http_status == 401 || http_status == 403) return "auth_error";
  if (http_status != 0 && http_status != 200) return "http_status";
  switch (error.code) {
    case ErrorCode::kTimeout:
      return "timeout";
    case ErrorCode::kUnavailable:
      return "unreachable";
    case ErrorCode::kUnauthenticated:
    case ErrorCode::kPermissionDenied:
    case ErrorCode::kFailedPrecondition:
    case ErrorCode::kNotFound:
      return "auth_error";
    default:
      return "bad_response";
  }
}

// Errors that may pass by themselves, worth another pass.
bool Passing(const Error& error, int http_status) {
  return error.code == ErrorCode::kTimeout || error.code == ErrorCode::kUnavailable ||
         error.code == ErrorCode::kRateLimited || http_status == 429 || http_status >= 500;
}

std::string WindowJson(Day start, Day end, const std::string& body) {
  return "{\"start\":\"" + FormatDay(start) + "\",\"end\":\"" + FormatDay(end) +
         "\",\"summary\":" + body + "}";
}

}  // namespace

bool ServerOutcome::ok() const {
  return std::all_of(days.begin(), days.end(),
                     [](const DayOutcome& d) { return d.unrecoverable || d.figures.has_value(); });
}

Engine::Engine(n8n::HttpTransport& transport, registry::Authenticator& auth, const Clock& clock,
               EngineOptions options)
    : transport_(transport), auth_(auth), clock_(clock), options_(std::move(options)) {
  if (!options_.sleep) {
    options_.sleep = [](std::chrono::milliseconds pause) { std::this_thread::sleep_for(pause); };
  }
  options_.concurrency = std::max(1, options_.concurrency);
  options_.passes = std::max(1, options_.passes);
}

Engine::~Engine() = default;

EngineStats Engine::Run(const std::vector<ServerJob>& jobs, ResultSink& sink) {
  jobs_ = &jobs;
  sink_ = &sink;
  stats_ = {};
  queue_.clear();
  for (size_t i = jobs.size(); i-- > 0;) queue_.push_back(i);  // back = next: in order
  for (int pass = 1; pass <= options_.passes && !queue_.empty(); ++pass) {
    stats_.passes = pass;
    last_pass_ = pass == options_.passes;
    retry_.clear();
    retry_after_ = {};
    StartMore();
    transport_.Run(options_.concurrency);
    if (retry_.empty() || Stopping()) break;
    auto pause = std::min(options_.retry_max, options_.retry_base * (1 << (pass - 1)));
    options_.sleep(std::max(pause, std::min(retry_after_, options_.retry_max)));
    queue_.assign(retry_.rbegin(), retry_.rend());
  }
  if (Stopping()) stats_.servers_not_started = static_cast<int64_t>(queue_.size() + retry_.size());
  return stats_;
}

bool Engine::Stopping() const { return options_.stop && options_.stop(); }

// Keeps about two servers per transfer slot in progress: enough to fill the pipe, few enough
// that memory stays flat however large the fleet.
void Engine::StartMore() {
  size_t limit = static_cast<size_t>(options_.concurrency) * 2;
  while (states_.size() < limit && !queue_.empty() && !Stopping()) {
    size_t job = queue_.back();
    queue_.pop_back();
    Start(job);
  }
}

void Engine::Start(size_t job) {
  const Server& server = (*jobs_)[job].server;
  auto owned = std::make_unique<State>();
  State* state = owned.get();
  state->job = job;
  state->started_at = clock_.NowUnixSeconds();
  state->today = DayOf(state->started_at);
  state->started = std::chrono::steady_clock::now();
  states_[job] = std::move(owned);
  // A new server's first requests queue behind those already waiting (see HttpRequest).
  struct Starting {
    bool& flag;
    bool before;
    explicit Starting(bool& f) : flag(f), before(f) { flag = true; }
    ~Starting() { flag = before; }
  } starting(starting_);

  auto cached = auth_.Cached(server);
  if (!cached) {
    Fail(state, cached.error(), 0, false);
    return Settle(state);
  }
  if (*cached) return StartWindows(state, **cached);
  auto exchange = auth_.BuildExchange(server);
  if (!exchange) {
    Fail(state, exchange.error(), 0, false);
    return Settle(state);
  }
  ++state->pending;
  ++stats_.requests;
  exchange->total_timeout = options_.request_timeout;
  exchange->connect_timeout = options_.connect_timeout;
  exchange->follow_up = !starting_;
  transport_.Submit(std::move(*exchange), [this, state](Result<n8n::HttpResponse> response) {
    --state->pending;
    const Server& srv = (*jobs_)[state->job].server;
    if (!response) {
      Fail(state, WithContext(response.error(), "token exchange with '" + srv.name + "'"), 0, true);
      return Settle(state);
    }
    auto auth = auth_.AcceptExchange(srv, *response);
    if (!auth) {
      Fail(state, auth.error(), response->status, Passing(auth.error(), response->status));
      if (response->status == 429) {
        int seconds = n8n::RetryAfterSeconds(*response);
        retry_after_ = std::max(retry_after_, std::chrono::milliseconds(seconds * 1000));
      }
      return Settle(state);
    }
    StartWindows(state, *auth);
  });
}

// Past days are derived from differences of windows read at slightly different times; if the
// instance's compaction adds late executions between two reads, a difference is off by them. So
// with two or more windows the widest one (it contains every day the others do) is read first,
// alone, then the others, then the widest again: if it changed, nothing is kept and the windows
// are read again (twice at most, then the server fails for this pass).
void Engine::StartWindows(State* state, const n8n::ApiAuth& auth) {
  const ServerJob& job = (*jobs_)[state->job];
  state->auth = auth;
  state->windows.clear();
  for (Day start : WindowStarts(job.days, state->today)) {
    state->windows.emplace_back(start, state->today);
  }
  bool live = std::find(job.days.begin(), job.days.end(), state->today) != job.days.end();
  if (live) state->windows.emplace_back(state->today, state->today + 1);
  if (state->windows.empty()) return Settle(state);
  size_t past = state->windows.size() - (live ? 1 : 0);
  state->verify = past >= 2;
  if (!state->verify) {
    for (size_t i = 0; i < state->windows.size(); ++i) {
      SubmitWindow(state, state->windows[i].first, state->windows[i].second,
                   i + 1 == state->windows.size());
    }
    return;
  }
  state->phase = State::Phase::kWidest;
  SubmitWindow(state, state->windows.front().first, state->windows.front().second);
}

void Engine::SubmitWindow(State* state, Day start, Day end, bool last) {
  const ServerJob& job = (*jobs_)[state->job];
  n8n::Endpoint endpoint{job.server.url, !job.server.skip_tls_verify};
  ++state->pending;
  ++stats_.requests;
  auto request =
      n8n::InsightsSummaryRequest(endpoint, state->auth, StartOfDay(start), StartOfDay(end));
  request.total_timeout = options_.request_timeout;
  request.connect_timeout = options_.connect_timeout;
  request.keep_connection = !last;
  request.follow_up = !starting_;
  transport_.Submit(std::move(request), [this, state, start](Result<n8n::HttpResponse> response) {
    --state->pending;
    const Server& srv = (*jobs_)[state->job].server;
    if (!response) {
      Fail(state, response.error(), 0, true);
      return Settle(state);
    }
    auto summary = n8n::ParseInsightsSummary(*response, srv.name);
    if (summary) {
      if (state->phase == State::Phase::kRecheck) {
        state->recheck = *summary;
      } else {
        state->sums[start] = *summary;
        state->bodies[start] = response->body;
      }
    } else if (n8n::IsBeyondHistory(summary.error())) {
      state->beyond_history.insert(start);
    } else {
      if (response->status == 401 && srv.auth == AuthMode::kTokenExchange) {
        auth_.Forget(srv.name);  // the next pass exchanges again
      }
      if (response->status == 429) {
        int seconds = n8n::RetryAfterSeconds(*response);
        retry_after_ = std::max(retry_after_, std::chrono::milliseconds(seconds * 1000));
      }
      Fail(state, summary.error(), response->status,
           Passing(summary.error(), response->status) ||
               (response->status == 401 && srv.auth == AuthMode::kTokenExchange));
    }
    Settle(state);
  });
}

// Moves a verified server through its phases; true when its windows are all read and checked.
bool Engine::Advance(State* state) {
  if (!state->verify || state->failure) return true;
  Day widest = state->windows.front().first;
  switch (state->phase) {
    case State::Phase::kAll:
      return true;
    case State::Phase::kWidest:
      if (state->beyond_history.count(widest)) {
        // Too old to read: the next widest window takes its place.
        state->windows.erase(state->windows.begin());
        size_t past = static_cast<size_t>(
            std::count_if(state->windows.begin(), state->windows.end(),
                          [&](const auto& w) { return w.first < state->today; }));
        if (past >= 2) {
          SubmitWindow(state, state->windows.front().first, state->windows.front().second);
          return false;
        }
        state->verify = false;
        state->phase = State::Phase::kAll;
        for (auto [start, end] : state->windows) SubmitWindow(state, start, end);
        return state->windows.empty();
      }
      if (state->windows.size() == 1) return true;
      state->phase = State::Phase::kRest;
      for (size_t i = 1; i < state->windows.size(); ++i) {
        SubmitWindow(state, state->windows[i].first, state->windows[i].second);
      }
      return false;
    case State::Phase::kRest:
      state->phase = State::Phase::kRecheck;
      SubmitWindow(state, state->windows.front().first, state->windows.front().second, true);
      return false;
    case State::Phase::kRecheck: {
      const auto& first = state->sums[widest];
      const auto& again = state->recheck;
      if (first.total == again.total && first.failed == again.failed &&
          first.time_saved_minutes == again.time_saved_minutes &&
          first.average_run_time_ms == again.average_run_time_ms) {
        return true;
      }
      if (++state->rereads > 2) {
        Fail(state,
             Error{ErrorCode::kBadResponse,
                   "server '" + (*jobs_)[state->job].server.name +
                       "': its Insights kept changing while they were read; retried later"},
             0, true);
        return true;
      }
      state->sums.clear();
      state->bodies.clear();
      state->beyond_history.clear();
      state->phase = State::Phase::kWidest;
      SubmitWindow(state, state->windows.front().first, state->windows.front().second);
      return false;
    }
  }
  return true;
}

void Engine::Fail(State* state, const Error& error, int http_status, bool retryable) {
  if (state->failure) return;  // the first failure explains the server
  state->failure = error;
  state->failure_status = http_status;
  state->retryable = retryable;
}

void Engine::Settle(State* state) {
  if (state->pending > 0) return;
  if (!Advance(state)) return;
  // The windows mean something else after midnight UTC: redo the server once if it crossed.
  if (!state->failure && !state->redone &&
      !SameUtcDay(state->started_at, clock_.NowUnixSeconds())) {
    size_t index = state->job;
    states_.erase(index);
    Start(index);
    if (auto it = states_.find(index); it != states_.end()) it->second->redone = true;
    return;
  }
  if (state->failure && state->retryable && !last_pass_) {
    retry_.push_back(state->job);
    states_.erase(state->job);
    return StartMore();
  }
  Finish(state);
}

void Engine::Finish(State* state) {
  const ServerJob& job = (*jobs_)[state->job];
  ServerOutcome outcome;
  outcome.server = job.server.name;
  auto duration = std::chrono::duration_cast<std::chrono::milliseconds>(
                      std::chrono::steady_clock::now() - state->started)
                      .count();
  int64_t now = clock_.NowUnixSeconds();
  std::vector<Day> past;
  for (Day day : job.days) {
    if (day < state->today) past.push_back(day);
  }
  auto derived = DeriveDailyFigures(past, state->today, state->sums);
  for (Day day : job.days) {
    DayOutcome d;
    d.day = day;
    d.attempt = {0, job.server.name, FormatDay(day), "ok", 200, duration, "", now};
    if (state->beyond_history.count(day)) {
      d.unrecoverable = true;
      d.attempt.outcome = "beyond_history";
      d.attempt.http_status = 403;
      d.attempt.message = "server '" + job.server.name + "' no longer keeps Insights for " +
                          FormatDay(day) + " (licence history limit)";
    } else if (state->failure) {
      d.attempt.outcome = OutcomeOf(*state->failure, state->failure_status);
      d.attempt.http_status = state->failure_status;
      d.attempt.message = state->failure->message;
    } else if (day > state->today) {
      d.attempt.outcome = "bad_response";
      d.attempt.message = FormatDay(day) + " has not begun yet";
    } else if (day == state->today) {
      d.figures = FiguresOf(state->sums[day]);
      d.raw_json = "{\"windows\":[" + WindowJson(day, day + 1, state->bodies[day]) + "]}";
    } else {
      const auto& figures = derived.at(day);
      if (!figures) {
        d.attempt.outcome = "bad_response";
        d.attempt.message = "server '" + job.server.name + "': " + figures.error().message;
      } else {
        d.figures = *figures;
        std::string windows = WindowJson(day, state->today, state->bodies[day]);
        if (day + 1 < state->today) {
          windows += "," + WindowJson(day + 1, state->today, state->bodies[day + 1]);
        }
        d.raw_json = "{\"windows\":[" + windows + "]}";
      }
    }
    outcome.days.push_back(std::move(d));
  }
  bool ok = outcome.ok();
  ok ? ++stats_.servers_ok : ++stats_.servers_failed;
  sink_->Accept(std::move(outcome));
  if (options_.progress)
    options_.progress(stats_.servers_ok + stats_.servers_failed, stats_.servers_failed);
  states_.erase(state->job);
  StartMore();
}

}  // namespace fleet::collector
