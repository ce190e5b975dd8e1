#include "core/url.h"

#include <gtest/gtest.h>

namespace fleet {
namespace {

TEST(UrlTest, NormalisesSchemeHostPortAndTrailingSlash) {
  EXPECT_EQ(*NormalizeServerUrl("HTTPS://N8N.Example.com/"), "https://n8n.example.com");
  EXPECT_EQ(*NormalizeServerUrl("http://127.0.0.1:5678"), "http://127.0.0.1:5678");
  EXPECT_EQ(*NormalizeServerUrl("https://host:443/n8n/"), "https://host/n8n");
  EXPECT_EQ(*NormalizeServerUrl("http://[::1]:5678"), "http://[::1]:5678");
}

TEST(UrlTest, RejectsWhatIsNotAnInstanceUrl) {
  for (const char* bad :
       {"n8n.example.com", "ftp://host", "http://", "http://host:0", "http://host:99999",
        "http://user:pw@host", "http://host/?q=1", "http://host:abc", "http://ho st"}) {
    auto result = NormalizeServerUrl(bad);
    EXPECT_FALSE(result) << bad;
    if (!result) {
      EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    }
  }
  EXPECT_NE(NormalizeServerUrl("ftp://host").error().message.find("http or https"),
            std::string::npos);
}

TEST(UrlTest, EncodesReservedCharacters) {
  EXPECT_EQ(UrlEncode("2026-11-24T00:00:00.000Z"), "2026-11-24T00%3A00%3A00.000Z");
  EXPECT_EQ(UrlEncode("a b+c"), "a%20b%2Bc");
}

TEST(UrlTest, FormDecodeUndoesUrlEncode) {
  EXPECT_EQ(FormDecode(UrlEncode("a b+c:/\xC3\xBC")), "a b+c:/\xC3\xBC");
  EXPECT_EQ(FormDecode("a+b%3A"), "a b:");
  EXPECT_EQ(FormDecode("bad%zz%4"), "bad%zz%4");
}

}  // namespace
}  // namespace fleet
