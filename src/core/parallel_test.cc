#include "core/parallel.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

namespace fleet {
namespace {

TEST(ForEachBoundedTest, VisitsEveryIndexOnce) {
  std::mutex mu;
  std::vector<int> visits(1000, 0);
  ForEachBounded(visits.size(), 8, [&](size_t i) {
    std::lock_guard lock(mu);
    ++visits[i];
  });
  for (size_t i = 0; i < visits.size(); ++i) EXPECT_EQ(visits[i], 1) << i;
}

TEST(ForEachBoundedTest, NeverRunsMoreThanTheBoundAtOnce) {
  std::atomic<int> running{0};
  std::atomic<int> peak{0};
  ForEachBounded(64, 4, [&](size_t) {
    int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
    --running;
  });
  EXPECT_LE(peak.load(), 4);
  EXPECT_GE(peak.load(), 2);  // it does run in parallel
}

TEST(ForEachBoundedTest, OneAtATimeRunsOnTheCallingThread) {
  std::set<std::thread::id> threads;
  ForEachBounded(5, 1, [&](size_t) { threads.insert(std::this_thread::get_id()); });
  EXPECT_EQ(threads, std::set<std::thread::id>{std::this_thread::get_id()});
}

TEST(ForEachBoundedTest, NothingToDoAndSillyBoundsAreFine) {
  int calls = 0;
  ForEachBounded(0, 8, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 0);
  ForEachBounded(3, 0, [&](size_t) { ++calls; });
  ForEachBounded(3, -5, [&](size_t) { ++calls; });
  EXPECT_EQ(calls, 6);
}

}  // namespace
}  // namespace fleet
