#pragma once

#include <string>
#include <string_view>

#include "core/error.h"

namespace fleet {

struct Url {
  std::string scheme{};  // "http" | "https"
  std::string host{};    // without brackets for IPv6
  int port{};            // explicit or the scheme's default
  std::string path{};    // "" or "/prefix" without trailing slash
};

// Parses and validates an n8n base URL: http or https, a host, an optional port (1-65535) and
// path; no credentials, query or fragment. The message says what is wrong.
Result<Url> ParseUrl(std::string_view text);

// The canonical text form stored for a server: lower-case scheme and host, no trailing slash,
// the port only when it is not the scheme's default.
std::string FormatUrl(const Url& url);

// ParseUrl + FormatUrl.
Result<std::string> NormalizeServerUrl(std::string_view text);

// Percent-encodes everything but unreserved characters (RFC 3986), e.g. ':' -> "%3A".
std::string UrlEncode(std::string_view text);

// Decodes application/x-www-form-urlencoded text: "+" is a space, "%XX" a byte; a malformed
// escape is kept as it is.
std::string FormDecode(std::string_view text);

}  // namespace fleet
