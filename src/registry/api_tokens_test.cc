#include "registry/api_tokens.h"

#include <gtest/gtest.h>

#include "storage/sqlite_store.h"

namespace fleet::registry {
namespace {

class ApiTokensTest : public ::testing::Test {
 protected:
  ApiTokensTest() : store_(std::move(*storage::OpenSqliteStore({.path = ":memory:"}))) {}
  std::unique_ptr<storage::Store> store_;
};

TEST_F(ApiTokensTest, IssuedTokenAuthenticatesAndOnlyItsHashIsStored) {
  auto issued = IssueApiToken(*store_, "billing", true, "", 1000);
  ASSERT_TRUE(issued) << issued.error().message;
  EXPECT_EQ(issued->plaintext.size(), 47u);
  EXPECT_EQ(issued->plaintext.rfind("nft_", 0), 0u);
  EXPECT_EQ(issued->token.prefix, issued->plaintext.substr(0, 8));
  auto stored = store_->ListApiTokens();
  ASSERT_TRUE(stored);
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].token_hash, HashToken(issued->plaintext));
  EXPECT_EQ((*stored)[0].token_hash.size(), 64u);
  EXPECT_EQ((*stored)[0].token_hash.find(issued->plaintext.substr(4)), std::string::npos);
  auto token = AuthenticateToken(*store_, issued->plaintext);
  ASSERT_TRUE(token) << token.error().message;
  EXPECT_EQ(token->name, "billing");
  EXPECT_TRUE(token->read_only);
}

TEST_F(ApiTokensTest, TwoTokensDifferAndEachIsItsOwn) {
  auto a = IssueApiToken(*store_, "a", false, "", 1);
  auto b = IssueApiToken(*store_, "b", false, "", 1);
  ASSERT_TRUE(a && b);
  EXPECT_NE(a->plaintext, b->plaintext);
  EXPECT_EQ(AuthenticateToken(*store_, b->plaintext)->name, "b");
}

TEST_F(ApiTokensTest, UnknownMalformedAndRevokedTokensAreRefusedAlike) {
  auto issued = IssueApiToken(*store_, "ci", false, "", 1);
  ASSERT_TRUE(issued);
  std::string forged = issued->plaintext;
  forged.back() = forged.back() == 'A' ? 'B' : 'A';
  for (const std::string& bad : {forged, std::string("nft_short"), std::string(""),
                                 "Bearer " + issued->plaintext, issued->plaintext + "x"}) {
    auto refused = AuthenticateToken(*store_, bad);
    ASSERT_FALSE(refused) << bad;
    EXPECT_EQ(refused.error().code, ErrorCode::kPermissionDenied);
  }
  ASSERT_TRUE(store_->RevokeApiToken("ci", 2));
  auto revoked = AuthenticateToken(*store_, issued->plaintext);
  ASSERT_FALSE(revoked);
  EXPECT_EQ(revoked.error().code, ErrorCode::kPermissionDenied);
  EXPECT_EQ(revoked.error().message.find(issued->plaintext), std::string::npos);
}

TEST_F(ApiTokensTest, NamesAreValidatedAndUnique) {
  EXPECT_EQ(IssueApiToken(*store_, "", false, "", 1).error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(IssueApiToken(*store_, "a/b", false, "", 1).error().code, ErrorCode::kInvalidArgument);
  ASSERT_TRUE(IssueApiToken(*store_, "same", false, "", 1));
  EXPECT_EQ(IssueApiToken(*store_, "same", false, "", 1).error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(IssueApiToken(*store_, "report", false, "no-such-server", 1).error().code,
            ErrorCode::kNotFound);
}

}  // namespace
}  // namespace fleet::registry
