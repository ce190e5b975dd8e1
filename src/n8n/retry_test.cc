#include "n8n/retry.h"

#include <chrono>
#include <vector>

#include <gtest/gtest.h>

namespace fleet::n8n {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

Result<HttpResponse> Status(int status, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  return response;
}

Result<HttpResponse> Failure(ErrorCode code) { return MakeError(code, "transport failed"); }

// Runs WithRetries over a script of outcomes, recording attempts and pauses.
struct Script {
  std::vector<Result<HttpResponse>> outcomes;
  std::vector<int> attempts{};
  std::vector<milliseconds> sleeps{};

  Result<HttpResponse> Run(const RetryPolicy& policy, double random01 = 0.5) {
    return WithRetries(
        policy,
        [this](int attempt) {
          attempts.push_back(attempt);
          return outcomes[std::min<size_t>(static_cast<size_t>(attempt), outcomes.size() - 1)];
        },
        [this](milliseconds pause) { sleeps.push_back(pause); }, [random01] { return random01; });
  }
};

TEST(IsRetryableTest, RetriesOnlyWhatMayPassByItself) {
  EXPECT_TRUE(IsRetryable(Failure(ErrorCode::kTimeout)));
  EXPECT_TRUE(IsRetryable(Failure(ErrorCode::kUnavailable)));
  EXPECT_TRUE(IsRetryable(Status(429)));
  EXPECT_TRUE(IsRetryable(Status(500)));
  EXPECT_TRUE(IsRetryable(Status(502)));
  EXPECT_TRUE(IsRetryable(Status(503)));

  EXPECT_FALSE(IsRetryable(Failure(ErrorCode::kBadResponse)));
  EXPECT_FALSE(IsRetryable(Failure(ErrorCode::kInvalidArgument)));
  EXPECT_FALSE(IsRetryable(Status(200)));
  EXPECT_FALSE(IsRetryable(Status(400)));
  EXPECT_FALSE(IsRetryable(Status(401)));
  EXPECT_FALSE(IsRetryable(Status(403)));
  EXPECT_FALSE(IsRetryable(Status(404)));
  EXPECT_FALSE(IsRetryable(Status(501)));  // token exchange switched off: retrying cannot help
}

TEST(BackoffDelayTest, GrowsExponentiallyWithinTheCap) {
  RetryPolicy policy{5, milliseconds(500), seconds(3)};
  const auto last = Status(503);
  // random01 just under 1: the ceiling itself.
  EXPECT_EQ(BackoffDelay(policy, 1, last, 0.999999), milliseconds(499));
  EXPECT_EQ(BackoffDelay(policy, 2, last, 0.999999), milliseconds(999));
  EXPECT_EQ(BackoffDelay(policy, 3, last, 0.999999), milliseconds(1999));
  EXPECT_EQ(BackoffDelay(policy, 4, last, 0.999999), milliseconds(2999));  // capped
  EXPECT_EQ(BackoffDelay(policy, 60, last, 0.999999), milliseconds(2999));
  EXPECT_EQ(BackoffDelay(policy, 3, last, 0.5), milliseconds(1000));
  EXPECT_EQ(BackoffDelay(policy, 3, last, 0.0), milliseconds(0));
}

TEST(BackoffDelayTest, FullJitterStaysInBounds) {
  RetryPolicy policy{5, milliseconds(100), seconds(1)};
  for (int attempt = 1; attempt <= 8; ++attempt) {
    for (double r : {0.0, 0.1, 0.37, 0.5, 0.9, 0.9999}) {
      milliseconds delay = BackoffDelay(policy, attempt, Status(500), r);
      EXPECT_GE(delay, milliseconds(0));
      EXPECT_LE(delay, std::min<milliseconds>(milliseconds(100 << (attempt - 1)), seconds(1)));
    }
  }
}

TEST(BackoffDelayTest, RetryAfterWinsWhenLonger) {
  RetryPolicy policy{3, milliseconds(500), seconds(30)};
  EXPECT_EQ(BackoffDelay(policy, 1, Status(429, {{"retry-after", "5"}}), 0.5), seconds(5));
  // Shorter than the jittered backoff: the backoff stands.
  EXPECT_EQ(BackoffDelay(policy, 4, Status(429, {{"retry-after", "1"}}), 0.5), seconds(2));
  // Only a 429's Retry-After counts.
  EXPECT_EQ(BackoffDelay(policy, 1, Status(503, {{"retry-after", "5"}}), 0.5), milliseconds(250));
}

TEST(WithRetriesTest, RetriesUntilSuccess) {
  Script script{{Failure(ErrorCode::kTimeout), Status(503), Status(200)}};

  Result<HttpResponse> outcome = script.Run(RetryPolicy{3, milliseconds(100), seconds(1)});

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, 200);
  EXPECT_EQ(script.attempts, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(script.sleeps, (std::vector<milliseconds>{milliseconds(50), milliseconds(100)}));
}

TEST(WithRetriesTest, GivesUpAfterMaxAttemptsWithTheLastOutcome) {
  Script script{{Status(500), Status(502), Status(503), Status(200)}};

  Result<HttpResponse> outcome = script.Run(RetryPolicy{3, milliseconds(100), seconds(1)});

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, 503);
  EXPECT_EQ(script.attempts, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(script.sleeps.size(), 2u);
}

TEST(WithRetriesTest, StopsAtOnceOnNonRetryableOutcomes) {
  for (auto first : {Status(401), Status(400), Failure(ErrorCode::kBadResponse), Status(200)}) {
    Script script{{first, Status(200)}};

    Result<HttpResponse> outcome = script.Run(RetryPolicy{});

    EXPECT_EQ(outcome.has_value(), first.has_value());
    if (outcome) {
      EXPECT_EQ(outcome->status, first->status);
    }
    EXPECT_EQ(script.attempts, std::vector<int>{0});
    EXPECT_TRUE(script.sleeps.empty());
  }
}

TEST(WithRetriesTest, HonoursRetryAfterOfA429) {
  Script script{{Status(429, {{"retry-after", "3"}}), Status(200)}};

  Result<HttpResponse> outcome = script.Run(RetryPolicy{3, milliseconds(500), seconds(30)});

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, 200);
  EXPECT_EQ(script.sleeps, std::vector<milliseconds>{seconds(3)});
}

TEST(WithRetriesTest, ReturnsA429WhoseRetryAfterExceedsTheCap) {
  Script script{{Status(429, {{"retry-after", "120"}}), Status(200)}};

  Result<HttpResponse> outcome = script.Run(RetryPolicy{3, milliseconds(500), seconds(30)});

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->status, 429);
  EXPECT_EQ(script.attempts, std::vector<int>{0});
  EXPECT_TRUE(script.sleeps.empty());
}

TEST(WithRetriesTest, AtLeastOneAttempt) {
  Script script{{Status(503)}};

  Result<HttpResponse> outcome = script.Run(RetryPolicy{0, milliseconds(1), milliseconds(1)});

  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(script.attempts, std::vector<int>{0});
}

}  // namespace
}  // namespace fleet::n8n
