// The JWT helpers (core/jwt.h) on untrusted text: an API key pasted by a user, a token read
// back. The input is tried as a token and as a token's payload. PeekJwt must never echo the
// token; base64url must round-trip.

#include <cctype>

#include <nlohmann/json.hpp>

#include "core/jwt.h"
#include "fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  std::string_view text = fuzz::AsText(data, size);

  auto peek = PeekJwt(text);
  if (peek) {
    FUZZ_CHECK(nlohmann::json::parse(peek->header_json, nullptr, false).is_object());
    FUZZ_CHECK(nlohmann::json::parse(peek->payload_json, nullptr, false).is_object());
  } else {
    // No run of 16+ base64url characters of the input (a part of a token) is in the message.
    auto is_b64 = [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
    };
    for (size_t i = 0; i < text.size();) {
      size_t j = i;
      while (j < text.size() && is_b64(text[j])) ++j;
      if (j - i >= 16)
        FUZZ_CHECK(peek.error().message.find(text.substr(i, j - i)) == std::string::npos);
      i = j == i ? i + 1 : j;
    }
  }

  // The input as a payload too, so that mutations reach the claims' JSON and not only base64url.
  std::string token =
      Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(text) + ".c2ln";
  if (auto claims = PeekJwt(token)) FUZZ_CHECK(claims->payload_json == text);

  std::string encoded = Base64UrlEncode(text);
  auto round_trip = Base64UrlDecode(encoded);
  FUZZ_CHECK(round_trip && *round_trip == text);
  if (auto decoded = Base64UrlDecode(text)) {
    FUZZ_CHECK(Base64UrlDecode(Base64UrlEncode(*decoded)) == decoded);
  }
  return 0;
}
