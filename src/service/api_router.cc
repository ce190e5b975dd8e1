#include "service/api_router.h"

#include <cctype>
#include <utility>

#include "registry/api_tokens.h"

namespace fleet::service::api {
namespace {

std::vector<std::string_view> Segments(std::string_view path) {
  std::vector<std::string_view> out;
  size_t start = 1;  // paths begin with '/'
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

bool Match(std::string_view pattern, std::string_view path,
           std::map<std::string, std::string>& params) {
  if (path.empty() || path[0] != '/') return false;
  auto want = Segments(pattern);
  auto have = Segments(path);
  // A final "*" matches the rest of the path (one segment or more).
  bool rest = !want.empty() && want.back() == "*";
  if (rest ? have.size() < want.size() : want.size() != have.size()) return false;
  std::map<std::string, std::string> found;
  for (size_t i = 0; i < want.size(); ++i) {
    std::string_view w = want[i];
    if (rest && i + 1 == want.size()) break;
    if (w.size() > 2 && w.front() == '{' && w.back() == '}') {
      if (have[i].empty()) return false;
      found[std::string(w.substr(1, w.size() - 2))] = std::string(have[i]);
    } else if (w != have[i]) {
      return false;
    }
  }
  params = std::move(found);
  return true;
}

std::optional<std::string> BearerToken(const httplib::Request& req) {
  if (!req.has_header("Authorization")) return std::nullopt;
  std::string value = req.get_header_value("Authorization");
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() <= kScheme.size()) return std::string();
  for (size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::string();
  }
  return value.substr(kScheme.size());
}

}  // namespace

RequestContext& CurrentRequest() {
  thread_local RequestContext context;
  return context;
}

Result<storage::Store*> Call::Store() {
  if (!lease_) {
    auto lease = deps.stores->Acquire();
    if (!lease) return tl::unexpected(lease.error());
    lease_.emplace(std::move(*lease));
  }
  return &**lease_;
}

std::optional<std::string> Call::Query(const std::string& name) const {
  return QueryValue(req.params, name);
}

void AddAllRoutes(Router& router) {
  AddPublicRoutes(router);
  AddReadRoutes(router);
  AddReportRoutes(router);
  AddPushRoutes(router);
}

void Router::Add(std::string method, std::string pattern, Access access, Handler handler) {
  routes_.push_back(Route{std::move(method), std::move(pattern), access, std::move(handler)});
}

void Router::Dispatch(const httplib::Request& req, httplib::Response& res) {
  std::string method = req.method == "HEAD" ? "GET" : req.method;
  const Route* found = nullptr;
  std::map<std::string, std::string> params;
  std::string allow;
  for (const auto& route : routes_) {
    std::map<std::string, std::string> candidate;
    if (!Match(route.pattern, req.path, candidate)) continue;
    if (route.method == method) {
      found = &route;
      params = std::move(candidate);
      break;
    }
    if (allow.find(route.method) == std::string::npos) {
      allow += (allow.empty() ? "" : ", ") + route.method;
    }
  }
  if (found == nullptr && !allow.empty()) {
    res.set_header("Allow", allow);
    SendError(
        res, 405,
        "method " + req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")");
    return;
  }
  if (found == nullptr) {
    SendError(res, 404, "no such route: " + req.path + "; the API is described in openapi.json");
    return;
  }
  CurrentRequest().route = found->pattern;
  Call call(deps_, req, res, deps_.clock->NowUnixSeconds());
  call.path_params = std::move(params);
  if (!Authenticate(call, found->access)) return;
  found->handler(call);
}

bool Router::Authenticate(Call& call, Access access) {
  if (access == Access::kPublic) return true;
  auto bearer = BearerToken(call.req);
  if (!bearer || bearer->empty()) {
    call.res.set_header("WWW-Authenticate", "Bearer");
    SendError(call.res, 401,
              "missing bearer token: send 'Authorization: Bearer <token>' (create one with "
              "`n8n-fleet token create NAME`)");
    return false;
  }
  auto store = call.Store();
  if (!store) {
    SendFailure(call.res, store.error());
    return false;
  }
  auto token = registry::AuthenticateToken(**store, *bearer);
  if (!token) {
    if (token.error().code == ErrorCode::kPermissionDenied ||
        token.error().code == ErrorCode::kNotFound) {
      call.res.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
      SendError(call.res, 401, "invalid or revoked token");
    } else {
      SendFailure(call.res, token.error());
    }
    return false;
  }
  CurrentRequest().token_name = token->name;
  if (access == Access::kReportToken && token->server.empty()) {
    SendError(call.res, 403,
              "token '" + token->name +
                  "' is an API token; instance reports need the server's report token "
                  "(`n8n-fleet server report-token NAME`)");
    return false;
  }
  if (access == Access::kApiToken && !token->server.empty()) {
    SendError(call.res, 403,
              "token '" + token->name + "' is a report token for server '" + token->server +
                  "': it may only POST /api/v1/instance-reports");
    return false;
  }
  if (access == Access::kApiToken && token->read_only && call.req.method != "GET" &&
      call.req.method != "HEAD") {
    SendError(call.res, 403, "token '" + token->name + "' is read-only: it may only GET");
    return false;
  }
  TouchThrottled(**store, *token, call.now);
  call.token = std::move(*token);
  return true;
}

void Router::TouchThrottled(storage::Store& store, const ApiToken& token, int64_t now) {
  {
    std::lock_guard lock(touch_mu_);
    auto it = touched_at_.find(token.id);
    if (it != touched_at_.end() && now - it->second < kTouchIntervalSeconds) return;
    touched_at_[token.id] = now;
  }
  // Best effort: a failed touch must not fail the request.
  (void)store.TouchApiToken(token.id, now);
}

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kUnauthenticated:
      return 401;
    case ErrorCode::kPermissionDenied:
      return 403;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kAlreadyExists:
    case ErrorCode::kFailedPrecondition:
      return 409;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kUnavailable:
    case ErrorCode::kCancelled:
      return 503;
    case ErrorCode::kTimeout:
      return 504;
    case ErrorCode::kBadResponse:
    case ErrorCode::kCorrupt:
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
      return 500;
  }
  return 500;
}

