#pragma once

// n8n 2.40.7's rules for the two routes the collector depends on (n8n-reference.md sections 1
// and 2), as pure functions shared by the fake n8n (one instance, cpp-httplib) and the fake fleet
// (thousands of instances, one epoll loop), so both fakes answer exactly alike.
// Test-only: never linked into the product.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/time.h"

struct evp_pkey_st;  // OpenSSL's EVP_PKEY, kept out of this header

namespace fleet::testing::rules {

using Json = nlohmann::json;
using Fields = std::map<std::string, std::string>;

constexpr char kTokenExchangePath[] = "/rest/auth/oauth/token";
constexpr char kInsightsSummaryPath[] = "/api/v1/insights/summary";

// ---- Token exchange ----

// One entry of N8N_TOKEN_EXCHANGE_TRUSTED_KEYS (static form).
struct TrustedKey {
  std::string kid{};
  std::string issuer{};
  std::string public_pem{};               // SPKI "-----BEGIN PUBLIC KEY-----"
  std::vector<std::string> algorithms{};  // required, e.g. {"RS256"}; RS256 and ES256 verify
  std::vector<std::string> allowed_roles{};
  std::optional<std::string> expected_audience{};
  bool require_verified_email{true};
};

// The value of N8N_TOKEN_EXCHANGE_TRUSTED_KEYS (a JSON array of static entries), as
// `n8n-fleet key env --format json` prints it. JWKS entries are refused (the fakes fetch nothing).
Result<std::vector<TrustedKey>> ParseTrustedKeys(std::string_view json_array);

// How an instance judges subject tokens beyond its trusted keys.
struct SubjectPolicy {
  std::string owner_email{};  // the owner is never a valid subject
  int access_token_ttl{900};  // N8N_TOKEN_EXCHANGE_MAX_TOKEN_TTL
  // When set, replaces every key's expectedAudience: a fleet instance configured with
  // `key env --server <itself>` expects its own URL.
  std::optional<std::string> audience_override{};
};

// What an exchange yields: an access token's lifetime and role, or the hidden reason it failed
// (n8n only ever says invalid_grant): "malformed", "invalid_claims", "token_replay",
// "unknown_key", "algorithm", "bad_signature", "expired", "not_yet_valid", "audience",
// "missing_email", "email_not_verified", "role", "owner".
struct Verdict {
  std::string reason{};  // "" on success
  int64_t expires_in{};
  std::string role{};
};

// Trusted keys with their public keys parsed once (PEM decoding costs more than a verification).
class Keyring {
 public:
  Keyring();
  ~Keyring();
  Keyring(Keyring&&) noexcept;
  Keyring& operator=(Keyring&&) noexcept;

  // Adds `key`, or returns the reason n8n 2.40.7 would refuse to start with it (bad PEM, no
  // algorithms, HMAC or none) and adds nothing. "" on success.
  std::string Add(const TrustedKey& key);
  size_t size() const;

  // Every check of n8n's TokenExchangeService. The jti is recorded in `used_jtis` as soon as it
  // can be read, so a failed exchange burns it too.
  Verdict Verify(std::string_view jwt, int64_t now, const SubjectPolicy& policy,
                 std::set<std::string>& used_jtis) const;

 private:
  struct Entry {
    TrustedKey key{};
    std::shared_ptr<evp_pkey_st> public_key{};
  };
  std::vector<Entry> entries_{};
};

// The exchange request's fields: form-encoded, or a JSON object of strings (n8n accepts both).
Fields ReadExchangeFields(std::string_view content_type, std::string_view body);

// The answer to POST /rest/auth/oauth/token once the route is enabled and not rate limited.
struct ExchangeAnswer {
  int status{};
  Json body{};
  Verdict verdict{};    // reason "" when a token was issued
  std::string token{};  // the issued opaque access token
};
ExchangeAnswer AnswerExchange(const Keyring& keys, const SubjectPolicy& policy,
                              std::set<std::string>& used_jtis, std::string_view content_type,
                              std::string_view body, int64_t now);

// 64 random hex digits.
std::string RandomToken();

// ---- Insights summary ----

struct InsightsTotals {
  int64_t total{};
  int64_t failed{};
  double time_saved{};  // minutes
  double runtime{};     // milliseconds, summed over executions
  void Add(const InsightsTotals& other);
};

struct Window {
  int64_t start{};  // inclusive, unix seconds
  int64_t end{};    // exclusive
  // A day counts when its 00:00Z lies inside, the way n8n's compacted buckets do.
  bool Contains(Day day) const;
};

// The request as n8n sees it: the raw target (for the URL-encoding check) and the decoded
// startDate/endDate parameters when present.
struct InsightsQuery {
  std::string_view target{};
  std::optional<std::string> start_date{};
  std::optional<std::string> end_date{};
};

// status 200 with the windows to sum, or the refusal n8n answers ({"message": message}).
struct WindowAnswer {
  int status{200};
  std::string message{};
  Window current{};
  Window previous{};  // same length, just before: for `deviation`
};

// n8n's validation and window rules on an instance whose UTC day is `today` at time `now`:
// URL-encoding, dates, end before start, < 1 day (403), beyond `history_days` (403); a window
// whose endDate is not today widens to [start's day, the day after endDate's day).
WindowAnswer DecideInsightsWindow(const InsightsQuery& query, Day today, int64_t now,
                                  int history_days);

// The summary body: current figures; deviation = current - previous (null when the previous
// period had no executions), like n8n.
Json InsightsSummaryJson(const InsightsTotals& current, const InsightsTotals& previous);

// Whether n8n 2.40.7's public API accepts `key` in a workflow's settings on a create or an update
// (tests/real_n8n/WORKFLOWS.md 1; binaryMode and credentialResolverId are accepted and dropped).
bool IsWorkflowSettingKey(std::string_view key);

}  // namespace fleet::testing::rules
