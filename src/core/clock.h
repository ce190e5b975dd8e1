#pragma once

#include <cstdint>

namespace fleet {

// The one source of "now". Pure logic takes `now` as a parameter instead.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowUnixSeconds() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t NowUnixSeconds() const override;
};

}  // namespace fleet
