#pragma once

#include <atomic>
#include <cstdint>

#include "core/clock.h"

namespace fleet::testing {

// A clock tests set and advance by hand (no sleeping for a day).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now = 0) : now_(now) {}
  int64_t NowUnixSeconds() const override { return now_.load(); }
  void Set(int64_t now) { now_.store(now); }
  void Advance(int64_t seconds) { now_.fetch_add(seconds); }

 private:
  std::atomic<int64_t> now_;
};

}  // namespace fleet::testing