std::string_view ErrorNameOf(int status) {
  switch (status) {
    case 400:
      return "bad_request";
    case 401:
      return "unauthorized";
    case 403:
      return "forbidden";
    case 404:
      return "not_found";
    case 405:
      return "method_not_allowed";
    case 408:
      return "request_timeout";
    case 409:
      return "conflict";
    case 413:
      return "payload_too_large";
    case 414:
      return "uri_too_long";
    case 429:
      return "rate_limited";
    case 503:
      return "unavailable";
    case 504:
      return "timeout";
    default:
      return status >= 500 ? "internal" : "bad_request";
  }
}

void SendJson(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n",
                  "application/json; charset=utf-8");
}

void SendError(httplib::Response& res, int status, const std::string& message,
               const std::string& parameter) {
  nlohmann::json error = {{"code", ErrorNameOf(status)}, {"message", message}};
  if (!parameter.empty()) error["parameter"] = parameter;
  SendJson(res, status, {{"error", std::move(error)}});
}

void SendFailure(httplib::Response& res, const Error& error, const std::string& parameter) {
  SendError(res, HttpStatusOf(error.code), error.message, parameter);
}

nlohmann::json TimeOrNull(std::optional<int64_t> unix_seconds) {
  if (!unix_seconds) return nullptr;
  return FormatTimestamp(*unix_seconds);
}

std::optional<std::pair<Day, Day>> DayRangeParams(Call& call, Day default_from, Day default_to) {
  auto range = ParseDayRange(call.req.params, default_from, default_to);
  if (!range) {
    SendFailure(call.res, range.error().error, range.error().parameter);
    return std::nullopt;
  }
  return *range;
}

}  // namespace fleet::service::api
