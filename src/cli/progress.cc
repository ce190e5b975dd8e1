#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace fleet::cli {

std::string FormatDuration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--";
  auto whole = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (whole >= 3600) {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(whole / 3600),
                  static_cast<long long>(whole / 60 % 60));
  } else if (whole >= 60) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(whole / 60),
                  static_cast<long long>(whole % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llds", static_cast<long long>(whole));
  }
  return buf;
}

ProgressBar::ProgressBar(std::string label, int64_t total, bool enabled)
    : label_(std::move(label)),
      total_(total),
      enabled_(enabled && ::isatty(STDERR_FILENO)),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() { Finish(); }

void ProgressBar::Update(int64_t done, int64_t failed, bool force) {
  done_ = done;
  failed_ = failed;
  if (!enabled_ || finished_) return;
  auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  double elapsed = std::chrono::duration<double>(now - start_).count();
  double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
  int64_t remaining = std::max<int64_t>(total_ - done, 0);
  double eta = rate > 0 ? static_cast<double>(remaining) / rate : NAN;
  constexpr int kWidth = 30;
  int filled = total_ > 0 ? static_cast<int>(kWidth * done / total_) : kWidth;
  std::string bar(static_cast<size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %lld/%lld done, %lld failed, %lld left, %.0f/s, ETA %s\x1b[K",
               label_.c_str(), bar.c_str(), static_cast<long long>(done),
               static_cast<long long>(total_), static_cast<long long>(failed),
               static_cast<long long>(remaining), rate, FormatDuration(eta).c_str());
  std::fflush(stderr);
}

void ProgressBar::Finish() {
  if (!enabled_ || finished_) return;
  Update(done_, failed_, true);
  finished_ = true;
  std::fputc('\n', stderr);
}

}  // namespace fleet::cli
