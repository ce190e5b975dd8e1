#include "core/time.h"

#include <gtest/gtest.h>

namespace fleet {
namespace {

TEST(DayTest, ParsesAndFormatsRoundTrip) {
  auto day = ParseDay("2026-11-24");
  ASSERT_TRUE(day.has_value());
  EXPECT_EQ(FormatDay(*day), "2026-11-24");
  EXPECT_EQ(StartOfDay(*day), 1795478400);
  EXPECT_EQ(FormatDay(*day + 7), "2026-12-01");
}

TEST(DayTest, RejectsMalformedAndImpossibleDates) {
  EXPECT_FALSE(ParseDay("2026-02-29"));
  EXPECT_FALSE(ParseDay("2026-13-01"));
  EXPECT_FALSE(ParseDay("2026-1-01"));
  EXPECT_FALSE(ParseDay("2026-01-01x"));
  EXPECT_FALSE(ParseDay(""));
  EXPECT_TRUE(ParseDay("2028-02-29"));
}

TEST(DayTest, DayOfHandlesMidnightAndNegativeTimes) {
  EXPECT_EQ(FormatDay(DayOf(1795478400)), "2026-11-24");
  EXPECT_EQ(FormatDay(DayOf(1795478399)), "2026-11-23");
  EXPECT_EQ(FormatDay(DayOf(-1)), "1969-12-31");
}

TEST(TimestampTest, FormatsAndParsesIso8601) {
  EXPECT_EQ(FormatTimestamp(1795478400 + 3661), "2026-11-24T01:01:01Z");
  EXPECT_EQ(ParseTimestamp("2026-11-24T01:01:01Z"), 1795478400 + 3661);
  EXPECT_EQ(ParseTimestamp("2026-11-24T01:01:01.123Z"), 1795478400 + 3661);
  EXPECT_EQ(ParseTimestamp("2026-11-24 01:01:01"), 1795478400 + 3661);
  EXPECT_EQ(ParseTimestamp("2026-11-24T03:01:01+02:00"), 1795478400 + 3661);
  EXPECT_FALSE(ParseTimestamp("2026-11-24T25:00:00Z"));
  EXPECT_FALSE(ParseTimestamp("yesterday"));
}

}  // namespace
}  // namespace fleet
