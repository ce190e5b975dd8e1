// Store contract: servers, bulk upsert and transactions. Instantiated per backend.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

std::vector<std::string> Names(const std::vector<Server>& servers) {
  std::vector<std::string> names;
  for (const Server& server : servers) names.push_back(server.name);
  return names;
}

TEST_P(StoreContractTest, CreateServerFillsIdAndTimestamps) {
  auto created = store_->CreateServer(MakeServer("alpha"), kNow);

  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_GT(created->id, 0);
  EXPECT_EQ(created->created_at, kNow);
  EXPECT_EQ(created->updated_at, kNow);
  EXPECT_EQ(created->name, "alpha");
}

TEST_P(StoreContractTest, GetServerReturnsEveryStoredField) {
  Server server = MakeServer("beta", "globex");
  server.skip_tls_verify = true;
  server.auth = AuthMode::kTokenExchange;
  server.subject_email = "fleet@example.com";
  server.subject_role = "global:admin";
  server.active = false;
  const Server created = store_->CreateServer(server, kNow).value();

  auto read = store_->GetServer("beta");

  ASSERT_TRUE(read.has_value()) << read.error().message;
  EXPECT_EQ(read->id, created.id);
  EXPECT_EQ(read->url, "https://beta.example.com");
  EXPECT_EQ(read->customer, "globex");
  EXPECT_EQ(read->description, "the beta instance");
  EXPECT_TRUE(read->skip_tls_verify);
  EXPECT_EQ(read->auth, AuthMode::kTokenExchange);
  EXPECT_EQ(read->subject_email, "fleet@example.com");
  EXPECT_EQ(read->subject_role, "global:admin");
  EXPECT_FALSE(read->active);
  EXPECT_EQ(read->tracking_since, "2026-01-01");
  EXPECT_EQ(read->created_at, kNow);
  EXPECT_EQ(read->updated_at, kNow);
}

TEST_P(StoreContractTest, CreateServerRejectsATakenName) {
  AddServer("alpha");

  auto again = store_->CreateServer(MakeServer("alpha"), kNow + 1);

  ASSERT_FALSE(again.has_value());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(again.error().message, "server 'alpha' already exists");
}

TEST_P(StoreContractTest, GetServerOfAnUnknownNameIsNotFoundAndPointsToTheList) {
  auto missing = store_->GetServer("nope");

  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(missing.error().message, HasSubstr("no server named 'nope'"));
  EXPECT_THAT(missing.error().message, HasSubstr("n8n-fleet server list"));
}

