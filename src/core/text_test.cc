#include "core/text.h"

#include <gtest/gtest.h>

#include <string>

namespace fleet {
namespace {

TEST(NameTest, AcceptsUtf8AndEmoji) {
  EXPECT_TRUE(ValidateName("prod-eu", "server"));
  EXPECT_TRUE(ValidateName("Büro \xF0\x9F\x9A\x80", "server"));
  EXPECT_TRUE(ValidateName(std::string(100, 'a'), "server"));
}

TEST(NameTest, RejectsEmptySlashesControlAndTooLong) {
  auto empty = ValidateName("", "server");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(empty.error().message, "server name must not be empty");
  EXPECT_FALSE(ValidateName("a/b", "key"));
  EXPECT_FALSE(ValidateName("a\\b", "key"));
  EXPECT_FALSE(ValidateName(std::string("a\0b", 3), "key"));
  auto long_name = ValidateName(std::string(101, 'a'), "key");
  ASSERT_FALSE(long_name);
  EXPECT_NE(long_name.error().message.find("101 characters"), std::string::npos);
  EXPECT_FALSE(ValidateName("\xC3\x28", "key"));  // invalid UTF-8
}

TEST(NameTest, CountsCodePointsNotBytes) {
  std::string hundred_emoji;
  for (int i = 0; i < 100; ++i) hundred_emoji += "\xF0\x9F\x9A\x80";
  EXPECT_TRUE(ValidateName(hundred_emoji, "server"));
}

TEST(MaskTest, KeepsSixAndFourCharacters) {
  EXPECT_EQ(MaskSecret("eyJhbGciOiJIUzI1NiJ9.e30.abcdY_Yw"), "eyJhbG\xE2\x80\xA6Y_Yw");
  EXPECT_EQ(MaskSecret("short"), "****");
}

TEST(TextTest, TrimAndDisplayWidth) {
  EXPECT_EQ(Trim("  key\n"), "key");
  EXPECT_EQ(DisplayWidth("abc"), 3u);
  EXPECT_EQ(DisplayWidth("\xF0\x9F\x9A\x80"), 2u);
  EXPECT_EQ(DisplayWidth("B\xC3\xBCro"), 4u);
}

}  // namespace
}  // namespace fleet
