// The SQLite work queue where it meets the file: several connections (processes) on one database.

#include <algorithm>
#include <atomic>
#include <chrono>
#include <latch>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "storage/sqlite_store.h"
#include "storage/storage_test_util.h"

namespace fleet::storage {
namespace {

constexpr int64_t kNow = 1760000000;

std::unique_ptr<Store> Open(const std::string& path) {
  auto store = OpenSqliteStore({.path = path});
  EXPECT_TRUE(store.has_value()) << store.error().message;
  return store ? std::move(*store) : nullptr;
}

class SqliteWorkTest : public ::testing::Test {
 protected:
  // A running run with `servers` servers of two days each; returns its id.
  int64_t QueueRun(Store& store, int servers) {
    const int64_t run = store.CreateRun(CollectionRun{}).value();
    std::vector<WorkItem> items;
    for (int i = 0; i < servers; ++i) {
      Server server;
      server.name = "server-" + std::to_string(100 + i);
      server.url = "https://" + server.name + ".example.com";
      EXPECT_TRUE(store.CreateServer(server, kNow).has_value());
      items.push_back({server.name, "2026-03-01"});
      items.push_back({server.name, "2026-03-02"});
    }
    EXPECT_TRUE(store.EnqueueWork(run, items).has_value());
    return run;
  }

  TempDir dir_{};
  std::string path_{dir_.File("fleet.db")};
};

TEST_F(SqliteWorkTest, TwoConnectionsOnOneFileNeverClaimTheSameServer) {
  constexpr int kServers = 60;
  std::unique_ptr<Store> first = Open(path_);
  std::unique_ptr<Store> second = Open(path_);
  ASSERT_TRUE(first && second);
  const int64_t run = QueueRun(*first, kServers);
  std::latch start(2);
  std::atomic<int> closed{0};
  // Each collector claims a few servers, "fetches" them (the other one claims meanwhile),
  // finishes them, and tries to close the run when nothing is left: the last one closes it.
  auto collect = [&](Store& store, const std::string& owner, std::vector<std::string>& got) {
    start.arrive_and_wait();
    for (int i = 0; i < 2 * kServers; ++i) {
      auto claims = store.ClaimWork({.owner = owner, .now = kNow, .max_servers = 3});
      ASSERT_TRUE(claims.has_value()) << claims.error().message;
      if (claims->empty()) break;
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      for (const WorkClaim& claim : *claims) {
        got.push_back(claim.server.name);
        std::vector<WorkDayResult> days;
        for (const std::string& day : claim.days) days.push_back({day, "done"});
        auto finished = store.FinishWork(owner, claim.run_id, claim.server.name, days);
        EXPECT_TRUE(finished.has_value()) << finished.error().message;
      }
    }
    auto close = store.CloseRunIfDone(run, kNow);
    ASSERT_TRUE(close.has_value()) << close.error().message;
    if (close->has_value()) ++closed;
  };
  std::vector<std::string> got_first;
  std::vector<std::string> got_second;

  std::thread other([&] { collect(*second, "second", got_second); });
  collect(*first, "first", got_first);
  other.join();

  std::vector<std::string> all = got_first;
  all.insert(all.end(), got_second.begin(), got_second.end());
  const std::set<std::string> distinct(all.begin(), all.end());
  EXPECT_EQ(all.size(), distinct.size()) << "a server was claimed twice";
  EXPECT_EQ(distinct.size(), static_cast<size_t>(kServers));
  EXPECT_EQ(closed.load(), 1);
  const CollectionRun done = first->GetRun(run).value();
  EXPECT_EQ(done.status, RunStatus::kSucceeded);
  EXPECT_EQ(done.servers_succeeded, kServers);
  EXPECT_EQ(done.days_stored, 2 * kServers);
  EXPECT_EQ(QuerySqlite(path_, "SELECT MAX(claims) FROM work_units"), "1");
}

// The interleaving the test above can only hope for, forced: `first` claims while `second` is
// inside a transaction that has leased a server but not committed. `first` must wait for the
// commit and take the next server, not read the uncommitted queue and lease the same one.
TEST_F(SqliteWorkTest, AClaimWaitsForAnotherConnectionsClaimToCommit) {
  std::unique_ptr<Store> first = Open(path_);
  std::unique_ptr<Store> second = Open(path_);
  ASSERT_TRUE(first && second);
  QueueRun(*first, 2);
  std::vector<WorkClaim> got_first;
  std::vector<WorkClaim> got_second;
  std::thread claimer;

  auto held = second->Transaction([&]() -> Result<void> {
    auto claims = second->ClaimWork({.owner = "second", .now = kNow, .max_servers = 1});
    if (!claims) return tl::unexpected(claims.error());
    got_second = *claims;
    claimer = std::thread([&] {
      auto mine = first->ClaimWork({.owner = "first", .now = kNow, .max_servers = 1});
      EXPECT_TRUE(mine.has_value()) << mine.error().message;
      if (mine) got_first = *mine;
    });
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    return {};
  });
  claimer.join();

  ASSERT_TRUE(held.has_value()) << held.error().message;
  ASSERT_EQ(got_second.size(), 1u);
  ASSERT_EQ(got_first.size(), 1u);
  EXPECT_EQ(got_second[0].server.name, "server-100");
  EXPECT_EQ(got_first[0].server.name, "server-101");
}

TEST_F(SqliteWorkTest, EveryClaimOfAUnitCounts) {
  std::unique_ptr<Store> store = Open(path_);
  ASSERT_TRUE(store);
  QueueRun(*store, 1);

  ASSERT_EQ(store->ClaimWork({.owner = "a", .now = kNow}).value().size(), 1u);
  ASSERT_EQ(store->ClaimWork({.owner = "b", .now = kNow + 300}).value().size(), 1u);

  EXPECT_EQ(QuerySqlite(path_,
                        "SELECT claims || ' ' || lease_owner || ' ' || lease_until "
                        "FROM work_units"),
            "2 b " + std::to_string(kNow + 600));
}

TEST_F(SqliteWorkTest, APartialFinishDropsTheLease) {
  std::unique_ptr<Store> store = Open(path_);
  ASSERT_TRUE(store);
  const int64_t run = QueueRun(*store, 1);
  ASSERT_EQ(store->ClaimWork({.owner = "a", .now = kNow}).value().size(), 1u);

  ASSERT_TRUE(store->FinishWork("a", run, "server-100", {{"2026-03-01", "done"}}).has_value());

  EXPECT_EQ(QuerySqlite(path_,
                        "SELECT state || ' ' || (lease_owner IS NULL) || ' ' || "
                        "(lease_until IS NULL) FROM work_units"),
            "pending 1 1");
}

}  // namespace
}  // namespace fleet::storage
