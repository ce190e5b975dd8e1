#pragma once

#include <string>
#include <string_view>
#include <utility>

#include <tl/expected.hpp>

namespace fleet {

// What went wrong, coarsely: the CLI maps it to an exit code and the HTTP API to a status,
// each in one place. The message says what failed, on what, and what to do next.
enum class ErrorCode {
  kInvalidArgument,     // bad user input: a URL, a name, a key's shape
  kNotFound,            // a named server, key or file does not exist
  kAlreadyExists,       // a unique name is taken
  kFailedPrecondition,  // the state forbids it: inactive key, no TTY for a prompt
  kPermissionDenied,    // wrong master key, file permissions, 403 from an instance
  kUnauthenticated,     // an instance refused our credentials (401)
  kUnavailable,         // could not connect, DNS, TLS handshake, 5xx
  kTimeout,             // connect or transfer timed out
  kRateLimited,         // 429
  kBadResponse,         // an instance answered something we cannot use
  kCorrupt,             // a database or file is unreadable or not what it claims
  kIo,                  // a local file or database operation failed
  kCancelled,           // the user said no, or a signal stopped the work
  kInternal,            // a bug
};

std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code{ErrorCode::kInternal};
  std::string message{};
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> MakeError(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{code, std::move(message)});
}

// Prefixes an error's message with context ("server 'acme': ...") keeping its code.
inline Error WithContext(Error error, std::string_view context) {
  error.message = std::string(context) + ": " + error.message;
  return error;
}

}  // namespace fleet
