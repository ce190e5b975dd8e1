#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "testing/n8n_rules.h"

namespace fleet::testing {

// A fake n8n instance on 127.0.0.1 (port chosen by the kernel), behaving like n8n 2.40.7 as
// described in n8n-reference.md: /healthz; the public API under /api/v1 with X-N8N-API-KEY or a
// Bearer token from the token exchange (POST /rest/auth/oauth/token, fake_n8n_exchange.cc); the
// Insights summary with n8n's window rules (fake_n8n_insights.cc). Its switches inject faults.
// Routes are small functions listed in one table in fake_n8n.cc; add new ones there.
// Test-only: never linked into the product.
class FakeN8n {
 public:
  enum class Fault {
    kNone,
    kServerError,  // every route answers 500
    kHang,         // every route sleeps `hang_ms` before answering
    kGarbage,      // 200 with a non-JSON body
    kHtmlLogin,    // 200 with an HTML login page
    // The route answers, then its body goes wrong on the wire:
    kResetMidBody,  // headers and half of the body are sent, then the connection is closed
    kSlowBody,      // the body is sent one byte every `hang_ms` (default 1000: 1 byte/s)
    // Instead of the route:
    kHugeBody,     // 200 JSON announcing 1 GiB, streamed until the client hangs up
    kInvalidUtf8,  // 200 Insights-shaped JSON with invalid UTF-8 (0xFF 0xFE) in a string
  };

  // One entry of N8N_TOKEN_EXCHANGE_TRUSTED_KEYS (static form); see n8n_rules.h.
  using TrustedKey = rules::TrustedKey;
  enum class TokenExchangeMode {
    kEnabled,    // the default
    kDisabled,   // N8N_TOKEN_EXCHANGE_ENABLED=false: 501 server_error
    kNotLoaded,  // module not loaded (no licence flag): 404
  };
  // One UTC day of Insights figures (production executions only, as n8n counts them).
  struct DailyInsights {
    int64_t total{};  // successes + failures
    int64_t failed{};
    double time_saved_minutes{};
    double total_runtime_ms{};
  };

  FakeN8n();
  ~FakeN8n();  // stops the server and joins its thread
  FakeN8n(const FakeN8n&) = delete;
  FakeN8n& operator=(const FakeN8n&) = delete;

  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"

  // API keys the instance accepts on /api/v1.
  void AcceptApiKey(const std::string& key);
  void SetFault(Fault fault, int hang_ms = 0);
  // Body bytes the kHugeBody and kSlowBody faults got onto the wire (into the socket's buffers).
  int64_t FaultBodyBytesSent() const;

  // The next `n` requests, on any route, answer `status` with JSON {"message"} (and Retry-After
  // when retry_after_seconds >= 0); later ones are served normally. E.g. FailNext(1, 429, 2).
  void FailNext(int n, int status, int retry_after_seconds = -1);

  // Token exchange. Aborts on a key n8n would refuse to start with (bad PEM, no algorithms,
  // HMAC or none).
  void TrustKey(const TrustedKey& key);
  void SetTokenExchange(TokenExchangeMode mode);
  void SetOwnerEmail(const std::string& email);  // the owner is never a valid subject
  void SetAccessTokenTtl(int seconds);           // N8N_TOKEN_EXCHANGE_MAX_TOKEN_TTL, default 900
  void SetExchangeRateLimit(int per_minute);     // 0 (default) = off; past it 429 + Retry-After
  int ExchangeCount() const;                     // access tokens issued
  // The instance's clock runs `seconds` ahead (negative: behind) of the real one: the token
  // exchange checks exp with it and every response's Date header shows it.
  void SetClockSkew(int seconds);
  // Why each refused exchange failed, in order (n8n only ever says invalid_grant): "malformed",
  // "invalid_claims", "token_replay", "unknown_key", "algorithm", "bad_signature", "expired",
  // "not_yet_valid", "audience", "missing_email", "email_not_verified", "role", "owner".
  std::vector<std::string> ExchangeFailureReasons() const;

  // Insights. Days are "YYYY-MM-DD" (UTC); a bad day aborts. "Today" defaults to the real UTC
  // day; when set, "now" is that day at the real time of day.
  void SetDailyInsights(const std::string& day, const DailyInsights& figures);
  void SetToday(const std::string& day);
  void SetHistoryDays(int days);  // the licence's insights history, default 365

  // Workflows: GET/POST /api/v1/workflows (list with limit/cursor, create), GET/PUT/DELETE
  // /api/v1/workflows/:id, POST .../activate and .../deactivate, kept in memory with the fields
  // n8n returns (versionId and updatedAt change on every save). Bodies are checked like n8n does:
  // an unknown field or settings key is 400 "... must NOT have additional properties"; activating
  // needs a trigger or webhook node. Ids are "1", "2", ... in order of addition, or like n8n's
  // after UseN8nWorkflowIds().
  // Adds a workflow with this name (inactive, no nodes) and returns its id.
  std::string AddWorkflow(const std::string& name);
  // Adds a workflow whose fields `fields` overrides (e.g. nodes, active, settings; "id" too) and
  // returns its id.
  std::string SeedWorkflow(const nlohmann::json& fields);
  // From now on new workflows get 16-character ids of [0-9A-Za-z] like n8n's (deterministic).
  void UseN8nWorkflowIds();
  // The stored workflow, as GET /api/v1/workflows/:id would answer it.
  std::optional<nlohmann::json> Workflow(const std::string& id) const;
  std::vector<nlohmann::json> Workflows() const;  // in list order

  // Requests seen, for assertions: "GET /api/v1/workflows?limit=1".
  std::vector<std::string> Requests() const;
  // The same with headers (names lower-cased) and bodies.
  struct RecordedRequest {
    std::string method{};
    std::string target{};  // path and query as sent
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    int remote_port{};                                        // tells connections apart
    std::string Header(const std::string& lower_name) const;  // first value, or ""
  };
  std::vector<RecordedRequest> RecordedRequests() const;

  // Most requests handled at the same time since construction or ResetStats().
  int MaxConcurrent() const;
  // Forgets recorded requests and the concurrency high-water mark.
  void ResetStats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A port on 127.0.0.1 where nothing listens (bound by the kernel, then closed): connecting to it
// is refused.
int ClosedLocalPort();

// A workflow n8n accepts and can activate, for tests: one Webhook node (id "n1", webhookId "w1")
// listening on `path`, settings {executionOrder: v1}.
nlohmann::json WebhookWorkflow(const std::string& name, const std::string& path = "hook");

}  // namespace fleet::testing
