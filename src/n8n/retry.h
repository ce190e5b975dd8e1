#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "core/error.h"
#include "n8n/http.h"

namespace fleet::n8n {

// Retries only what may pass by itself: timeouts, connection failures, 429 and 5xx. Exponential
// backoff with full jitter, capped; a 429's Retry-After wins when it is longer.
struct RetryPolicy {
  int max_attempts{3};
  std::chrono::milliseconds base_delay{std::chrono::milliseconds(500)};
  std::chrono::milliseconds max_delay{std::chrono::seconds(30)};
};

// True for kTimeout/kUnavailable transport errors and HTTP 429/5xx answers, except 501 (not
// implemented, e.g. token exchange switched off: retrying cannot help).
bool IsRetryable(const Result<HttpResponse>& outcome);

// The pause before attempt `attempt` (1 = the first retry): random01 * min(max,
// base*2^(attempt-1)), or Retry-After when the last answer was a 429 carrying a longer one.
// `random01` in [0,1).
std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt,
                                       const Result<HttpResponse>& last, double random01);

// Runs `attempt_fn(attempt)` (attempt counts from 0) until it gives a non-retryable outcome or
// the attempts run out, sleeping through `sleep_fn` in between; returns the last outcome. The
// function builds a fresh request each time (a token exchange must mint a fresh jti per
// attempt). A 429 whose Retry-After exceeds max_delay ends the retries at once: waiting is
// longer than the policy allows and retrying sooner would only be refused again.
// `random01` draws the jitter (empty: a per-thread PRNG); tests pass a fixed one.
Result<HttpResponse> WithRetries(const RetryPolicy& policy,
                                 const std::function<Result<HttpResponse>(int attempt)>& attempt_fn,
                                 const std::function<void(std::chrono::milliseconds)>& sleep_fn,
                                 const std::function<double()>& random01 = {});

}  // namespace fleet::n8n
