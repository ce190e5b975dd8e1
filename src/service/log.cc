#include "service/log.h"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>

#include <nlohmann/json.hpp>

#include "core/time.h"

namespace fleet::service {
namespace {

constexpr std::string_view kRedacted = "[redacted]";

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
}

// Length of the run of characters at `i` that a token of this shape may contain.
size_t RunLength(std::string_view text, size_t i, bool with_dots) {
  size_t j = i;
  while (j < text.size() &&
         (IsTokenChar(text[j]) ||
          (with_dots && (text[j] == '.' || text[j] == '=' || text[j] == '+' || text[j] == '/')))) {
    ++j;
  }
  return j - i;
}

bool StartsWithNoCase(std::string_view text, size_t i, std::string_view prefix) {
  if (text.size() - i < prefix.size()) return false;
  return Lower(text.substr(i, prefix.size())) == prefix;
}

void AppendEscaped(std::string& out, std::string_view text) {
  for (char c : text) {
    switch (c) {
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      default:
        out += c;
    }
  }
}

// A message for a text line: control characters escaped so the line stays one line.
std::string TextMessage(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else {
      out += c;
    }
  }
  return out;
}

std::string TextValue(std::string_view value) {
  bool quote = value.empty() || value.find_first_of(" \"=\\\n\r\t") != std::string_view::npos;
  if (!quote) return std::string(value);
  std::string out = "\"";
  AppendEscaped(out, value);
  return out + "\"";
}

std::string UpperLevel(LogLevel level) {
  std::string name(LogLevelName(level));
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return name;
}

// The field's value as logged: secrets hidden, tokens in free text redacted.
std::variant<std::string, int64_t, bool> SafeValue(const LogField& field) {
  if (IsSecretKey(field.key)) return std::string(kRedacted);
  if (const auto* text = std::get_if<std::string>(&field.value)) return RedactSecrets(*text);
  return field.value;
}

}  // namespace

LogFormat ParseLogFormat(std::string_view text, FILE* stream) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return stream && ::isatty(::fileno(stream)) ? LogFormat::kText : LogFormat::kJson;
}

LogLevel ParseLogLevel(std::string_view text) {
  if (text == "debug") return LogLevel::kDebug;
  if (text == "warn") return LogLevel::kWarn;
  if (text == "error") return LogLevel::kError;
  return LogLevel::kInfo;
}

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool IsSecretKey(std::string_view key) {
  std::vector<std::string> words;
  std::string word;
  for (char c : Lower(key)) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      word += c;
    } else if (!word.empty()) {
      words.push_back(std::move(word));
      word.clear();
    }
  }
  if (!word.empty()) words.push_back(std::move(word));
  if (words.empty()) return false;
  static constexpr std::array<std::string_view, 10> kAbout = {
      "name", "id", "prefix", "count", "exchanges", "path", "file", "type", "kind", "expires"};
  if (words.size() > 1 && std::find(kAbout.begin(), kAbout.end(), words.back()) != kAbout.end()) {
    return false;  // something about a secret, not the secret
  }
  static constexpr std::array<std::string_view, 14> kSecretWords = {
      "token",  "tokens", "authorization", "password",    "passwd",     "secret", "secrets",
      "apikey", "bearer", "cookie",        "credentials", "credential", "jwt",    "passphrase"};
  static constexpr std::array<std::string_view, 7> kKeyQualifiers = {
      "api", "private", "master", "signing", "secret", "session", "encryption"};
  for (size_t i = 0; i < words.size(); ++i) {
    if (std::find(kSecretWords.begin(), kSecretWords.end(), words[i]) != kSecretWords.end()) {
      return true;
    }
    if (words[i] == "key" &&
        (words.size() == 1 || (i > 0 && std::find(kKeyQualifiers.begin(), kKeyQualifiers.end(),
                                                  words[i - 1]) != kKeyQualifiers.end()))) {
      return true;
    }
  }
  return false;
}

std::string RedactSecrets(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    bool boundary = i == 0 || !IsTokenChar(text[i - 1]);
    if (boundary && StartsWithNoCase(text, i, "bearer ")) {
      size_t j = i + 7;
      while (j < text.size() && text[j] == ' ') ++j;
      size_t run = RunLength(text, j, /*with_dots=*/true);
      out.append(text.substr(i, j - i));
      if (run > 0) out += kRedacted;
      i = j + run;
      continue;
    }
    if (boundary && text.substr(i, 3) == "eyJ") {
      size_t run = RunLength(text, i, /*with_dots=*/true);
      if (run >= 16) {
        out += kRedacted;
        i += run;
        continue;
      }
    }
    if (boundary && text.substr(i, 4) == "nft_") {
      size_t run = RunLength(text, i, /*with_dots=*/false);
      if (run >= 4 + 16) {  // a whole token; its 8-character prefix alone is safe to show
        out += kRedacted;
        i += run;
        continue;
      }
    }
    out += text[i++];
  }
  return out;
}

Logger::Logger(FILE* stream, LogFormat format, LogLevel level, const Clock* clock)
    : stream_(stream), format_(format), clock_(clock ? *clock : system_clock_), level_(level) {}

void Logger::SetLevel(LogLevel level) { level_.store(level); }

bool Logger::Enabled(LogLevel level) const { return level >= level_.load(); }

void Logger::Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields) {
  if (!Enabled(level)) return;
  std::string ts = FormatTimestamp(clock_.NowUnixSeconds());
  std::string msg = RedactSecrets(message);
  std::string line;
  if (format_ == LogFormat::kJson) {
    nlohmann::ordered_json json;
    json["ts"] = ts;
    json["level"] = std::string(LogLevelName(level));
    json["msg"] = msg;
    for (const auto& field : fields) {
      std::string key = field.key;
      while (json.contains(key)) key += "_";  // never overwrite ts, level, msg
      std::visit([&](const auto& v) { json[key] = v; }, SafeValue(field));
    }
    line = json.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
  } else {
    line = ts + " " + UpperLevel(level) + " " + TextMessage(msg);
    for (const auto& field : fields) {
      line += " " + field.key + "=";
      std::visit(
          [&](const auto& v) {
            using T = std::decay_t<decltype(v)>;
            if constexpr (std::is_same_v<T, std::string>) {
              line += TextValue(v);
            } else if constexpr (std::is_same_v<T, bool>) {
              line += v ? "true" : "false";
            } else {
              line += std::to_string(v);
            }
          },
          SafeValue(field));
    }
  }
  line += '\n';
  std::lock_guard lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stream_);
  std::fflush(stream_);
}

void Logger::Debug(std::string_view message, const std::vector<LogField>& fields) {
  Log(LogLevel::kDebug, message, fields);
}
void Logger::Info(std::string_view message, const std::vector<LogField>& fields) {
  Log(LogLevel::kInfo, message, fields);
}
void Logger::Warn(std::string_view message, const std::vector<LogField>& fields) {
  Log(LogLevel::kWarn, message, fields);
}
void Logger::Error(std::string_view message, const std::vector<LogField>& fields) {
  Log(LogLevel::kError, message, fields);
}

}  // namespace fleet::service
