// Store contract: DataVersion, the change counter report caches are keyed by. Instantiated per
// backend.

#include <gtest/gtest.h>

#include "storage/store_contract_test.h"

namespace fleet::storage {
namespace {

DailyUsage Usage(const std::string& server, const std::string& day, int64_t total,
                 const std::string& source = "pull") {
  DailyUsage usage;
  usage.server = server;
  usage.day = day;
  usage.total = total;
  usage.collected_at = 1770000000;
  usage.source = source;
  return usage;
}

int64_t VersionOf(Store& store) {
  auto version = store.DataVersion();
  EXPECT_TRUE(version.has_value()) << version.error().message;
  return version.value_or(-1);
}

// Runs `write` and expects the version to have changed.
template <class Write>
void ExpectBump(Store& store, const char* what, Write write) {
  const int64_t before = VersionOf(store);
  write();
  EXPECT_NE(VersionOf(store), before) << what;
}

TEST_P(StoreContractTest, DataVersionChangesWithEveryUsageWrite) {
  AddServer("alpha", "acme");

  ExpectBump(*store_, "a new pulled day",
             [&] { ASSERT_TRUE(store_->UpsertDailyUsage({Usage("alpha", "2026-03-05", 10)})); });
  ExpectBump(*store_, "a pulled day replaced",
             [&] { ASSERT_TRUE(store_->UpsertDailyUsage({Usage("alpha", "2026-03-05", 11)})); });
  ExpectBump(*store_, "a pushed day", [&] {
    ASSERT_TRUE(store_->UpsertDailyUsage({Usage("alpha", "2026-03-06", 5, "push")}));
  });
  ExpectBump(*store_, "an instance report", [&] {
    InstanceReport report;
    report.server = "alpha";
    report.batch_id = "b-1";
    report.received_at = kNow;
    ASSERT_TRUE(store_->RecordInstanceReport(report, {Usage("alpha", "2026-03-07", 3, "push")}));
  });
}

TEST_P(StoreContractTest, DataVersionChangesWithTheServerFieldsTotalsRead) {
  ExpectBump(*store_, "a server created", [&] { AddServer("alpha", "acme"); });
  ExpectBump(*store_, "servers upserted",
             [&] { ASSERT_TRUE(store_->UpsertServers({MakeServer("beta", "acme")}, kNow)); });
  Server alpha = store_->GetServer("alpha").value();
  alpha.customer = "globex";
  ExpectBump(*store_, "another customer", [&] { ASSERT_TRUE(store_->UpdateServer(alpha, kNow)); });
  alpha.active = false;
  ExpectBump(*store_, "deactivated", [&] { ASSERT_TRUE(store_->UpdateServer(alpha, kNow)); });
  alpha.tracking_since = "2026-02-01";
  ExpectBump(*store_, "another tracking start",
             [&] { ASSERT_TRUE(store_->UpdateServer(alpha, kNow)); });
  ASSERT_TRUE(store_->UpsertDailyUsage({Usage("alpha", "2026-03-05", 10)}));
  ExpectBump(*store_, "a server removed",
             [&] { ASSERT_TRUE(store_->DeleteServer("alpha", false)); });
}

TEST_P(StoreContractTest, DataVersionStaysOnReadsAndUnrelatedWrites) {
  AddServer("alpha", "acme");
  ASSERT_TRUE(store_->UpsertDailyUsage({Usage("alpha", "2026-03-05", 10)}));
  const int64_t before = VersionOf(*store_);

  ASSERT_TRUE(store_->UsageTotals("2026-03-01", "2026-03-31", GroupBy::kCustomer));
  ASSERT_TRUE(store_->UsageTotals("2026-03-01", "2026-03-31", GroupBy::kServer));
  ASSERT_TRUE(store_->ListDailyUsage({}));
  ASSERT_TRUE(store_->ListServers({}));
  ASSERT_TRUE(store_->SetMeta("setting", "value"));
  AddKey("key-1");
  ASSERT_TRUE(store_->CreateRun(CollectionRun{}));

  EXPECT_EQ(VersionOf(*store_), before);
  EXPECT_EQ(store_->UsageTotals("2026-03-01", "2026-03-31", GroupBy::kCustomer).value().size(), 1u);
}

TEST_P(StoreContractTest, DataVersionStaysWhenAWriteRollsBack) {
  AddServer("alpha", "acme");
  const int64_t before = VersionOf(*store_);

  auto stored = store_->UpsertDailyUsage(
      {Usage("alpha", "2026-03-05", 10), Usage("ghost", "2026-03-05", 20)});
  auto rolled_back = store_->Transaction([&]() -> Result<void> {
    if (auto done = store_->UpsertDailyUsage({Usage("alpha", "2026-03-06", 7)}); !done) return done;
    return MakeError(ErrorCode::kInternal, "abandon the transaction");
  });

  ASSERT_FALSE(stored.has_value());
  ASSERT_FALSE(rolled_back.has_value());
  EXPECT_EQ(VersionOf(*store_), before);
  EXPECT_TRUE(store_->ListDailyUsage({}).value().empty());
}

}  // namespace
}  // namespace fleet::storage
