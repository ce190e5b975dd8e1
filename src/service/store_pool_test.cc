#include "service/store_pool.h"

#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "storage/sqlite_store.h"

namespace fleet::service {
namespace {

StorePool::Opener MemoryOpener(std::atomic<int>& opened) {
  return [&opened]() -> Result<std::unique_ptr<storage::Store>> {
    ++opened;
    return storage::OpenSqliteStore({":memory:"});
  };
}

TEST(StorePoolTest, ReusesReturnedStores) {
  std::atomic<int> opened{0};
  StorePool pool(MemoryOpener(opened), 2);
  storage::Store* first = nullptr;
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease);
    first = &**lease;
  }
  auto again = pool.Acquire();
  ASSERT_TRUE(again);
  EXPECT_EQ(&**again, first);
  EXPECT_EQ(opened.load(), 1);
}

TEST(StorePoolTest, OpensAtMostMaxAndTimesOutWhenAllAreLent) {
  std::atomic<int> opened{0};
  StorePool pool(MemoryOpener(opened), 2);
  auto a = pool.Acquire();
  auto b = pool.Acquire();
  ASSERT_TRUE(a && b);
  EXPECT_NE(&**a, &**b);
  auto c = pool.Acquire(std::chrono::milliseconds(20));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(opened.load(), 2);
  EXPECT_EQ(pool.open_stores(), 2u);
}

TEST(StorePoolTest, WaiterGetsTheStoreWhenOneIsReturned) {
  std::atomic<int> opened{0};
  StorePool pool(MemoryOpener(opened), 1);
  auto held = std::make_unique<StorePool::Lease>(std::move(*pool.Acquire()));
  storage::Store* store = &**held;
  std::thread returner([&held] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    held.reset();
  });
  auto waited = pool.Acquire(std::chrono::seconds(5));
  returner.join();
  ASSERT_TRUE(waited);
  EXPECT_EQ(&**waited, store);
}

TEST(StorePoolTest, DiscardedStoreFreesItsSlotAndOpenerErrorsPassOn) {
  int calls = 0;
  StorePool pool(
      [&calls]() -> Result<std::unique_ptr<storage::Store>> {
        if (++calls == 2) return MakeError(ErrorCode::kIo, "disk on fire");
        return storage::OpenSqliteStore({":memory:"});
      },
      1);
  {
    auto lease = pool.Acquire();
    ASSERT_TRUE(lease);
    lease->Discard();
  }
  EXPECT_EQ(pool.open_stores(), 0u);
  auto failed = pool.Acquire();
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, ErrorCode::kIo);
  EXPECT_NE(failed.error().message.find("disk on fire"), std::string::npos);
  EXPECT_TRUE(pool.Acquire(std::chrono::milliseconds(100)));  // the slot was released
}

}  // namespace
}  // namespace fleet::service
