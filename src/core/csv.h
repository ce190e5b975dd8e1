#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace fleet {

struct CsvRecord {
  int line{};  // 1-based line where the record starts
  std::vector<std::string> fields{};
};

// RFC 4180: comma separated, double-quoted fields may hold commas, quotes ("") and line breaks,
// CRLF or LF line ends. Blank lines are skipped. An unterminated quote is an error naming its line.
Result<std::vector<CsvRecord>> ParseCsv(std::string_view text);

// One RFC 4180 line (CRLF-terminated), quoting fields that need it.
// A name for a report cell that spreadsheets will not run as a formula (CSV injection): a text
// starting with =, +, -, @, tab or carriage return gets a leading apostrophe. For reports only;
// files meant to be read back (server export) keep names as they are.
std::string SpreadsheetSafe(std::string_view text);
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace fleet
