#pragma once

// Private to the fake n8n (fake_n8n*.cc): the state its routes share and their helpers.

#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "core/time.h"
#include "testing/fake_n8n.h"
#include "testing/n8n_rules.h"

namespace fleet::testing::fake {

using Json = nlohmann::json;
using Params = std::map<std::string, std::string>;  // ":name" path segments

using rules::kTokenExchangePath;

// An access token the instance issued.
struct IssuedToken {
  int64_t expires_at{};  // unix seconds
  std::string role{};
};

// Everything the routes share, guarded by `mu`.
struct State {
  mutable std::mutex mu;
  std::condition_variable wake;  // interrupts hangs at shutdown
  bool stopping{false};
  std::set<std::string> api_keys{};
  std::map<std::string, IssuedToken> access_tokens{};
  // Faults.
  FakeN8n::Fault fault{FakeN8n::Fault::kNone};
  int hang_ms{0};
  int64_t fault_body_bytes{0};  // sent by kHugeBody and kSlowBody
  int clock_skew_seconds{0};
  int fail_next{0};
  int fail_status{0};
  int fail_retry_after{-1};
  // Workflows.
  std::vector<Json> workflows{};
  int next_workflow_id{1};
  // Token exchange.
  FakeN8n::TokenExchangeMode exchange_mode{FakeN8n::TokenExchangeMode::kEnabled};
  rules::Keyring trusted_keys{};
  std::set<std::string> used_jtis{};
  std::string owner_email{};
  int access_token_ttl{900};
  int rate_limit_per_minute{0};
  int64_t rate_window_start{0};
  int rate_window_count{0};
  int exchange_count{0};
  std::vector<std::string> exchange_failures{};
  // Insights.
  std::map<Day, FakeN8n::DailyInsights> insights{};
  std::optional<Day> today{};
  int history_days{365};
  // Recording.
  std::vector<FakeN8n::RecordedRequest> requests{};
  int in_flight{0};
  int max_concurrent{0};
};

// One call being answered: the request, the response and the path parameters.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  Params params{};
};

void SendJson(Call& call, int status, const Json& body);
void SendMessage(Call& call, int status, const std::string& message);

// The public API's authentication: a known X-N8N-API-KEY (treated as the owner's) or
// `Authorization: Bearer <token>` the exchange issued and that has not expired. Returns the
// caller's role, or answers 401 itself and returns nullopt. Locks state.mu.
std::optional<std::string> Authorize(State& state, Call& call);

int64_t UnixNow();
// The instance's clock (UnixNow() shifted by SetClockSkew). Needs state.mu.
int64_t InstanceNow(const State& state);

// Trusts `key`, or aborts naming the problem on a key n8n 2.40.7 would refuse to start with.
void AddTrustedKeyOrDie(State& state, const FakeN8n::TrustedKey& key);  // fake_n8n_exchange.cc
// "YYYY-MM-DD", or aborts: a test's typo.
Day DayOrDie(const std::string& day);  // fake_n8n_insights.cc

// Routes implemented in their own files.
void HandleTokenExchange(State& state, Call& call);    // fake_n8n_exchange.cc
void HandleInsightsSummary(State& state, Call& call);  // fake_n8n_insights.cc

}  // namespace fleet::testing::fake
