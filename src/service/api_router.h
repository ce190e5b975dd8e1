#pragma once

// Internal to the HTTP API: routing, authentication and the JSON helpers the route files share.

#include <httplib.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/time.h"
#include "core/types.h"
#include "service/api_params.h"
#include "service/http_server.h"
#include "service/store_pool.h"

namespace fleet::service::api {

enum class Access {
  kPublic,       // no token
  kApiToken,     // an API token; a read-only one only on GET
  kReportToken,  // a server's report token (instance-reporting push)
};

// One request being handled: its path parameters, its token and a store borrowed on first use.
class Call {
 public:
  Call(const ServiceDeps& deps, const httplib::Request& req, httplib::Response& res, int64_t now)
      : deps(deps), req(req), res(res), now(now) {}

  // The request's store (borrowed from the pool for the request's duration).
  Result<storage::Store*> Store();
  // The query parameter, if present (an empty value counts as present).
  std::optional<std::string> Query(const std::string& name) const;

  const ServiceDeps& deps;
  const httplib::Request& req;
  httplib::Response& res;
  int64_t now{};
  std::map<std::string, std::string> path_params{};
  std::optional<ApiToken> token{};

 private:
  std::optional<StorePool::Lease> lease_{};
};

using Handler = std::function<void(Call&)>;

struct Route {
  std::string method{};  // GET | POST
  // "/api/v1/runs/{id}": {x} matches one path segment; a final "*" the rest of the path.
  std::string pattern{};
  Access access{Access::kApiToken};
  Handler handler{};
};

// Matches a path to a route (404 when none, 405 with Allow when only the method differs),
// authenticates, and runs the handler. Records the route and token for the access log.
class Router {
 public:
  explicit Router(const ServiceDeps& deps) : deps_(deps) {}
  void Add(std::string method, std::string pattern, Access access, Handler handler);
  void Dispatch(const httplib::Request& req, httplib::Response& res);
  // Every route, in the order added (tests check each one's authentication).
  const std::vector<Route>& routes() const { return routes_; }

 private:
  bool Authenticate(Call& call, Access access);
  void TouchThrottled(storage::Store& store, const ApiToken& token, int64_t now);

  const ServiceDeps& deps_;
  std::vector<Route> routes_;
  std::mutex touch_mu_;
  std::map<int64_t, int64_t> touched_at_;  // token id -> last TouchApiToken
};

// What the access log and metrics need about the request the calling thread is serving.
struct RequestContext {
  std::chrono::steady_clock::time_point start{};
  bool started{false};
  std::string route{};
  std::string token_name{};
};
RequestContext& CurrentRequest();  // thread-local

inline constexpr int64_t kTouchIntervalSeconds = 60;

int HttpStatusOf(ErrorCode code);
std::string_view ErrorNameOf(int status);  // "bad_request", "not_found", ...

void SendJson(httplib::Response& res, int status, const nlohmann::json& body);
// {"error":{"code","message"[,"parameter"]}}.
void SendError(httplib::Response& res, int status, const std::string& message,
               const std::string& parameter = "");
void SendFailure(httplib::Response& res, const Error& error, const std::string& parameter = "");

// ISO-8601 UTC or null.
nlohmann::json TimeOrNull(std::optional<int64_t> unix_seconds);

// ?from=&to= as days, defaulting to [default_from, default_to]; checks from <= to and the span
// (at most kMaxRangeDays). Sends the 400 itself and returns nullopt on a bad value.
std::optional<std::pair<Day, Day>> DayRangeParams(Call& call, Day default_from, Day default_to);

// Route registration, one function per file; AddAllRoutes calls each (what the service serves).
void AddAllRoutes(Router& router);
void AddPublicRoutes(Router& router);  // api_public.cc: health, readiness, JWKS, metrics, assets
void AddReadRoutes(Router& router);    // api_read.cc: servers, usage, runs, gaps
void AddReportRoutes(Router& router);  // api_reports.cc: monthly report, collect
void AddPushRoutes(Router& router);    // api_push.cc: instance reports

}  // namespace fleet::service::api
