#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace fleet::cli {

// A one-line progress bar on a terminal (stderr): done/failed/remaining, rate, ETA. Silent when
// stderr is not a terminal or when disabled (--json), so scripts and logs stay clean. Redraws
// at most ten times a second.
class ProgressBar {
 public:
  ProgressBar(std::string label, int64_t total, bool enabled);
  ~ProgressBar();  // ends the line

  void Update(int64_t done, int64_t failed, bool force = false);
  void Finish();

 private:
  std::string label_;
  int64_t total_;
  bool enabled_;
  bool finished_{false};
  int64_t done_{};
  int64_t failed_{};
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_{};
};

// "1m05s", "12s", "--" for unknown.
std::string FormatDuration(double seconds);

}  // namespace fleet::cli
