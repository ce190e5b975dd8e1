#include "core/csv.h"

namespace fleet {

Result<std::vector<CsvRecord>> ParseCsv(std::string_view text) {
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  bool in_quotes = false, field_started = false, any = false;
  int quote_line = 0;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
    field_started = false;
  };
  auto end_record = [&] {
    if (any) {
      end_field();
      records.push_back(std::move(record));
    }
    record = CsvRecord{};
    any = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field.push_back('"');
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field.push_back(c);
      }
      continue;
    }
    if (!any) record.line = line;
    if (c == '"' && !field_started) {
      in_quotes = true;
      quote_line = line;
      field_started = any = true;
    } else if (c == ',') {
      any = true;
      end_field();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      end_record();
      ++line;
    } else if (c == '"') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "line " + std::to_string(line) + ": a quote inside an unquoted field");
    } else {
      field.push_back(c);
      field_started = any = true;
    }
  }
  if (in_quotes) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "line " + std::to_string(quote_line) + ": unterminated quoted field");
  }
  end_record();
  return records;
}

std::string SpreadsheetSafe(std::string_view text) {
  if (!text.empty() && std::string_view("=+-@\t\r").find(text.front()) != std::string_view::npos) {
    std::string safe;  // built piece by piece: GCC 12 -O3 warns (falsely) on "'" + string
    safe.reserve(text.size() + 1);
    safe.push_back('\'');
    safe.append(text);
    return safe;
  }
  return std::string(text);
}

std::string CsvLine(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out.push_back(',');
    const std::string& f = fields[i];
    if (f.find_first_of(",\"\r\n") == std::string::npos) {
      out += f;
      continue;
    }
    out.push_back('"');
    for (char c : f) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  }
  return out + "\r\n";
}

}  // namespace fleet
