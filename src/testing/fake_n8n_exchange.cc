// The fake n8n's token exchange (RFC 8693) as n8n 2.40.7 implements it (n8n-reference.md
// section 1): the route's switches (module loaded, enabled, rate limit) here; the request and
// subject token checks in rules::AnswerExchange (exchange_rules.cc, shared with the fake fleet).

#include <cstdio>
#include <cstdlib>

#include "testing/fake_n8n_internal.h"

namespace fleet::testing::fake {
namespace {

constexpr int64_t kRateWindowSeconds = 60;

// n8n's rate limit on the route (per client IP; the fake has one client). Sends the 429 itself.
bool RateLimited(State& state, Call& call, int64_t now) {
  if (state.rate_limit_per_minute <= 0) return false;
  if (now - state.rate_window_start >= kRateWindowSeconds) {
    state.rate_window_start = now;
    state.rate_window_count = 0;
  }
  if (++state.rate_window_count <= state.rate_limit_per_minute) return false;
  int64_t wait = std::max<int64_t>(state.rate_window_start + kRateWindowSeconds - now, 1);
  call.res.set_header("Retry-After", std::to_string(wait));
  SendMessage(call, 429, "Too many requests");
  return true;
}

}  // namespace

void AddTrustedKeyOrDie(State& state, const FakeN8n::TrustedKey& key) {
  std::string problem = state.trusted_keys.Add(key);
  if (!problem.empty()) {
    std::fprintf(stderr, "FakeN8n::TrustKey(%s): %s (n8n would refuse to start)\n", key.kid.c_str(),
                 problem.c_str());
    std::abort();
  }
}

// POST /rest/auth/oauth/token
void HandleTokenExchange(State& state, Call& call) {
  std::lock_guard lock(state.mu);
  int64_t now = InstanceNow(state);  // a skewed clock judges exp by its own time
  if (state.exchange_mode == FakeN8n::TokenExchangeMode::kNotLoaded) {
    return SendMessage(call, 404, "not found");
  }
  if (RateLimited(state, call, now)) return;
  if (state.exchange_mode == FakeN8n::TokenExchangeMode::kDisabled) {
    return SendJson(
        call, 501,
        Json{{"error", "server_error"}, {"error_description", "Token exchange is not enabled"}});
  }
  rules::SubjectPolicy policy{state.owner_email, state.access_token_ttl, std::nullopt};
  rules::ExchangeAnswer answer =
      rules::AnswerExchange(state.trusted_keys, policy, state.used_jtis,
                            call.req.get_header_value("Content-Type"), call.req.body, now);
  if (answer.status == 200) {
    state.access_tokens[answer.token] =
        IssuedToken{now + answer.verdict.expires_in, answer.verdict.role};
    ++state.exchange_count;
    call.res.set_header("Cache-Control", "no-store");
  } else if (!answer.verdict.reason.empty()) {
    state.exchange_failures.push_back(answer.verdict.reason);
  }
  SendJson(call, answer.status, answer.body);
}

}  // namespace fleet::testing::fake
