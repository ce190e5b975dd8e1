// Store contract: token-exchange signing keys. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

SigningKey MakeSigningKey(const std::string& kid,
                          SigningKeyState state = SigningKeyState::kStandby) {
  SigningKey key;
  key.kid = kid;
  key.alg = "ES256";
  key.issuer = "https://fleet.example.com";
  key.sealed_private_key = std::string("\x01sealed\0pkcs8-", 14) + kid;
  key.public_pem = "-----BEGIN PUBLIC KEY-----\n" + kid + "\n-----END PUBLIC KEY-----\n";
  key.state = state;
  return key;
}

// "kid:state" of every key, oldest first.
std::vector<std::string> States(Store& store) {
  std::vector<std::string> states;
  auto keys = store.ListSigningKeys();
  EXPECT_TRUE(keys.has_value()) << keys.error().message;
  for (const SigningKey& key : keys.value_or(std::vector<SigningKey>{})) {
    states.push_back(key.kid + ":" + std::string(SigningKeyStateName(key.state)));
  }
  return states;
}

// Passes a successful result; a failure shows the store's message.
::testing::AssertionResult Ok(const Result<SigningKey>& result) {
  if (result.has_value()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << result.error().message;
}

TEST_P(StoreContractTest, CreateSigningKeyRoundTripsEveryField) {
  auto created = store_->CreateSigningKey(MakeSigningKey("k1"), kNow);
  ASSERT_TRUE(created.has_value()) << created.error().message;

  auto read = store_->GetSigningKey("k1");

  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(read->id, created->id);
  EXPECT_EQ(read->kid, "k1");
  EXPECT_EQ(read->alg, "ES256");
  EXPECT_EQ(read->issuer, "https://fleet.example.com");
  EXPECT_EQ(read->sealed_private_key, MakeSigningKey("k1").sealed_private_key);  // NUL inside
  EXPECT_EQ(read->public_pem, MakeSigningKey("k1").public_pem);
  EXPECT_EQ(read->state, SigningKeyState::kStandby);
  EXPECT_EQ(read->created_at, kNow);
  EXPECT_EQ(read->activated_at, std::nullopt);
  EXPECT_EQ(read->retired_at, std::nullopt);
  EXPECT_EQ(created->created_at, kNow);
}

TEST_P(StoreContractTest, CreatingAnActiveSigningKeyDemotesTheOldOne) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("old", SigningKeyState::kActive), kNow)));

  auto created =
      store_->CreateSigningKey(MakeSigningKey("new", SigningKeyState::kActive), kNow + 10);

  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->activated_at, kNow + 10);
  EXPECT_THAT(States(*store_), ElementsAre("old:standby", "new:active"));
  EXPECT_EQ(store_->GetActiveSigningKey().value().kid, "new");
  EXPECT_EQ(store_->GetSigningKey("old").value().activated_at, kNow);
}

TEST_P(StoreContractTest, CreatingARetiredSigningKeyRecordsWhen) {
  auto created = store_->CreateSigningKey(MakeSigningKey("gone", SigningKeyState::kRetired), kNow);

  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(store_->GetSigningKey("gone").value().retired_at, kNow);
  EXPECT_EQ(store_->GetSigningKey("gone").value().activated_at, std::nullopt);
}

TEST_P(StoreContractTest, CreateSigningKeyRejectsATakenKidAndKeepsTheActiveKey) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow)));

  auto again = store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow + 5);

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_THAT(again.error().message, HasSubstr("signing key 'k1' already exists"));
  EXPECT_THAT(again.error().message, HasSubstr("n8n-fleet key list"));
  EXPECT_THAT(again.error().message, Not(HasSubstr("sealed")));
  // The demotion that preceded the failed insert was rolled back.
  EXPECT_THAT(States(*store_), ElementsAre("k1:active"));
  EXPECT_EQ(store_->GetActiveSigningKey().value().activated_at, kNow);
}

TEST_P(StoreContractTest, CreateSigningKeyRefusesAnAlgorithmOutsideRs256AndEs256) {
  SigningKey key = MakeSigningKey("hmac", SigningKeyState::kActive);
  key.alg = "HS256";

  auto created = store_->CreateSigningKey(key, kNow);

  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().code, ErrorCode::kInvalidArgument);
  EXPECT_TRUE(States(*store_).empty());
}

TEST_P(StoreContractTest, GetSigningKeyOfAnUnknownKidIsNotFoundAndPointsToTheList) {
  auto missing = store_->GetSigningKey("nope");

  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("no signing key with kid 'nope'"));
  EXPECT_THAT(missing.error().message, HasSubstr("n8n-fleet key list"));
}

TEST_P(StoreContractTest, ListSigningKeysIsOldestFirst) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("c"), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("a"), kNow + 1)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("b"), kNow + 1)));

  EXPECT_THAT(States(*store_), ElementsAre("c:standby", "a:standby", "b:standby"));
}

TEST_P(StoreContractTest, WithoutAnActiveSigningKeyGetActiveSuggestsGenerate) {
  auto empty = store_->GetActiveSigningKey();
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("spare"), kNow)));
  auto only_standby = store_->GetActiveSigningKey();

  for (const auto* missing : {&empty, &only_standby}) {
    ASSERT_FALSE(missing->has_value());
    EXPECT_EQ(missing->error().code, ErrorCode::kNotFound);
    EXPECT_THAT(missing->error().message, HasSubstr("no active signing key"));
    EXPECT_THAT(missing->error().message, HasSubstr("n8n-fleet key generate"));
  }
}

