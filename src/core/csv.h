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
std::string CsvLine(const std::vector<std::string>& fields);

}  // namespace fleet
