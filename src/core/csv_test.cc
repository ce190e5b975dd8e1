#include "core/csv.h"

#include <gtest/gtest.h>

namespace fleet {
namespace {

TEST(CsvTest, ParsesQuotedFieldsWithCommasQuotesAndNewlines) {
  auto records = ParseCsv("name,url\r\n\"a, b\",\"say \"\"hi\"\"\"\n\"multi\nline\",x\n\nlast,\n");
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 4u);
  EXPECT_EQ((*records)[1].fields, (std::vector<std::string>{"a, b", "say \"hi\""}));
  EXPECT_EQ((*records)[1].line, 2);
  EXPECT_EQ((*records)[2].fields[0], "multi\nline");
  EXPECT_EQ((*records)[2].line, 3);
  EXPECT_EQ((*records)[3].line, 6);
  EXPECT_EQ((*records)[3].fields, (std::vector<std::string>{"last", ""}));
}

TEST(CsvTest, ReportsTheLineOfAnUnterminatedQuote) {
  auto records = ParseCsv("a,b\n\"open,x\nmore\n");
  ASSERT_FALSE(records);
  EXPECT_EQ(records.error().message, "line 2: unterminated quoted field");
}

TEST(CsvTest, WritesWhatItReads) {
  std::vector<std::string> fields{"plain", "a,b", "q\"q", "two\nlines", ""};
  std::string line = CsvLine(fields);
  EXPECT_EQ(line, "plain,\"a,b\",\"q\"\"q\",\"two\nlines\",\r\n");
  auto back = ParseCsv(line);
  ASSERT_TRUE(back);
  EXPECT_EQ((*back)[0].fields, fields);
}

}  // namespace
TEST(CsvTest, SpreadsheetSafeDefusesFormulasAndKeepsOtherNames) {
  EXPECT_EQ(SpreadsheetSafe("=HYPERLINK(\"http://x\")"), "'=HYPERLINK(\"http://x\")");
  EXPECT_EQ(SpreadsheetSafe("+1"), "'+1");
  EXPECT_EQ(SpreadsheetSafe("-cmd"), "'-cmd");
  EXPECT_EQ(SpreadsheetSafe("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(SpreadsheetSafe("\tx"), "'\tx");
  EXPECT_EQ(SpreadsheetSafe("acme-prod"), "acme-prod");
  EXPECT_EQ(SpreadsheetSafe(""), "");
}

}  // namespace fleet
