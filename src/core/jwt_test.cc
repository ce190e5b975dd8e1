#include "core/jwt.h"

#include <gtest/gtest.h>

namespace fleet {
namespace {

std::string MakeToken(const std::string& header, const std::string& payload) {
  return Base64UrlEncode(header) + "." + Base64UrlEncode(payload) + ".c2ln";
}

TEST(Base64UrlTest, RoundTripsAllByteValues) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
  for (size_t len = 0; len < 8; ++len) {
    auto decoded = Base64UrlDecode(Base64UrlEncode(bytes.substr(0, len)));
    ASSERT_TRUE(decoded);
    EXPECT_EQ(*decoded, bytes.substr(0, len));
  }
  EXPECT_EQ(*Base64UrlDecode(Base64UrlEncode(bytes)), bytes);
  EXPECT_EQ(Base64UrlEncode("\xfb\xff"), "-_8");
  EXPECT_FALSE(Base64UrlDecode("a+b/"));
}

TEST(PeekJwtTest, ReadsIssuedAndExpiry) {
  auto peek =
      PeekJwt(MakeToken(R"({"alg":"HS256"})", R"({"sub":"x","iat":1700000000,"exp":1900000000})"));
  ASSERT_TRUE(peek) << peek.error().message;
  EXPECT_EQ(peek->issued_at, 1700000000);
  EXPECT_EQ(peek->expires_at, 1900000000);
}

TEST(PeekJwtTest, NoExpiryIsAbsent) {
  auto peek = PeekJwt(MakeToken(R"({"alg":"HS256"})", R"({"sub":"x"})"));
  ASSERT_TRUE(peek);
  EXPECT_FALSE(peek->expires_at.has_value());
}

// Found with fuzz/fuzz_jwt.cc (fuzz/corpus/jwt/regression-float-iat): a huge float claim was
// converted to int64_t: undefined behaviour, on x86 a date 292 billion years ago.
TEST(PeekJwtTest, ClaimsBeyond64BitSecondsAreAbsent) {
  auto peek = PeekJwt(
      MakeToken(R"({"alg":"HS256"})", R"({"iat":1e300,"exp":18446744073709551615,"nbf":-1e300})"));
  ASSERT_TRUE(peek) << peek.error().message;
  EXPECT_FALSE(peek->issued_at.has_value());
  EXPECT_FALSE(peek->expires_at.has_value());

  auto fractional = PeekJwt(MakeToken(R"({"alg":"HS256"})", R"({"iat":1795000000.5})"));
  ASSERT_TRUE(fractional);
  EXPECT_EQ(fractional->issued_at, 1795000000);
}

TEST(PeekJwtTest, ExplainsWhatIsWrongWithoutEchoingTheToken) {
  auto two_parts = PeekJwt("abc.def");
  ASSERT_FALSE(two_parts);
  EXPECT_NE(two_parts.error().message.find("three base64url parts"), std::string::npos);
  EXPECT_EQ(two_parts.error().message.find("abc"), std::string::npos);
  auto bad_chars = PeekJwt("ab$.def.ghi");
  ASSERT_FALSE(bad_chars);
  EXPECT_NE(bad_chars.error().message.find("header"), std::string::npos);
  auto not_json = PeekJwt(Base64UrlEncode("nope") + "." + Base64UrlEncode("{}") + ".sig");
  ASSERT_FALSE(not_json);
  EXPECT_NE(not_json.error().message.find("header is not a JSON object"), std::string::npos);
  EXPECT_FALSE(PeekJwt("a.b.c.d"));
  EXPECT_FALSE(PeekJwt(""));
}

}  // namespace
}  // namespace fleet
