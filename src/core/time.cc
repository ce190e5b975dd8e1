#include "core/time.h"

#include <chrono>
#include <cstdio>

namespace fleet {
namespace {

bool ParseDigits(std::string_view text, size_t pos, size_t count, int& out) {
  if (pos + count > text.size()) return false;
  int value = 0;
  for (size_t i = pos; i < pos + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    value = value * 10 + (text[i] - '0');
  }
  out = value;
  return true;
}

std::optional<Day> MakeDay(int y, int m, int d) {
  std::chrono::year_month_day ymd{std::chrono::year{y},
                                  std::chrono::month{static_cast<unsigned>(m)},
                                  std::chrono::day{static_cast<unsigned>(d)}};
  if (!ymd.ok()) return std::nullopt;
  return Day{std::chrono::sys_days{ymd}.time_since_epoch().count()};
}

}  // namespace

std::optional<Day> ParseDay(std::string_view text) {
  int y = 0, m = 0, d = 0;
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  if (!ParseDigits(text, 0, 4, y) || !ParseDigits(text, 5, 2, m) || !ParseDigits(text, 8, 2, d)) {
    return std::nullopt;
  }
  return MakeDay(y, m, d);
}

std::string FormatDay(Day day) {
  std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day.days_since_epoch}}};
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()));
  return buf;
}

Day DayOf(int64_t unix_seconds) {
  int64_t days = unix_seconds / 86400;
  if (unix_seconds % 86400 < 0) --days;
  return Day{days};
}

int64_t StartOfDay(Day day) { return day.days_since_epoch * 86400; }

std::string FormatTimestamp(int64_t unix_seconds) {
  Day day = DayOf(unix_seconds);
  int64_t secs = unix_seconds - StartOfDay(day);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%sT%02d:%02d:%02dZ", FormatDay(day).c_str(),
                static_cast<int>(secs / 3600), static_cast<int>(secs / 60 % 60),
                static_cast<int>(secs % 60));
  return buf;
}

std::optional<int64_t> ParseTimestamp(std::string_view text) {
  if (text.size() < 19) return std::nullopt;
  auto day = ParseDay(text.substr(0, 10));
  if (!day || (text[10] != 'T' && text[10] != ' ') || text[13] != ':' || text[16] != ':') {
    return std::nullopt;
  }
  int h = 0, mi = 0, s = 0;
  if (!ParseDigits(text, 11, 2, h) || !ParseDigits(text, 14, 2, mi) ||
      !ParseDigits(text, 17, 2, s) || h > 23 || mi > 59 || s > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') ++pos;
  }
  int64_t offset = 0;
  if (pos == text.size() || (text[pos] == 'Z' && pos + 1 == text.size())) {
    offset = 0;
  } else if ((text[pos] == '+' || text[pos] == '-') && text.size() == pos + 6 &&
             text[pos + 3] == ':') {
    int oh = 0, om = 0;
    if (!ParseDigits(text, pos + 1, 2, oh) || !ParseDigits(text, pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset = (oh * 3600 + om * 60) * (text[pos] == '+' ? 1 : -1);
  } else {
    return std::nullopt;
  }
  return StartOfDay(*day) + h * 3600 + mi * 60 + s - offset;
}

}  // namespace fleet
