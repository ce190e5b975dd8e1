#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fleet {

// A UTC calendar day, as days since 1970-01-01. n8n's Insights days are UTC days.
struct Day {
  int64_t days_since_epoch{};
  friend auto operator<=>(const Day&, const Day&) = default;
  Day operator+(int64_t n) const { return Day{days_since_epoch + n}; }
  Day operator-(int64_t n) const { return Day{days_since_epoch - n}; }
  int64_t operator-(Day other) const { return days_since_epoch - other.days_since_epoch; }
};

std::optional<Day> ParseDay(std::string_view text);  // strict "YYYY-MM-DD"
std::string FormatDay(Day day);                      // "YYYY-MM-DD"
Day DayOf(int64_t unix_seconds);                     // the UTC day containing the instant
int64_t StartOfDay(Day day);                         // unix seconds of 00:00:00Z

// "2026-11-24T16:05:00Z".
std::string FormatTimestamp(int64_t unix_seconds);
// Accepts "YYYY-MM-DDTHH:MM:SS[.fff](Z|+HH:MM)" and "YYYY-MM-DD HH:MM:SS" (UTC).
std::optional<int64_t> ParseTimestamp(std::string_view text);

}  // namespace fleet
