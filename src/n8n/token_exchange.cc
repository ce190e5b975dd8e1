#include "n8n/token_exchange.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <ctime>
#include <limits>
#include <optional>

#include "core/url.h"

namespace fleet::n8n {
namespace {

using Json = nlohmann::json;

// RFC 8693 identifiers, as n8n 2.40.7 expects them (n8n-reference.md section 1).
constexpr char kGrantTypeTokenExchange[] = "urn:ietf:params:oauth:grant-type:token-exchange";
constexpr char kTokenTypeJwt[] = "urn:ietf:params:oauth:token-type:jwt";

constexpr size_t kMaxQuoted = 200;

std::string Who(std::string_view server) { return "server '" + std::string(server) + "'"; }

// A string field of n8n's JSON answer, printable and short; "" when absent.
std::string Quoted(const Json& body, const char* field) {
  if (!body.is_object()) return "";
  auto it = body.find(field);
  if (it == body.end() || !it->is_string()) return "";
  std::string text = it->get<std::string>();
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) c = ' ';
  }
  if (text.size() > kMaxQuoted) text = text.substr(0, kMaxQuoted) + "...";
  return text;
}

// " (n8n says: ...)" from error_description or message, or "".
std::string N8nSays(const Json& body) {
  std::string text = Quoted(body, "error_description");
  if (text.empty()) text = Quoted(body, "message");
  return text.empty() ? "" : " (n8n says: \"" + text + "\")";
}

bool LooksLikeHtml(const HttpResponse& response) {
  if (response.Header("content-type").find("text/html") != std::string::npos) return true;
  auto start = std::find_if_not(response.body.begin(), response.body.end(),
                                [](unsigned char c) { return std::isspace(c); });
  return start != response.body.end() && *start == '<';
}

Result<AccessToken> ParseSuccess(const HttpResponse& response, const Json& body,
                                 const std::string& who, int64_t now) {
  if (!body.is_object()) {
    std::string what = LooksLikeHtml(response) ? "HTML" : "a body that is not JSON";
    return MakeError(ErrorCode::kBadResponse,
                     who + " answered the token exchange with HTTP 200 but " + what +
                         ": check that the server URL points at the n8n instance itself, not a "
                         "login page or proxy");
  }
  auto token = body.find("access_token");
  auto expires_in = body.find("expires_in");
  bool token_ok = token != body.end() && token->is_string() && !token->get<std::string>().empty();
  bool expiry_ok = expires_in != body.end() && expires_in->is_number() &&
                   expires_in->get<double>() > 0 && expires_in->get<double>() < 1e9;
  if (!token_ok || !expiry_ok) {
    return MakeError(ErrorCode::kBadResponse,
                     who + " answered the token exchange with HTTP 200 but without a usable " +
                         (token_ok ? "expires_in" : "access_token") +
                         ": its token exchange (an n8n preview feature) may have changed; "
                         "n8n-fleet follows n8n 2.40.7, use an API key for this server meanwhile");
  }
  return AccessToken{token->get<std::string>(),
                     now + static_cast<int64_t>(expires_in->get<double>())};
}

// A skew this large is no measuring error (the Date header has one-second resolution).
constexpr int64_t kNotableSkewSeconds = 60;

// The instance's clock from its Date header ("Sun, 06 Nov 1994 08:49:37 GMT"), if it has one.
std::optional<int64_t> DateHeader(const HttpResponse& response) {
  std::string text = response.Header("date");
  std::tm tm{};
  const char* end = ::strptime(text.c_str(), "%a, %d %b %Y %H:%M:%S GMT", &tm);
  if (text.empty() || end == nullptr || *end != '\0') return std::nullopt;
  return static_cast<int64_t>(::timegm(&tm));
}

// "its clock is 3600 seconds ahead of this machine's: ..." when the Date header shows a skew
// that explains an invalid_grant, else "".
std::string ClockSkew(const HttpResponse& response, int64_t now) {
  std::optional<int64_t> theirs = DateHeader(response);
  if (!theirs || std::abs(*theirs - now) < kNotableSkewSeconds) return "";
  int64_t skew = *theirs - now;
  return "the clocks differ: the instance's clock is " + std::to_string(std::abs(skew)) +
         " seconds " + (skew > 0 ? "ahead of" : "behind") +
         " this machine's (its Date header says " + response.Header("date") +
         "), and n8n checks the subject token's exp to the second, so a token this machine signs " +
         (skew > 0 ? "has expired there" : "looks issued in the future there") +
         ". Synchronise both clocks (NTP) and try again";
}

