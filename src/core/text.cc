#include "core/text.h"

#include <cstdint>

namespace fleet {
namespace {

// Decodes one code point at `pos`; returns its length or 0 when invalid.
size_t DecodeUtf8(std::string_view text, size_t pos, uint32_t& cp) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(text[i]); };
  unsigned char c = byte(pos);
  size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
  if (len == 0 || pos + len > text.size()) return 0;
  cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
  for (size_t i = 1; i < len; ++i) {
    if ((byte(pos + i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (byte(pos + i) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return len;
}

bool IsWide(uint32_t cp) {
  return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
         (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
         (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
         (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1FAFF) ||
         (cp >= 0x20000 && cp <= 0x3FFFD);
}

}  // namespace

bool IsValidUtf8(std::string_view text) {
  uint32_t cp = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = DecodeUtf8(text, pos, cp);
    if (len == 0) return false;
    pos += len;
  }
  return true;
}

std::string_view Trim(std::string_view text) {
  auto space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
  };
  while (!text.empty() && space(text.front())) text.remove_prefix(1);
  while (!text.empty() && space(text.back())) text.remove_suffix(1);
  return text;
}

Result<void> ValidateName(std::string_view name, std::string_view what) {
  std::string label(what);
  if (name.empty())
    return MakeError(ErrorCode::kInvalidArgument, label + " name must not be empty");
  if (!IsValidUtf8(name)) {
    return MakeError(ErrorCode::kInvalidArgument, label + " name is not valid UTF-8");
  }
  size_t count = 0;
  uint32_t cp = 0;
  for (size_t pos = 0; pos < name.size(); ++count) {
    pos += DecodeUtf8(name, pos, cp);
    if (cp == '/' || cp == '\\') {
      return MakeError(ErrorCode::kInvalidArgument,
                       label + " name must not contain '/' or '\\': '" + std::string(name) + "'");
    }
    if (cp < 0x20 || cp == 0x7F) {
      return MakeError(ErrorCode::kInvalidArgument,
                       label + " name must not contain control characters or NUL");
    }
  }
  if (count > 100) {
    return MakeError(ErrorCode::kInvalidArgument, label + " name is " + std::to_string(count) +
                                                      " characters long; the limit is 100");
  }
  return {};
}

std::string MaskSecret(std::string_view secret) {
  if (secret.size() < 16) return "****";
  return std::string(secret.substr(0, 6)) + "\xE2\x80\xA6" +
         std::string(secret.substr(secret.size() - 4));
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  uint32_t cp = 0;
  for (size_t pos = 0; pos < text.size();) {
    size_t len = DecodeUtf8(text, pos, cp);
    if (len == 0) {
      ++width;
      ++pos;
      continue;
    }
    pos += len;
    if (cp == 0x200D || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0x300 && cp <= 0x36F)) continue;
    width += IsWide(cp) ? 2 : 1;
  }
  return width;
}

}  // namespace fleet
