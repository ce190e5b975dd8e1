#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace fleet::cli {

// Everything the CLI prints goes through here: results to stdout, errors and progress to stderr,
// with or without emoji.
class Output {
 public:
  Output(std::FILE* out, std::FILE* err) : out_(out), err_(err) {}

  void set_emoji(bool emoji) { emoji_ = emoji; }
  bool emoji() const { return emoji_; }

  void Line(std::string_view text);        // stdout
  void Success(std::string_view text);     // stdout, "✅ " prefix
  void Info(std::string_view text);        // stdout, "ℹ️  " prefix
  void Warn(std::string_view text);        // stderr, "⚠️  " / "warning: "
  void Fail(const Error& error);           // stderr, "❌ " / "error: "
  void Json(const nlohmann::json& value);  // stdout, indented
  void Raw(std::string_view text);         // stdout, as is
  void Table(const std::vector<std::string>& header,
             const std::vector<std::vector<std::string>>& rows);

  std::FILE* err() const { return err_; }

 private:
  std::FILE* out_;
  std::FILE* err_;
  bool emoji_{true};
};

// Aligns columns by display width (UTF-8, wide characters and emoji count as two).
std::string RenderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows);

}  // namespace fleet::cli
