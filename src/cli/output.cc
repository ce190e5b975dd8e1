#include "cli/output.h"

#include <algorithm>

#include "core/text.h"

namespace fleet::cli {
namespace {

void Write(std::FILE* file, std::string_view prefix, std::string_view text) {
  std::fwrite(prefix.data(), 1, prefix.size(), file);
  std::fwrite(text.data(), 1, text.size(), file);
  std::fputc('\n', file);
}

}  // namespace

void Output::Line(std::string_view text) { Write(out_, "", text); }
void Output::Success(std::string_view text) { Write(out_, emoji_ ? "\xE2\x9C\x85 " : "", text); }
void Output::Info(std::string_view text) {
  Write(out_, emoji_ ? "\xE2\x84\xB9\xEF\xB8\x8F  " : "", text);
}
void Output::Warn(std::string_view text) {
  Write(err_, emoji_ ? "\xE2\x9A\xA0\xEF\xB8\x8F  " : "warning: ", text);
}
void Output::Fail(const Error& error) {
  std::fflush(out_);
  Write(err_, emoji_ ? "\xE2\x9D\x8C " : "error: ", error.message);
}
void Output::Json(const nlohmann::json& value) {
  Write(out_, "", value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}
void Output::Raw(std::string_view text) { std::fwrite(text.data(), 1, text.size(), out_); }
void Output::Table(const std::vector<std::string>& header,
                   const std::vector<std::vector<std::string>>& rows) {
  Raw(RenderTable(header, rows));
}

std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size());
  for (size_t c = 0; c < header.size(); ++c) widths[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  auto emit = [&](const std::vector<std::string>& cells) {
    std::string line;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : "";
      line += cell;
      if (c + 1 < widths.size()) line += std::string(widths[c] - DisplayWidth(cell) + 2, ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  };
  emit(header);
  std::vector<std::string> rule;
  for (size_t w : widths) rule.push_back(std::string(w, '-'));
  emit(rule);
  for (const auto& row : rows) emit(row);
  return out;
}

}  // namespace fleet::cli