Error BadRequest(const HttpResponse& response, const Json& body, const std::string& who,
                 int64_t now) {
  std::string error = Quoted(body, "error");
  if (error == "invalid_grant") {
    if (std::string skew = ClockSkew(response, now); !skew.empty()) {
      return Error{ErrorCode::kUnauthenticated,
                   who + " refused the service's subject token (invalid_grant): " + skew};
    }
    return Error{ErrorCode::kUnauthenticated,
                 who +
                     " refused the service's subject token (invalid_grant; n8n does not say "
                     "why). Likely causes: the service's public key is not in the instance's "
                     "N8N_TOKEN_EXCHANGE_TRUSTED_KEYS, or its kid or issuer differ; the clocks "
                     "disagree (exp and iat are checked to the second); the key entry requires a "
                     "verified email; the role is not in the key's allowedRoles; the subject "
                     "email is the instance owner's; or a token (jti) was replayed. Compare the "
                     "instance's settings with `n8n-fleet key env`"};
  }
  if (error == "unsupported_grant_type") {
    return Error{ErrorCode::kBadResponse,
                 who + " does not support the token exchange grant type (unsupported_grant_type)" +
                     N8nSays(body) +
                     ": its token exchange (an n8n preview feature) may have changed; n8n-fleet "
                     "follows n8n 2.40.7"};
  }
  if (error == "invalid_request") {
    return Error{ErrorCode::kBadResponse,
                 who + " rejected the token exchange request as malformed (invalid_request)" +
                     N8nSays(body) +
                     ": this is likely a bug in n8n-fleet or a changed n8n "
                     "contract; n8n-fleet follows n8n 2.40.7"};
  }
  return Error{ErrorCode::kBadResponse, who + " rejected the token exchange with HTTP 400" +
                                            (error.empty() ? "" : " (" + error + ")") +
                                            N8nSays(body)};
}

}  // namespace

Json SubjectClaims(const SubjectIdentity& who, const std::string& audience, int64_t now,
                   int ttl_seconds, const std::string& jti) {
  int ttl = std::clamp(ttl_seconds, 1, kMaxSubjectTtlSeconds);
  return Json{{"iss", who.issuer},  {"sub", who.email},       {"aud", audience},
              {"iat", now},         {"exp", now + ttl},       {"jti", jti},
              {"email", who.email}, {"email_verified", true}, {"role", who.role}};
}

HttpRequest TokenExchangeRequest(const Endpoint& endpoint, const std::string& subject_jwt) {
  HttpRequest request;
  request.method = "POST";
  request.url = endpoint.base_url + kTokenExchangePath;
  request.verify_tls = endpoint.verify_tls;
  request.headers = {{"Content-Type", "application/x-www-form-urlencoded"},
                     {"Accept", "application/json"}};
  request.body = "grant_type=" + UrlEncode(kGrantTypeTokenExchange) +
                 "&subject_token=" + UrlEncode(subject_jwt) +
                 "&subject_token_type=" + UrlEncode(kTokenTypeJwt);
  return request;
}

Result<AccessToken> ParseTokenExchangeResponse(const HttpResponse& response,
                                               std::string_view server, int64_t now) {
  const std::string who = Who(server);
  const int s = response.status;
  Json body = Json::parse(response.body, nullptr, false);
  if (s == 200) return ParseSuccess(response, body, who, now);
  if (s == 400) return tl::unexpected(BadRequest(response, body, who, now));
  if (s == 404) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     who + " has no token exchange endpoint (404 on POST " +
                         std::string(kTokenExchangePath) +
                         "): the module is not loaded. Set N8N_ENV_FEAT_TOKEN_EXCHANGE=true on "
                         "the instance and check that its enterprise licence includes "
                         "feat:tokenExchange, or use an API key for this server");
  }
  if (s == 501) {
    return MakeError(ErrorCode::kFailedPrecondition,
                     who +
                         " has token exchange switched off (501): set "
                         "N8N_TOKEN_EXCHANGE_ENABLED=true on the instance and restart it, or use "
                         "an API key for this server");
  }
  if (s == 429) {
    int seconds = RetryAfterSeconds(response);
    return MakeError(ErrorCode::kRateLimited,
                     who +
                         " is rate limiting token exchanges (429; n8n allows 20 per minute per "
                         "client IP): " +
                         (seconds >= 0 ? "retry after " + std::to_string(seconds) + " seconds"
                                       : "retry in a minute"));
  }
  if (s >= 500 && s < 600) {
    return MakeError(ErrorCode::kUnavailable,
                     who + " failed the token exchange with HTTP " + std::to_string(s) +
                         N8nSays(body) +
                         ": the instance or a proxy in front of it is in trouble; try again "
                         "later and check its logs");
  }
  if (s >= 300 && s < 400) {
    std::string location = response.Header("location");
    return MakeError(ErrorCode::kBadResponse, who + " redirected the token exchange (HTTP " +
                                                  std::to_string(s) + ")" +
                                                  (location.empty() ? "" : " to " + location) +
                                                  ": use the final URL as the server's URL");
  }
  return MakeError(ErrorCode::kBadResponse,
                   who + " rejected the token exchange with HTTP " + std::to_string(s) +
                       N8nSays(body) +
                       (LooksLikeHtml(response) ? "; it answered HTML, e.g. a proxy's page" : ""));
}

int RetryAfterSeconds(const HttpResponse& response) {
  std::string value = response.Header("retry-after");
  auto first = value.find_first_not_of(" \t");
  auto last = value.find_last_not_of(" \t");
  if (first == std::string::npos) return -1;
  std::string_view digits = std::string_view(value).substr(first, last - first + 1);
  int64_t seconds = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return -1;  // an HTTP date is not supported
    seconds = std::min<int64_t>(seconds * 10 + (c - '0'), std::numeric_limits<int>::max());
  }
  return static_cast<int>(seconds);
}

}  // namespace fleet::n8n
