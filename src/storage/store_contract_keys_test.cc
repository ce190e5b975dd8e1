// Store contract: API keys, links, metadata and status. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<std::string> KeyNames(const std::vector<LinkedKey>& keys) {
  std::vector<std::string> names;
  for (const LinkedKey& key : keys) names.push_back(key.key_name + (key.primary ? "*" : ""));
  return names;
}

TEST_P(StoreContractTest, CreateApiKeyRoundTripsEveryField) {
  const ApiKey created = AddKey("k1");

  auto read = store_->GetApiKey("k1");

  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_GT(created.id, 0);
  EXPECT_EQ(read->id, created.id);
  EXPECT_EQ(read->sealed_secret, MakeKey("k1").sealed_secret);  // binary, with a NUL inside
  EXPECT_EQ(read->masked, "eyJhbG…k1");
  EXPECT_EQ(read->description, "key k1");
  EXPECT_TRUE(read->active);
  EXPECT_EQ(read->issued_at, 1700000000);
  EXPECT_EQ(read->expires_at, 1800000000);
  EXPECT_EQ(read->created_at, kNow);
  EXPECT_EQ(read->last_used_at, std::nullopt);
  EXPECT_TRUE(read->servers.empty());
}

TEST_P(StoreContractTest, CreateApiKeyKeepsAbsentTimesAbsent) {
  ApiKey key = MakeKey("plain");
  key.issued_at.reset();
  key.expires_at.reset();
  ASSERT_TRUE(store_->CreateApiKey(key, kNow).has_value());

  const ApiKey read = store_->GetApiKey("plain").value();

  EXPECT_EQ(read.issued_at, std::nullopt);
  EXPECT_EQ(read.expires_at, std::nullopt);
}

TEST_P(StoreContractTest, CreateApiKeyRejectsATakenNameWithoutEchoingTheSecret) {
  AddKey("k1");

  auto again = store_->CreateApiKey(MakeKey("k1"), kNow);

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message, "API key 'k1' already exists");
  EXPECT_THAT(again.error().message, Not(HasSubstr("sealed")));
}

TEST_P(StoreContractTest, GetApiKeyOfAnUnknownNameIsNotFoundAndPointsToTheList) {
  auto missing = store_->GetApiKey("nope");

  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("no API key named 'nope'"));
  EXPECT_THAT(missing.error().message, HasSubstr("n8n-fleet apikey list"));
}

TEST_P(StoreContractTest, GetAndListApiKeysFillLinkedServerNamesSorted) {
  AddServer("zulu");
  AddServer("alpha");
  AddKey("k2");
  AddKey("k1");
  AddLink("k1", "zulu");
  AddLink("k1", "alpha");

  auto one = store_->GetApiKey("k1");
  auto all = store_->ListApiKeys();

  EXPECT_THAT(one.value().servers, ElementsAre("alpha", "zulu"));
  ASSERT_TRUE(all.has_value()) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].name, "k1");
  EXPECT_THAT((*all)[0].servers, ElementsAre("alpha", "zulu"));
  EXPECT_EQ((*all)[1].name, "k2");
  EXPECT_TRUE((*all)[1].servers.empty());
}

