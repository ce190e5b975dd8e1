#include "core/url.h"

#include <algorithm>
#include <cctype>

namespace fleet {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

Result<void> Bad(std::string_view text, std::string_view why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid URL '" + std::string(text) + "': " + std::string(why) +
                       " (expected e.g. https://n8n.example.com or http://127.0.0.1:5678)");
}

}  // namespace

Result<Url> ParseUrl(std::string_view text) {
  Url url;
  size_t sep = text.find("://");
  if (sep == std::string_view::npos) return tl::unexpected(Bad(text, "no scheme").error());
  url.scheme = Lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") {
    return tl::unexpected(Bad(text, "the scheme must be http or https").error());
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos) {
    return tl::unexpected(Bad(text, "a query or fragment is not allowed").error());
  }
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash);
  if (authority.find('@') != std::string_view::npos) {
    return tl::unexpected(Bad(text, "credentials in the URL are not allowed").error());
  }
  std::string_view port_text;
  if (!authority.empty() && authority.front() == '[') {
    size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return tl::unexpected(Bad(text, "unterminated IPv6 address").error());
    }
    url.host = Lower(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return tl::unexpected(Bad(text, "junk after the host").error());
      port_text = after.substr(1);
      if (port_text.empty()) return tl::unexpected(Bad(text, "empty port").error());
    }
  } else {
    size_t colon = authority.rfind(':');
    url.host = Lower(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return tl::unexpected(Bad(text, "empty port").error());
    }
  }
  if (url.host.empty()) return tl::unexpected(Bad(text, "no host").error());
  for (char c : url.host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == ':' ||
          c == '_' || static_cast<unsigned char>(c) >= 0x80)) {
      return tl::unexpected(Bad(text, "the host has invalid characters").error());
    }
  }
  url.port = url.scheme == "https" ? 443 : 80;
  if (!port_text.empty()) {
    if (port_text.size() > 5 || !std::all_of(port_text.begin(), port_text.end(),
                                             [](unsigned char c) { return std::isdigit(c); })) {
      return tl::unexpected(Bad(text, "the port is not a number").error());
    }
    url.port = std::stoi(std::string(port_text));
    if (url.port < 1 || url.port > 65535) {
      return tl::unexpected(Bad(text, "the port must be 1-65535").error());
    }
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  for (unsigned char c : path) {
    if (c <= 0x20 || c == 0x7F) {
      return tl::unexpected(Bad(text, "the path has spaces or control characters").error());
    }
  }
  url.path = std::string(path);
  return url;
}

std::string FormatUrl(const Url& url) {
  // Appended piece by piece: GCC 12 at -O3 warns falsely (-Wrestrict) on `":" + std::string`.
  std::string out = url.scheme;
  out += "://";
  bool ipv6 = url.host.find(':') != std::string::npos;
  if (ipv6) out += '[';
  out += url.host;
  if (ipv6) out += ']';
  int default_port = url.scheme == "https" ? 443 : 80;
  if (url.port != default_port) {
    out += ':';
    out += std::to_string(url.port);
  }
  out += url.path;
  return out;
}

Result<std::string> NormalizeServerUrl(std::string_view text) {
  auto url = ParseUrl(text);
  if (!url) return tl::unexpected(url.error());
  return FormatUrl(*url);
}

std::string UrlEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 0xF]);
    }
  }
  return out;
}

std::string FormDecode(std::string_view text) {
  auto hex = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 &&
               hex(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

}  // namespace fleet