TEST_P(StoreContractTest, ServerNamesAreComparedExactly) {
  AddServer("Acme");
  AddServer("acme");

  EXPECT_EQ(store_->GetServer("Acme").value().name, "Acme");
  EXPECT_EQ(store_->GetServer("ACME").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, ListServersSortsByNameAndAppliesFilters) {
  AddServer("charlie", "acme");
  AddServer("alpha", "globex");
  AddServer("bravo", "acme");
  Server inactive = store_->GetServer("bravo").value();
  inactive.active = false;
  ASSERT_TRUE(store_->UpdateServer(inactive, kNow).has_value());

  auto all = store_->ListServers({});
  auto acme = store_->ListServers({.customer = "acme"});
  auto active = store_->ListServers({.active_only = true});
  auto acme_active = store_->ListServers({.customer = "acme", .active_only = true});
  auto nobody = store_->ListServers({.customer = "initech"});

  EXPECT_THAT(Names(all.value()), ElementsAre("alpha", "bravo", "charlie"));
  EXPECT_THAT(Names(acme.value()), ElementsAre("bravo", "charlie"));
  EXPECT_THAT(Names(active.value()), ElementsAre("alpha", "charlie"));
  EXPECT_THAT(Names(acme_active.value()), ElementsAre("charlie"));
  EXPECT_TRUE(nobody.value().empty());
}

TEST_P(StoreContractTest, UpdateServerReplacesColumnsButKeepsIdAndCreation) {
  const Server created = AddServer("alpha");
  Server changed = MakeServer("alpha", "globex");
  changed.url = "https://new.example.com";
  changed.auth = AuthMode::kTokenExchange;
  changed.created_at = 1;  // ignored
  changed.id = 999;        // ignored

  ASSERT_TRUE(store_->UpdateServer(changed, kNow + 60).has_value());

  const Server read = store_->GetServer("alpha").value();
  EXPECT_EQ(read.id, created.id);
  EXPECT_EQ(read.url, "https://new.example.com");
  EXPECT_EQ(read.customer, "globex");
  EXPECT_EQ(read.auth, AuthMode::kTokenExchange);
  EXPECT_EQ(read.created_at, kNow);
  EXPECT_EQ(read.updated_at, kNow + 60);
}

TEST_P(StoreContractTest, UpdateServerOfAnUnknownNameIsNotFound) {
  auto updated = store_->UpdateServer(MakeServer("ghost"), kNow);

  ASSERT_FALSE(updated.has_value());
  EXPECT_EQ(updated.error().code, ErrorCode::kNotFound);
  EXPECT_THAT(updated.error().message, HasSubstr("'ghost'"));
}

TEST_P(StoreContractTest, DeleteServerRemovesItsLinksButKeepsKeysByDefault) {
  AddServer("alpha");
  AddKey("k1");
  AddLink("k1", "alpha", true);

  auto deleted = store_->DeleteServer("alpha", false);

  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_TRUE(deleted->empty());
  EXPECT_EQ(store_->GetServer("alpha").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->GetApiKey("k1").value().servers.empty());
}

TEST_P(StoreContractTest, DeleteServerWithExclusiveKeysKeepsKeysSharedWithOtherServers) {
  AddServer("alpha");
  AddServer("beta");
  AddKey("only-alpha");
  AddKey("shared");
  AddKey("unlinked");
  AddLink("only-alpha", "alpha", true);
  AddLink("shared", "alpha");
  AddLink("shared", "beta");

  auto deleted = store_->DeleteServer("alpha", true);

  ASSERT_TRUE(deleted.has_value()) << deleted.error().message;
  EXPECT_THAT(*deleted, ElementsAre("only-alpha"));
  EXPECT_EQ(store_->GetApiKey("only-alpha").error().code, ErrorCode::kNotFound);
  EXPECT_THAT(store_->GetApiKey("shared").value().servers, ElementsAre("beta"));
  EXPECT_TRUE(store_->GetApiKey("unlinked").has_value());
}

TEST_P(StoreContractTest, DeleteServerOfAnUnknownNameIsNotFound) {
  auto deleted = store_->DeleteServer("ghost", true);

  ASSERT_FALSE(deleted.has_value());
  EXPECT_EQ(deleted.error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, UpsertServersCountsCreatedUpdatedAndUnchanged) {
  const Server same = AddServer("same");
  AddServer("changed");
  Server changed = MakeServer("changed");
  changed.customer = "globex";

  auto counts = store_->UpsertServers({MakeServer("same"), changed, MakeServer("new")}, kNow + 5);

  ASSERT_TRUE(counts.has_value()) << counts.error().message;
  EXPECT_EQ(counts->created, 1);
  EXPECT_EQ(counts->updated, 1);
  EXPECT_EQ(counts->unchanged, 1);
  EXPECT_EQ(store_->GetServer("same").value().updated_at, same.updated_at);
  EXPECT_EQ(store_->GetServer("changed").value().customer, "globex");
  EXPECT_EQ(store_->GetServer("changed").value().updated_at, kNow + 5);
  EXPECT_EQ(store_->GetServer("new").value().created_at, kNow + 5);
}

TEST_P(StoreContractTest, UpsertServersAppliesNothingWhenOneRowFails) {
  AddServer("existing");
  Server changed = MakeServer("existing", "globex");

  auto counts = store_->UpsertServers({MakeServer("fresh"), changed, MakeServer("")}, kNow);

  ASSERT_FALSE(counts.has_value());
  EXPECT_EQ(store_->GetServer("fresh").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetServer("existing").value().customer, "acme");
}

TEST_P(StoreContractTest, TransactionCommitsTheBodysChanges) {
  auto done = store_->Transaction([&]() -> Result<void> {
    if (auto a = store_->CreateServer(MakeServer("a"), kNow); !a) return tl::unexpected(a.error());
    return store_->SetMeta("setting", "on");
  });

  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(store_->GetServer("a").has_value());
  EXPECT_EQ(store_->GetMeta("setting").value(), "on");
}

TEST_P(StoreContractTest, TransactionRollsBackAndReturnsTheBodysError) {
  auto done = store_->Transaction([&]() -> Result<void> {
    if (auto a = store_->CreateServer(MakeServer("a"), kNow); !a) return tl::unexpected(a.error());
    return MakeError(ErrorCode::kCancelled, "changed my mind");
  });

  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().code, ErrorCode::kCancelled);
  EXPECT_EQ(done.error().message, "changed my mind");
  EXPECT_EQ(store_->GetServer("a").error().code, ErrorCode::kNotFound);
  EXPECT_TRUE(store_->CreateServer(MakeServer("b"), kNow).has_value());
}

TEST_P(StoreContractTest, FailedNestedTransactionKeepsTheOuterOnesChanges) {
  auto done = store_->Transaction([&]() -> Result<void> {
    if (auto a = store_->CreateServer(MakeServer("outer"), kNow); !a) {
      return tl::unexpected(a.error());
    }
    auto inner = store_->Transaction([&]() -> Result<void> {
      if (auto b = store_->CreateServer(MakeServer("inner"), kNow); !b) {
        return tl::unexpected(b.error());
      }
      return MakeError(ErrorCode::kCancelled, "inner fails");
    });
    EXPECT_FALSE(inner.has_value());
    return store_->SetMeta("after-inner", "yes");
  });

  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_TRUE(store_->GetServer("outer").has_value());
  EXPECT_EQ(store_->GetServer("inner").error().code, ErrorCode::kNotFound);
  EXPECT_EQ(store_->GetMeta("after-inner").value(), "yes");
}

TEST_P(StoreContractTest, FailedOuterTransactionUndoesACommittedInnerOne) {
  auto done = store_->Transaction([&]() -> Result<void> {
    auto inner = store_->Transaction([&]() -> Result<void> {
      auto created = store_->CreateServer(MakeServer("inner"), kNow);
      if (!created) return tl::unexpected(created.error());
      return {};
    });
    if (!inner) return inner;
    return MakeError(ErrorCode::kCancelled, "outer fails");
  });

  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(store_->GetServer("inner").error().code, ErrorCode::kNotFound);
}

TEST_P(StoreContractTest, MultiStatementMethodsJoinAnEnclosingTransaction) {
  AddServer("alpha");
  AddKey("k1");

  auto done = store_->Transaction([&]() -> Result<void> {
    if (auto linked = store_->Link("k1", "alpha", true, kNow); !linked) return linked;
    auto upserted = store_->UpsertServers({MakeServer("beta")}, kNow);
    if (!upserted) return tl::unexpected(upserted.error());
    return MakeError(ErrorCode::kCancelled, "roll it all back");
  });

  ASSERT_FALSE(done.has_value());
  EXPECT_TRUE(store_->ListServerKeys("alpha").value().empty());
  EXPECT_EQ(store_->GetServer("beta").error().code, ErrorCode::kNotFound);
}

}  // namespace
}  // namespace fleet::storage