TEST_P(StoreContractTest, SetApiKeyActiveTogglesTheFlag) {
  AddKey("k1");

  ASSERT_TRUE(store_->SetApiKeyActive("k1", false).has_value());
  EXPECT_FALSE(store_->GetApiKey("k1").value().active);
  ASSERT_TRUE(store_->SetApiKeyActive("k1", true).has_value());
  EXPECT_TRUE(store_->GetApiKey("k1").value().active);
  EXPECT_EQ(store_->SetApiKeyActive("ghost", true).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ReplaceApiKeySecretKeepsLinksAndDescription) {
  AddServer("alpha");
  AddKey("k1");
  AddLink("k1", "alpha", true);
  ApiKey rotated;
  rotated.name = "k1";
  rotated.sealed_secret = "new-sealed";
  rotated.masked = "eyJnew…abcd";
  rotated.expires_at = 1900000000;
  rotated.description = "ignored";

  ASSERT_TRUE(store_->ReplaceApiKeySecret(rotated).has_value());

  const ApiKey read = store_->GetApiKey("k1").value();
  EXPECT_EQ(read.sealed_secret, "new-sealed");
  EXPECT_EQ(read.masked, "eyJnew…abcd");
  EXPECT_EQ(read.issued_at, std::nullopt);
  EXPECT_EQ(read.expires_at, 1900000000);
  EXPECT_EQ(read.description, "key k1");
  EXPECT_THAT(read.servers, ElementsAre("alpha"));
  EXPECT_THAT(KeyNames(store_->ListServerKeys("alpha").value()), ElementsAre("k1*"));
  rotated.name = "ghost";
  EXPECT_EQ(store_->ReplaceApiKeySecret(rotated).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, TouchApiKeyRecordsLastUse) {
  AddKey("k1");

  ASSERT_TRUE(store_->TouchApiKey("k1", kNow + 100).has_value());

  EXPECT_EQ(store_->GetApiKey("k1").value().last_used_at, kNow + 100);
  EXPECT_EQ(store_->TouchApiKey("ghost", kNow).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, DeleteApiKeyRemovesItAndItsLinks) {
  AddServer("alpha");
  AddKey("k1");
  AddKey("k2");
  AddLink("k1", "alpha", true);
  AddLink("k2", "alpha");

  ASSERT_TRUE(store_->DeleteApiKey("k1").has_value());

  EXPECT_EQ(store_->GetApiKey("k1").error().code, ErrorCode::kNotFound);
  EXPECT_THAT(KeyNames(store_->ListServerKeys("alpha").value()), ElementsAre("k2"));
  EXPECT_EQ(store_->DeleteApiKey("k1").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, LinkNamesTheMissingServerOrKey) {
  AddServer("alpha");
  AddKey("k1");

  auto no_key = store_->Link("ghost", "alpha", false, kNow);
  auto no_server = store_->Link("k1", "nowhere", false, kNow);

  EXPECT_EQ(no_key.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(no_key.error().message, HasSubstr("no API key named 'ghost'"));
  EXPECT_EQ(no_server.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(no_server.error().message, HasSubstr("no server named 'nowhere'"));
}

TEST_P(StoreContractTest, ListServerKeysPutsThePrimaryFirstThenSortsByName) {
  AddServer("alpha");
  AddKey("c");
  AddKey("a");
  AddKey("b");
  AddLink("c", "alpha", true);
  AddLink("b", "alpha");
  AddLink("a", "alpha");

  auto keys = store_->ListServerKeys("alpha");

  ASSERT_TRUE(keys.has_value()) << keys.error().message;
  EXPECT_THAT(KeyNames(*keys), ElementsAre("c*", "a", "b"));
  EXPECT_EQ((*keys)[0].description, "key c");
  EXPECT_TRUE((*keys)[0].active);
  EXPECT_EQ((*keys)[0].linked_at, kNow);
  EXPECT_EQ(store_->ListServerKeys("ghost").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, LinkingAPrimaryKeyDemotesTheServersPreviousPrimary) {
  AddServer("alpha");
  AddServer("beta");
  AddKey("old");
  AddKey("new");
  AddLink("old", "alpha", true);
  AddLink("old", "beta", true);

  AddLink("new", "alpha", true);

  EXPECT_THAT(KeyNames(store_->ListServerKeys("alpha").value()), ElementsAre("new*", "old"));
  EXPECT_THAT(KeyNames(store_->ListServerKeys("beta").value()), ElementsAre("old*"));
}

TEST_P(StoreContractTest, RelinkingUpdatesPrimaryAndKeepsTheLinkTime) {
  AddServer("alpha");
  AddKey("k1");
  AddKey("k2");
  AddLink("k1", "alpha", true);
  AddLink("k2", "alpha");

  ASSERT_TRUE(store_->Link("k2", "alpha", true, kNow + 50).has_value());
  auto after_promote = store_->ListServerKeys("alpha").value();
  ASSERT_TRUE(store_->Link("k2", "alpha", false, kNow + 60).has_value());
  auto after_demote = store_->ListServerKeys("alpha").value();

  EXPECT_THAT(KeyNames(after_promote), ElementsAre("k2*", "k1"));
  EXPECT_EQ(after_promote[0].linked_at, kNow);
  EXPECT_THAT(KeyNames(after_demote), ElementsAre("k1", "k2"));
  EXPECT_EQ(store_->Status().value().links, 2);
}

TEST_P(StoreContractTest, UnlinkRemovesOnlyThatLink) {
  AddServer("alpha");
  AddServer("beta");
  AddKey("k1");
  AddLink("k1", "alpha", true);
  AddLink("k1", "beta");

  ASSERT_TRUE(store_->Unlink("k1", "alpha").has_value());

  EXPECT_TRUE(store_->ListServerKeys("alpha").value().empty());
  EXPECT_THAT(store_->GetApiKey("k1").value().servers, ElementsAre("beta"));
}

TEST_P(StoreContractTest, UnlinkOfAnAbsentLinkIsNotFound) {
  AddServer("alpha");
  AddKey("k1");

  auto unlinked = store_->Unlink("k1", "alpha");

  ASSERT_FALSE(unlinked.has_value());
  EXPECT_EQ(unlinked.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(unlinked.error().message, HasSubstr("not linked"));
  EXPECT_EQ(store_->Unlink("ghost", "alpha").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, MetaReadsAbsentKeysAsNulloptAndOverwrites) {
  EXPECT_EQ(store_->GetMeta("check").value(), std::nullopt);

  ASSERT_TRUE(store_->SetMeta("check", std::string("a\0b", 3)).has_value());
  EXPECT_EQ(store_->GetMeta("check").value(), std::string("a\0b", 3));
  ASSERT_TRUE(store_->SetMeta("check", "second").has_value());
  EXPECT_EQ(store_->GetMeta("check").value(), "second");
  ASSERT_TRUE(store_->SetMeta("empty", "").has_value());
  EXPECT_EQ(store_->GetMeta("empty").value(), "");
}

TEST_P(StoreContractTest, StatusCountsRows) {
  AddServer("alpha");
  AddServer("beta");
  AddKey("k1");
  AddLink("k1", "alpha");
  AddLink("k1", "beta");

  auto status = store_->Status();

  ASSERT_TRUE(status.has_value()) << status.error().message;
  EXPECT_FALSE(status->backend.empty());
  EXPECT_GT(status->schema_version, 0);
  EXPECT_EQ(status->servers, 2);
  EXPECT_EQ(status->api_keys, 1);
  EXPECT_EQ(status->links, 2);
}

}  // namespace
}  // namespace fleet::storage
