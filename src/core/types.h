#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace fleet {

// How the service authenticates to an instance.
enum class AuthMode {
  kApiKey,         // X-N8N-API-KEY with the server's primary (or only active) linked key
  kTokenExchange,  // RFC 8693: a signed subject JWT swapped for a bearer token
};

std::string_view AuthModeName(AuthMode mode);  // "api-key" | "token-exchange"
std::optional<AuthMode> ParseAuthMode(std::string_view text);

// An n8n instance, belonging to a customer (the billing account).
struct Server {
  int64_t id{};
  std::string name{};         // unique, UTF-8
  std::string url{};          // base URL, validated, without trailing slash
  std::string customer{};     // may be empty
  std::string description{};  // may be empty
  bool skip_tls_verify{false};
  AuthMode auth{AuthMode::kApiKey};
  std::string subject_email{};  // token exchange: the service identity's email ("" = default)
  std::string subject_role{};   // token exchange: role for the identity ("" = default)
  bool active{true};
  std::string tracking_since{};  // YYYY-MM-DD, first day whose usage is tracked
  int64_t created_at{};          // unix seconds, UTC
  int64_t updated_at{};
};

// An n8n API key kept under a name. The secret is only ever held sealed here; the registry
// module seals and opens it.
struct ApiKey {
  int64_t id{};
  std::string name{};
  std::string sealed_secret{};  // crypto::Sealer output (binary)
  std::string masked{};         // e.g. "eyJhbG…Y_Yw": safe to print
  std::string description{};
  bool active{true};
  std::optional<int64_t> issued_at{};   // the JWT's iat, if any
  std::optional<int64_t> expires_at{};  // the JWT's exp, if any
  int64_t created_at{};                 // when it was added here
  std::optional<int64_t> last_used_at{};
  std::vector<std::string> servers{};  // names of linked servers (filled by list/get)
};

// A key as seen from one server it is linked to.
struct LinkedKey {
  std::string key_name{};
  std::string description{};
  bool active{true};
  bool primary{false};
  int64_t linked_at{};
};

// A key pair the service signs token-exchange subject JWTs with. Exactly one key is active
// (signs); standby keys are published (JWKS, `key env`) for rotation without downtime; retired
// keys are neither.
enum class SigningKeyState { kActive, kStandby, kRetired };

std::string_view SigningKeyStateName(SigningKeyState state);  // "active" | "standby" | "retired"

struct SigningKey {
  int64_t id{};
  std::string kid{};                 // unique
  std::string alg{};                 // "RS256" | "ES256"
  std::string issuer{};              // iss claim; a URL
  std::string sealed_private_key{};  // crypto::Sealer output of the PKCS#8 PEM
  std::string public_pem{};          // SPKI PEM, not secret
  SigningKeyState state{SigningKeyState::kStandby};
  int64_t created_at{};
  std::optional<int64_t> activated_at{};
  std::optional<int64_t> retired_at{};
};

// One (server, day) of usage: the executions n8n counted in [day 00:00Z, day+1 00:00Z).
// Unique per (server, day): re-collecting replaces the row, never adds to it.
struct DailyUsage {
  std::string server{};    // server name
  std::string customer{};  // filled when read
  std::string day{};       // YYYY-MM-DD (UTC)
  int64_t total{};         // production executions: success + failure (n8n's Insights `total`)
  int64_t failed{};
  double failure_rate{};  // failed / total, 0 when total is 0
  double time_saved_minutes{};
  double average_run_time_ms{};
  std::string raw_json{};  // the Insights answers the figures were derived from
  int64_t collected_at{};
  int64_t run_id{};  // the collection run that stored it (0: none)
  std::string n8n_version{};
  std::string source{"pull"};  // "pull" (Insights API) | "push" (instance-reporting)
};

// A (server, day) that can no longer be read (beyond the instance's Insights history).
struct UnrecoverableDay {
  std::string server{};
  std::string day{};
  std::string reason{};
  int64_t recorded_at{};
};

enum class RunStatus { kRunning, kSucceeded, kPartial, kFailed, kInterrupted };
std::string_view RunStatusName(RunStatus status);  // running|succeeded|partial|failed|interrupted
std::optional<RunStatus> ParseRunStatus(std::string_view text);

// One `collect` (or scheduled) run.
struct CollectionRun {
  int64_t id{};
  int64_t started_at{};
  std::optional<int64_t> finished_at{};
  RunStatus status{RunStatus::kRunning};
  std::string description{};  // what was asked: days, servers
  int64_t servers_attempted{};
  int64_t servers_succeeded{};
  int64_t servers_failed{};
  int64_t days_stored{};
};

// What happened to one (server, day) in a run. Outcomes: ok, auth_error, http_status, timeout,
// unreachable, bad_response, beyond_history, skipped.
struct FetchAttempt {
  int64_t run_id{};
  std::string server{};
  std::string day{};
  std::string outcome{};
  int http_status{};  // 0 when no HTTP answer
  int64_t duration_ms{};
  std::string message{};
  int64_t at{};
};

// A bearer token for the service's HTTP API, or an instance's token for pushing its reports.
// Only a hash of the token is stored; the token itself is shown once, when it is created.
struct ApiToken {
  int64_t id{};
  std::string name{};        // unique
  std::string token_hash{};  // lower-case hex SHA-256 of the whole token
  std::string prefix{};      // the token's first characters, safe to print (e.g. "nft_3xK9")
  bool read_only{false};     // API tokens: GET routes only
  std::string server{};      // "" = an API token; else the server this report token pushes for
  int64_t created_at{};
  std::optional<int64_t> last_used_at{};
  std::optional<int64_t> revoked_at{};  // revoked tokens authenticate nothing
};

// One batch an instance pushed to POST /api/v1/instance-reports (n8n's instance-reporting
// module). Its daily data points are stored as DailyUsage rows with source "push".
struct InstanceReport {
  std::string server{};    // the server whose report token sent it
  std::string batch_id{};  // unique per server: a batch seen again is refused (HTTP 409)
  std::string instance_id{};
  std::string label{};
  std::string n8n_version{};
  int64_t received_at{};
  std::string payload_json{};  // the body as received, minus the licence certificate
};

// A workflow kept as a local file and known to the database (`wf pull` / `wf push`), with its id
// on each server it was pulled from or pushed to (ids differ between instances).
struct WorkflowMapping {
  std::string server{};             // server name
  std::string remote_id{};          // the workflow's id on that server
  std::string remote_updated_at{};  // the server's updatedAt after the last pull or push
  std::string last_action{};        // "pull" or "push"
  int64_t last_at{};                // when (unix seconds)
};

struct LocalWorkflow {
  int64_t id{};
  std::string name{};         // the workflow's name; unique among local workflows
  std::string file{};         // absolute path of its file; unique
  std::string file_sha256{};  // hex SHA-256 of the file as pull last wrote it or push last sent it
  int64_t created_at{};
  int64_t updated_at{};
  std::vector<WorkflowMapping> mappings{};  // by server name
};

}  // namespace fleet
