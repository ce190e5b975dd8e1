#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/clock.h"

namespace fleet::service {

enum class LogFormat { kText, kJson };
enum class LogLevel { kDebug, kInfo, kWarn, kError };

// "text" / "json"; anything else ("auto") picks text when `stream` is a terminal, else JSON lines.
LogFormat ParseLogFormat(std::string_view text, FILE* stream = stderr);
// "debug", "info", "warn", "error"; anything else is info.
LogLevel ParseLogLevel(std::string_view text);
std::string_view LogLevelName(LogLevel level);  // "debug", "info", "warn", "error"

// One key=value of a log line: a string or an integer (or a boolean).
struct LogField {
  LogField(std::string k, std::string v) : key(std::move(k)), value(std::move(v)) {}
  LogField(std::string k, const char* v) : key(std::move(k)), value(std::string(v)) {}
  LogField(std::string k, std::string_view v) : key(std::move(k)), value(std::string(v)) {}
  LogField(std::string k, bool v) : key(std::move(k)), value(v) {}
  template <std::integral T>
  requires(!std::same_as<T, bool>) LogField(std::string k, T v)
      : key(std::move(k)), value(static_cast<int64_t>(v)) {}

  std::string key;
  std::variant<std::string, int64_t, bool> value;
};

// Whether a field's key names a secret (token, authorization, password, secret, API key, private
// or master key, cookie, ...); such values are logged as "[redacted]". Keys naming something about
// a secret ("token_name", "key_id", "token_prefix") are not secrets.
bool IsSecretKey(std::string_view key);
// Replaces bearer tokens ("Bearer ..."), JWT-shaped values ("eyJ...": n8n API keys, exchanged
// tokens) and the service's own tokens ("nft_...") in free text with "[redacted]".
std::string RedactSecrets(std::string_view text);

// A thread-safe structured logger: one whole line per call, never a secret.
//   text: 2026-11-24T20:00:00Z INFO message key=value key2="two words"
//   json: {"ts":"2026-11-24T20:00:00Z","level":"info","msg":"message","key":"value","n":3}
class Logger {
 public:
  // `stream` is not owned; `clock` (not owned) defaults to the system clock.
  Logger(FILE* stream, LogFormat format, LogLevel level, const Clock* clock = nullptr);

  void Log(LogLevel level, std::string_view message, const std::vector<LogField>& fields = {});
  void Debug(std::string_view message, const std::vector<LogField>& fields = {});
  void Info(std::string_view message, const std::vector<LogField>& fields = {});
  void Warn(std::string_view message, const std::vector<LogField>& fields = {});
  void Error(std::string_view message, const std::vector<LogField>& fields = {});

  void SetLevel(LogLevel level);
  bool Enabled(LogLevel level) const;
  LogFormat format() const { return format_; }

 private:
  FILE* stream_;
  const LogFormat format_;
  SystemClock system_clock_;  // when no clock is given
  const Clock& clock_;
  mutable std::mutex mu_;
  std::atomic<LogLevel> level_;
};

}  // namespace fleet::service
