#include "n8n/retry.h"

#include <algorithm>
#include <random>

#include "n8n/token_exchange.h"

namespace fleet::n8n {
namespace {

constexpr int kTooManyRequests = 429;
constexpr int kNotImplemented = 501;
constexpr int kMaxDoublings = 40;  // base * 2^40 exceeds any sensible max_delay

double DefaultRandom01() {
  thread_local std::mt19937_64 engine{std::random_device{}()};
  return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
}

}  // namespace

bool IsRetryable(const Result<HttpResponse>& outcome) {
  if (!outcome) {
    return outcome.error().code == ErrorCode::kTimeout ||
           outcome.error().code == ErrorCode::kUnavailable;
  }
  int status = outcome->status;
  return status == kTooManyRequests || (status >= 500 && status < 600 && status != kNotImplemented);
}

std::chrono::milliseconds BackoffDelay(const RetryPolicy& policy, int attempt,
                                       const Result<HttpResponse>& last, double random01) {
  const int64_t max_ms = std::max<int64_t>(policy.max_delay.count(), 0);
  int64_t ceiling = std::min<int64_t>(std::max<int64_t>(policy.base_delay.count(), 0), max_ms);
  for (int i = 1; i < std::min(attempt, kMaxDoublings) && ceiling < max_ms; ++i) {
    ceiling = std::min(ceiling * 2, max_ms);
  }
  double fraction = std::clamp(random01, 0.0, 1.0);
  auto delay = static_cast<int64_t>(fraction * static_cast<double>(ceiling));
  if (last && last->status == kTooManyRequests) {
    int retry_after = RetryAfterSeconds(*last);
    if (retry_after >= 0) delay = std::max<int64_t>(delay, int64_t{retry_after} * 1000);
  }
  return std::chrono::milliseconds(delay);
}

Result<HttpResponse> WithRetries(const RetryPolicy& policy,
                                 const std::function<Result<HttpResponse>(int attempt)>& attempt_fn,
                                 const std::function<void(std::chrono::milliseconds)>& sleep_fn,
                                 const std::function<double()>& random01) {
  const int attempts = std::max(policy.max_attempts, 1);
  Result<HttpResponse> outcome = attempt_fn(0);
  for (int attempt = 1; attempt < attempts && IsRetryable(outcome); ++attempt) {
    double draw = random01 ? random01() : DefaultRandom01();
    std::chrono::milliseconds delay = BackoffDelay(policy, attempt, outcome, draw);
    if (delay > policy.max_delay) break;  // only a Retry-After can exceed it
    sleep_fn(delay);
    outcome = attempt_fn(attempt);
  }
  return outcome;
}

}  // namespace fleet::n8n