TEST_P(StoreContractTest, ActivatingAStandbySigningKeyDemotesTheOldActive) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("old", SigningKeyState::kActive), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("next"), kNow + 1)));

  ASSERT_TRUE(store_->ActivateSigningKey("next", kNow + 100).has_value());

  EXPECT_THAT(States(*store_), ElementsAre("old:standby", "next:active"));
  const SigningKey active = store_->GetActiveSigningKey().value();
  EXPECT_EQ(active.kid, "next");
  EXPECT_EQ(active.activated_at, kNow + 100);
  EXPECT_EQ(active.created_at, kNow + 1);
}

TEST_P(StoreContractTest, ActivatingTheActiveSigningKeyKeepsItsActivationTime) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow)));

  ASSERT_TRUE(store_->ActivateSigningKey("k1", kNow + 100).has_value());

  EXPECT_EQ(store_->GetActiveSigningKey().value().activated_at, kNow);
}

TEST_P(StoreContractTest, ActivatingOrRetiringAnUnknownSigningKeyIsNotFound) {
  auto activated = store_->ActivateSigningKey("ghost", kNow);
  auto retired = store_->RetireSigningKey("ghost", kNow);

  ASSERT_FALSE(activated.has_value());
  EXPECT_EQ(activated.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(activated.error().message, HasSubstr("n8n-fleet key list"));
  ASSERT_FALSE(retired.has_value());
  EXPECT_EQ(retired.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ARetiredSigningKeyCannotBeActivatedAgain) {
  ASSERT_TRUE(
      Ok(store_->CreateSigningKey(MakeSigningKey("current", SigningKeyState::kActive), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("old"), kNow + 1)));
  ASSERT_TRUE(store_->RetireSigningKey("old", kNow + 2).has_value());

  auto activated = store_->ActivateSigningKey("old", kNow + 3);

  ASSERT_FALSE(activated.has_value());
  EXPECT_EQ(activated.error().code, ErrorCode::kFailedPrecondition);
  EXPECT_THAT(activated.error().message, HasSubstr("signing key 'old' is retired"));
  EXPECT_THAT(activated.error().message, HasSubstr("n8n-fleet key generate"));
  EXPECT_THAT(States(*store_), ElementsAre("current:active", "old:retired"));
}

TEST_P(StoreContractTest, RetiringTheActiveSigningKeyLeavesNoneActive) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k2"), kNow)));

  ASSERT_TRUE(store_->RetireSigningKey("k1", kNow + 50).has_value());

  EXPECT_EQ(store_->GetActiveSigningKey().error().code, ErrorCode::kNotFound);
  EXPECT_THAT(States(*store_), ElementsAre("k1:retired", "k2:standby"));
  const SigningKey retired = store_->GetSigningKey("k1").value();
  EXPECT_EQ(retired.retired_at, kNow + 50);
  EXPECT_EQ(retired.activated_at, kNow);
  // A standby key can take over afterwards.
  ASSERT_TRUE(store_->ActivateSigningKey("k2", kNow + 60).has_value());
  EXPECT_EQ(store_->GetActiveSigningKey().value().kid, "k2");
}

TEST_P(StoreContractTest, RetiringTwiceKeepsTheFirstRetirementTime) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k2"), kNow)));

  ASSERT_TRUE(store_->RetireSigningKey("k2", kNow + 5).has_value());
  ASSERT_TRUE(store_->RetireSigningKey("k2", kNow + 9).has_value());

  EXPECT_EQ(store_->GetSigningKey("k2").value().retired_at, kNow + 5);
  EXPECT_EQ(store_->GetActiveSigningKey().value().kid, "k1");
}

TEST_P(StoreContractTest, AtMostOneSigningKeyIsActiveThroughARotation) {
  const auto active_count = [&] {
    int count = 0;
    const std::vector<SigningKey> keys = store_->ListSigningKeys().value();
    for (const SigningKey& key : keys) {
      count += key.state == SigningKeyState::kActive ? 1 : 0;
    }
    return count;
  };
  int64_t now = kNow;
  for (int round = 0; round < 4; ++round) {
    const std::string kid = "k" + std::to_string(round);
    ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey(kid), ++now)));
    EXPECT_EQ(active_count(), round == 0 ? 0 : 1);
    ASSERT_TRUE(store_->ActivateSigningKey(kid, ++now).has_value());
    EXPECT_EQ(active_count(), 1);
    EXPECT_EQ(store_->GetActiveSigningKey().value().kid, kid);
    if (round > 0) {
      ASSERT_TRUE(store_->RetireSigningKey("k" + std::to_string(round - 1), ++now).has_value());
    }
  }
  EXPECT_THAT(States(*store_), ElementsAre("k0:retired", "k1:retired", "k2:retired", "k3:active"));
}

TEST_P(StoreContractTest, StatusCountsSigningKeys) {
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k1", SigningKeyState::kActive), kNow)));
  ASSERT_TRUE(Ok(store_->CreateSigningKey(MakeSigningKey("k2", SigningKeyState::kRetired), kNow)));

  EXPECT_EQ(store_->Status().value().signing_keys, 2);
}

}  // namespace
}  // namespace fleet::storage
