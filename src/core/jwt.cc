#include "core/jwt.h"

#include <array>
#include <limits>

#include <nlohmann/json.hpp>

namespace fleet {
namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

int DecodeChar(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  return -1;
}

bool IsBase64UrlPart(std::string_view part) {
  if (part.empty()) return false;
  for (char c : part) {
    if (DecodeChar(c) < 0) return false;
  }
  return true;
}

std::optional<int64_t> IntClaim(const nlohmann::json& payload, const char* name) {
  auto it = payload.find(name);
  if (it == payload.end() || !it->is_number()) return std::nullopt;
  // A date beyond 64-bit seconds (1e300, 2^64 - 1) is no date: absent, never a wrapped value
  // (converting such a double to int64_t is undefined behaviour; found with fuzz/fuzz_jwt.cc).
  if (it->is_number_unsigned()) {
    uint64_t value = it->get<uint64_t>();
    if (value > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return std::nullopt;
    return static_cast<int64_t>(value);
  }
  if (it->is_number_float()) {
    double value = it->get<double>();
    if (!(value > -9.2e18 && value < 9.2e18)) return std::nullopt;
    return static_cast<int64_t>(value);
  }
  return it->get<int64_t>();
}

}  // namespace

std::string Base64UrlEncode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    buffer = (buffer << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(kAlphabet[(buffer >> bits) & 0x3F]);
    }
  }
  if (bits > 0) out.push_back(kAlphabet[(buffer << (6 - bits)) & 0x3F]);
  return out;
}

std::optional<std::string> Base64UrlDecode(std::string_view text) {
  while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  if (text.size() % 4 == 1) return std::nullopt;
  std::string out;
  out.reserve(text.size() * 3 / 4);
  uint32_t buffer = 0;
  int bits = 0;
  for (char c : text) {
    int v = DecodeChar(c);
    if (v < 0) return std::nullopt;
    buffer = (buffer << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xFF));
    }
  }
  return out;
}

Result<JwtPeek> PeekJwt(std::string_view token) {
  std::array<std::string_view, 3> parts;
  size_t start = 0;
  for (size_t i = 0; i < 3; ++i) {
    size_t dot = token.find('.', start);
    if (i < 2 && dot == std::string_view::npos) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "not a JWT: expected three base64url parts separated by '.', found " +
                           std::to_string(i + 1));
    }
    parts[i] = i < 2 ? token.substr(start, dot - start) : token.substr(start);
    start = dot + 1;
  }
  if (parts[2].find('.') != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument, "not a JWT: more than three parts");
  }
  static constexpr const char* kNames[] = {"header", "payload", "signature"};
  for (size_t i = 0; i < 3; ++i) {
    if (!IsBase64UrlPart(parts[i])) {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string("not a JWT: the ") + kNames[i] +
                           " part is empty or has characters outside base64url");
    }
  }
  JwtPeek peek;
  auto header = Base64UrlDecode(parts[0]);
  auto payload = Base64UrlDecode(parts[1]);
  if (!header || !payload) {
    return MakeError(ErrorCode::kInvalidArgument, "not a JWT: a part is not valid base64url");
  }
  auto header_json = nlohmann::json::parse(*header, nullptr, false);
  auto payload_json = nlohmann::json::parse(*payload, nullptr, false);
  if (header_json.is_discarded() || !header_json.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "not a JWT: the header is not a JSON object");
  }
  if (payload_json.is_discarded() || !payload_json.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "not a JWT: the payload is not a JSON object");
  }
  peek.header_json = std::move(*header);
  peek.payload_json = std::move(*payload);
  peek.issued_at = IntClaim(payload_json, "iat");
  peek.expires_at = IntClaim(payload_json, "exp");
  return peek;
}

}  // namespace fleet
