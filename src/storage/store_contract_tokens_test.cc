// Store contract: API tokens and instances' report tokens. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

ApiToken MakeToken(const std::string& name, const std::string& server = "") {
  ApiToken token;
  token.name = name;
  token.token_hash = std::string(56, 'a') + (name + "00000000").substr(0, 8);
  token.prefix = "nft_" + name.substr(0, 4);
  token.server = server;
  return token;
}

// "name server read_only revoked?" of every token, by name.
std::vector<std::string> Tokens(Store& store) {
  std::vector<std::string> rows;
  auto tokens = store.ListApiTokens();
  EXPECT_TRUE(tokens.has_value()) << tokens.error().message;
  for (const ApiToken& token : tokens.value_or(std::vector<ApiToken>{})) {
    rows.push_back(token.name + " " + (token.server.empty() ? "-" : token.server) + " " +
                   (token.read_only ? "ro" : "rw") + " " +
                   (token.revoked_at.has_value() ? "revoked" : "live"));
  }
  return rows;
}

TEST_P(StoreContractTest, CreateApiTokenFillsIdAndCreatedAtAndRoundTripsEveryField) {
  AddServer("alpha");
  ApiToken api = MakeToken("dashboard");
  api.read_only = true;

  auto created = store_->CreateApiToken(api, kNow);
  auto report = store_->CreateApiToken(MakeToken("alpha-report", "alpha"), kNow + 1);

  ASSERT_TRUE(created.has_value()) << created.error().message;
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_GT(created->id, 0);
  EXPECT_NE(created->id, report->id);
  EXPECT_EQ(created->created_at, kNow);
  auto found = store_->FindApiToken(api.token_hash);
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_EQ(found->id, created->id);
  EXPECT_EQ(found->name, "dashboard");
  EXPECT_EQ(found->token_hash, api.token_hash);
  EXPECT_EQ(found->prefix, "nft_dash");
  EXPECT_TRUE(found->read_only);
  EXPECT_EQ(found->server, "");
  EXPECT_EQ(found->created_at, kNow);
  EXPECT_FALSE(found->last_used_at.has_value());
  EXPECT_FALSE(found->revoked_at.has_value());
  auto found_report = store_->FindApiToken(report->token_hash);
  ASSERT_TRUE(found_report.has_value()) << found_report.error().message;
  EXPECT_EQ(found_report->server, "alpha");
  EXPECT_EQ(found_report->created_at, kNow + 1);
  EXPECT_THAT(Tokens(*store_), ElementsAre("alpha-report alpha rw live", "dashboard - ro live"));
}

TEST_P(StoreContractTest, ATakenTokenNameOrHashIsRefusedAndStoresNothing) {
  AddServer("alpha");
  ASSERT_TRUE(store_->CreateApiToken(MakeToken("ci"), kNow).has_value());
  ApiToken same_name = MakeToken("ci-other");
  same_name.name = "ci";
  ApiToken same_hash = MakeToken("ci", "alpha");
  same_hash.name = "other";

  auto by_name = store_->CreateApiToken(same_name, kNow);
  auto by_hash = store_->CreateApiToken(same_hash, kNow);

  ASSERT_FALSE(by_name.has_value());
  EXPECT_EQ(by_name.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(by_name.error().message, HasSubstr("'ci'"));
  ASSERT_FALSE(by_hash.has_value());
  EXPECT_EQ(by_hash.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(by_hash.error().message, HasSubstr("hash"));
  EXPECT_THAT(Tokens(*store_), ElementsAre("ci - rw live"));
  EXPECT_EQ(store_->FindApiToken(same_name.token_hash).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, AReportTokenForAnUnknownServerIsNotFoundAndStoresNothing) {
  auto created = store_->CreateApiToken(MakeToken("ghost-report", "ghost"), kNow);

  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(created.error().message, HasSubstr("'ghost'"));
  EXPECT_TRUE(Tokens(*store_).empty());
}

TEST_P(StoreContractTest, FindApiTokenOfAnUnknownHashIsNotFoundWithoutEchoingIt) {
  ASSERT_TRUE(store_->CreateApiToken(MakeToken("ci"), kNow).has_value());

  auto found = store_->FindApiToken("0123456789abcdef");

  ASSERT_FALSE(found.has_value());
  EXPECT_EQ(found.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(found.error().message, ::testing::Not(HasSubstr("0123456789abcdef")));
}

TEST_P(StoreContractTest, RevokingKeepsTheFirstRevokedAtAndTheNameStaysTaken) {
  const ApiToken token = MakeToken("ci");
  ASSERT_TRUE(store_->CreateApiToken(token, kNow).has_value());

  ASSERT_TRUE(store_->RevokeApiToken("ci", kNow + 10).has_value());
  ASSERT_TRUE(store_->RevokeApiToken("ci", kNow + 20).has_value());

  auto found = store_->FindApiToken(token.token_hash);
  ASSERT_TRUE(found.has_value()) << found.error().message;
  EXPECT_EQ(found->revoked_at, std::optional<int64_t>(kNow + 10));
  EXPECT_THAT(Tokens(*store_), ElementsAre("ci - rw revoked"));
  ApiToken again = MakeToken("ci2");
  again.name = "ci";
  EXPECT_EQ(store_->CreateApiToken(again, kNow).error().code, ErrorCode::kAlreadyExists);
  auto unknown = store_->RevokeApiToken("nobody", kNow);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unknown.error().message, HasSubstr("'nobody'"));
}

TEST_P(StoreContractTest, TouchApiTokenRecordsTheLastUseOfThatTokenOnly) {
  auto ci = store_->CreateApiToken(MakeToken("ci"), kNow);
  auto ops = store_->CreateApiToken(MakeToken("ops"), kNow);
  ASSERT_TRUE(ci.has_value() && ops.has_value());

  ASSERT_TRUE(store_->TouchApiToken(ci->id, kNow + 5).has_value());
  ASSERT_TRUE(store_->TouchApiToken(ci->id, kNow + 7).has_value());

  EXPECT_EQ(store_->FindApiToken(ci->token_hash).value().last_used_at,
            std::optional<int64_t>(kNow + 7));
  EXPECT_FALSE(store_->FindApiToken(ops->token_hash).value().last_used_at.has_value());
  EXPECT_EQ(store_->TouchApiToken(ops->id + 100, kNow).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, DeletingAServerDeletesItsReportTokensButNoOtherToken) {
  AddServer("alpha");
  AddServer("beta");
  const ApiToken alpha_report = MakeToken("alpha-report", "alpha");
  for (const ApiToken& token : {alpha_report, MakeToken("beta-report", "beta"), MakeToken("ci")}) {
    ASSERT_TRUE(store_->CreateApiToken(token, kNow).has_value()) << token.name;
  }

  ASSERT_TRUE(store_->DeleteServer("alpha", false).has_value());

  EXPECT_THAT(Tokens(*store_), ElementsAre("beta-report beta rw live", "ci - rw live"));
  EXPECT_EQ(store_->FindApiToken(alpha_report.token_hash).error().code, ErrorCode::kNotFound);
  // The name is free again with the server gone.
  AddServer("alpha");
  EXPECT_TRUE(store_->CreateApiToken(MakeToken("alpha-report", "alpha"), kNow).has_value());
}

}  // namespace
}  // namespace fleet::storage
