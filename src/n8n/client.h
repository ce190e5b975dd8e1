#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "n8n/http.h"

namespace fleet::n8n {

// Every n8n path and header the product uses lives in this module (n8n-reference.md).

// How to authenticate one call to the public API.
struct ApiAuth {
  std::string header_name{};   // "X-N8N-API-KEY" or "Authorization"
  std::string header_value{};  // the key, or "Bearer <token>"
  static ApiAuth ApiKey(std::string key) { return {"X-N8N-API-KEY", std::move(key)}; }
  static ApiAuth Bearer(const std::string& token) { return {"Authorization", "Bearer " + token}; }
};

struct Endpoint {
  std::string base_url{};  // normalised, no trailing slash
  bool verify_tls{true};
};

HttpRequest HealthRequest(const Endpoint& endpoint);
// GET /api/v1/workflows?limit=N[&cursor=C]
HttpRequest ListWorkflowsRequest(const Endpoint& endpoint, const ApiAuth& auth, int limit,
                                 const std::string& cursor = "");

// Turns a non-2xx answer from the public API into an actionable error naming `server`
// (401 -> kUnauthenticated "the API key was refused ...", 403, 404, 429, 5xx, HTML bodies...).
Error DescribeApiFailure(const HttpResponse& response, std::string_view server);

// One step of `apikey test` / `server test`.
struct CheckStep {
  std::string name{};  // "shape", "reachable", "authenticated", "not expired"
  bool ok{false};
  std::string detail{};  // what was found, or why it failed and what to do
};

struct KeyCheckReport {
  std::vector<CheckStep> steps{};
  bool ok() const;
};

// `apikey test`: shape check, GET /healthz, GET /api/v1/workflows?limit=1 with the key, expiry
// from the JWT's exp against `now`. Stops calling the server after the first network failure
// but always reports every step (skipped steps have ok=false and detail "skipped: ...").
KeyCheckReport TestApiKey(HttpTransport& transport, const Endpoint& endpoint,
                          const std::string& api_key, int64_t now);

}  // namespace fleet::n8n
