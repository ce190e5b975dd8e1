#include "n8n/client.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/jwt.h"
#include "core/time.h"
#include "core/url.h"

namespace fleet::n8n {
namespace {

using Json = nlohmann::json;

// n8n's paths (n8n-reference.md, section 3).
constexpr char kHealthPath[] = "/healthz";
constexpr char kWorkflowsPath[] = "/api/v1/workflows";

constexpr size_t kMaxQuotedMessage = 200;
constexpr int64_t kSecondsPerDay = 86400;
constexpr int64_t kExpirySoonDays = 14;

HttpRequest Get(const Endpoint& endpoint, const std::string& path_and_query) {
  HttpRequest request;
  request.method = "GET";
  request.url = endpoint.base_url + path_and_query;
  request.verify_tls = endpoint.verify_tls;
  request.headers.emplace_back("Accept", "application/json");
  return request;
}

bool LooksLikeHtml(const HttpResponse& response) {
  if (response.Header("content-type").find("text/html") != std::string::npos) return true;
  auto start = std::find_if_not(response.body.begin(), response.body.end(),
                                [](unsigned char c) { return std::isspace(c); });
  return start != response.body.end() && *start == '<';
}

// `text` with credential-shaped runs replaced: JWTs ("eyJ...": API keys, access tokens) and any
// run of 40 or more token characters. A compromised instance may echo the key it was sent in its
// message, and messages end up in outputs, logs and the database (run attempts).
std::string RedactCredentials(const std::string& text) {
  auto token_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
  };
  std::string out;
  size_t i = 0;
  while (i < text.size()) {
    size_t j = i;
    while (j < text.size() && token_char(text[j])) ++j;
    if (j == i) {
      out += text[i++];
      continue;
    }
    size_t length = j - i;
    bool jwt = length >= 20 && text.compare(i, 3, "eyJ") == 0;
    out += jwt || length >= 40 ? std::string("[redacted]") : text.substr(i, length);
    i = j;
  }
  return out;
}

// n8n's own explanation ({"message": "..."}), printable and short, credentials redacted; ""
// when there is none.
std::string N8nMessage(const HttpResponse& response) {
  Json json = Json::parse(response.body, nullptr, false);
  if (json.is_discarded() || !json.is_object()) return "";
  auto it = json.find("message");
  if (it == json.end() || !it->is_string()) return "";
  std::string message = it->get<std::string>();
  for (char& c : message) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  message = RedactCredentials(message);
  if (message.size() > kMaxQuotedMessage) message = message.substr(0, kMaxQuotedMessage) + "...";
  return message;
}

// What the body adds to an error message: n8n's text, or a note that it was HTML.
std::string BodyNote(const HttpResponse& response) {
  if (std::string message = N8nMessage(response); !message.empty()) {
    return " (n8n says: \"" + message + "\")";
  }
  if (LooksLikeHtml(response)) {
    return "; it answered HTML instead of JSON, e.g. a login page or a proxy: check that the "
           "URL points at the n8n instance itself";
  }
  return "";
}

std::string RetryAfterNote(const HttpResponse& response) {
  std::string value = response.Header("retry-after");
  if (value.empty()) return "; retry later";
  bool seconds =
      std::all_of(value.begin(), value.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
  return "; retry after " + value + (seconds ? " seconds" : "");
}

std::string Milliseconds(std::chrono::microseconds elapsed) {
  return std::to_string(elapsed.count() / 1000) + " ms";
}

void Skip(std::vector<CheckStep>& steps, const char* name, const char* why) {
  steps.push_back(CheckStep{name, false, std::string("skipped: ") + why});
}

CheckStep CheckShape(const Result<JwtPeek>& peek) {
  if (!peek) {
    return {"shape", false,
            peek.error().message +
                ": copy the whole key from n8n (Settings > n8n API); it was not sent anywhere"};
  }
  std::string detail = "a well-formed JWT";
  if (peek->issued_at) detail += ", issued " + FormatTimestamp(*peek->issued_at);
  return {"shape", true, detail};
}

CheckStep CheckReachable(HttpTransport& transport, const Endpoint& endpoint) {
  Result<HttpResponse> response = transport.Send(HealthRequest(endpoint));
  if (!response) {
    std::string hint = response.error().code == ErrorCode::kTimeout
                           ? ": the server did not answer in time; check the URL and the network"
                           : ": check the URL, that n8n is running, and any proxy or firewall";
    return {"reachable", false, response.error().message + hint};
  }
  std::string what = "GET " + endpoint.base_url + kHealthPath;
  if (response->status != 200) {
    return {"reachable", false,
            what + " answered HTTP " + std::to_string(response->status) + BodyNote(*response) +
                ": check that the URL is the n8n instance's base URL"};
  }
  Json json = Json::parse(response->body, nullptr, false);
  if (!json.is_object() || json.value("status", Json()) != "ok") {
    return {"reachable", false,
            what + " answered 200 but not {\"status\":\"ok\"}" + BodyNote(*response) +
                ": is this URL an n8n instance?"};
  }
  return {"reachable", true,
          what + " answered {\"status\":\"ok\"} in " + Milliseconds(response->elapsed)};
}

CheckStep CheckAuthenticated(HttpTransport& transport, const Endpoint& endpoint,
                             const std::string& api_key) {
  Result<HttpResponse> response =
      transport.Send(ListWorkflowsRequest(endpoint, ApiAuth::ApiKey(api_key), 1));
  if (!response) return {"authenticated", false, response.error().message};
  if (response->status == 401) {
    return {"authenticated", false,
            "n8n refused the key (401): it was deleted or revoked, has expired, or belongs to "
            "another instance; create a new key in n8n (Settings > n8n API)" +
                BodyNote(*response)};
  }
  if (response->status != 200) {
    return {"authenticated", false, DescribeApiFailure(*response, endpoint.base_url).message};
  }
  Json json = Json::parse(response->body, nullptr, false);
  if (!json.is_object() || !json.contains("data") || !json["data"].is_array()) {
    return {"authenticated", false, DescribeApiFailure(*response, endpoint.base_url).message};
  }
  return {"authenticated", true,
          "the public API accepted the key (GET " + std::string(kWorkflowsPath) +
              " answered 200 in " + Milliseconds(response->elapsed) + ")"};
}

CheckStep CheckExpiry(const JwtPeek& peek, int64_t now) {
  if (!peek.expires_at) return {"not expired", true, "no expiry"};
  int64_t exp = *peek.expires_at;
  if (exp <= now) {
    int64_t days = (now - exp) / kSecondsPerDay;
    return {"not expired", false,
            "expired at " + FormatTimestamp(exp) + " (" + std::to_string(days) +
                " days ago): create a new key in n8n (Settings > n8n API) and replace this one"};
  }
  int64_t days = (exp - now) / kSecondsPerDay;
  std::string detail =
      "expires at " + FormatTimestamp(exp) + " (in " + std::to_string(days) + " days)";
  if (days < kExpirySoonDays) detail += ": replace it soon";
  return {"not expired", true, detail};
}

}  // namespace

HttpRequest HealthRequest(const Endpoint& endpoint) { return Get(endpoint, kHealthPath); }

HttpRequest ListWorkflowsRequest(const Endpoint& endpoint, const ApiAuth& auth, int limit,
                                 const std::string& cursor) {
  std::string target = std::string(kWorkflowsPath) + "?limit=" + std::to_string(limit);
  if (!cursor.empty()) target += "&cursor=" + UrlEncode(cursor);
  HttpRequest request = Get(endpoint, target);
  request.headers.emplace_back(auth.header_name, auth.header_value);
  return request;
}

Error DescribeApiFailure(const HttpResponse& response, std::string_view server) {
  const std::string who = "server '" + std::string(server) + "'";
  const std::string status = std::to_string(response.status);
  const int s = response.status;
  if (s >= 200 && s < 300) {
    if (LooksLikeHtml(response)) {
      return Error{ErrorCode::kBadResponse,
                   who + " answered HTML instead of JSON (HTTP " + status +
                       "), e.g. a login page or a proxy: check that the URL points at the n8n "
                       "instance itself"};
    }
    return Error{ErrorCode::kBadResponse,
                 who + " answered HTTP " + status + " with a body that is not the JSON n8n sends" +
                     BodyNote(response) + ": is this URL an n8n instance?"};
  }
  if (s >= 300 && s < 400) {
    std::string location = response.Header("location");
    return Error{ErrorCode::kBadResponse, who + " redirected (HTTP " + status + ")" +
                                              (location.empty() ? "" : " to " + location) +
                                              ": use the final URL as the server's URL"};
  }
  switch (s) {
    case 401:
      return Error{ErrorCode::kUnauthenticated,
                   who +
                       " refused the API key (401): check it with `n8n-fleet apikey test`, "
                       "or create a new key in n8n (Settings > n8n API)" +
                       BodyNote(response)};
    case 403:
      return Error{ErrorCode::kPermissionDenied,
                   who +
                       " denied the request (403): the key lacks the scope for it, or the "
                       "instance's licence does not allow it" +
                       BodyNote(response)};
    case 404:
      return Error{ErrorCode::kNotFound,
                   who +
                       " answered 404 Not Found: the public API may be disabled on the "
                       "instance (N8N_PUBLIC_API_DISABLED), or the server URL is wrong (it "
                       "must be the instance's base URL, without /api/v1)" +
                       BodyNote(response)};
    case 429:
      return Error{ErrorCode::kRateLimited,
                   who + " is rate limiting requests (429)" + RetryAfterNote(response)};
    default:
      break;
  }
  if (s >= 500 && s < 600) {
    return Error{ErrorCode::kUnavailable,
                 who + " failed with HTTP " + status + BodyNote(response) +
                     ": the instance or a proxy in front of it is in trouble; try again later "
                     "and check its logs"};
  }
  return Error{ErrorCode::kBadResponse,
               who + " rejected the request with HTTP " + status + BodyNote(response)};
}

bool KeyCheckReport::ok() const {
  return !steps.empty() &&
         std::all_of(steps.begin(), steps.end(), [](const CheckStep& step) { return step.ok; });
}

KeyCheckReport TestApiKey(HttpTransport& transport, const Endpoint& endpoint,
                          const std::string& api_key, int64_t now) {
  KeyCheckReport report;
  Result<JwtPeek> peek = PeekJwt(api_key);
  report.steps.push_back(CheckShape(peek));
  if (!peek) {  // never send a malformed key anywhere
    Skip(report.steps, "reachable", "the key is malformed");
    Skip(report.steps, "authenticated", "the key is malformed");
    Skip(report.steps, "not expired", "the key is malformed");
    return report;
  }
  bool reached = report.steps.emplace_back(CheckReachable(transport, endpoint)).ok;
  if (reached) {
    report.steps.push_back(CheckAuthenticated(transport, endpoint, api_key));
  } else {
    Skip(report.steps, "authenticated", "the server is not reachable");
  }
  report.steps.push_back(CheckExpiry(*peek, now));
  return report;
}

}  // namespace fleet::n8n
