#pragma once

// Just enough HTTP/1.1 for the fake fleet's event loop: one request parsed from the front of a
// connection's buffer (request line, headers, Content-Length body, keep-alive, Expect:
// 100-continue), query parameters, and a response serialised. No chunked request bodies (the
// collector never sends them). Test-only.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace fleet::testing::wire {

constexpr size_t kMaxHeaderBytes = 16 * 1024;
constexpr size_t kMaxBodyBytes = 64 * 1024;

struct Request {
  std::string method{};
  std::string target{};                                        // as sent: path and query
  std::string path{};                                          // before '?'
  std::string query{};                                         // after '?', still encoded
  std::vector<std::pair<std::string, std::string>> headers{};  // names lower-cased
  std::string body{};
  bool keep_alive{true};  // HTTP/1.1 unless "Connection: close"; HTTP/1.0 only if asked

  // The first value of a header (by lower-case name), or "".
  std::string_view Header(std::string_view lower_name) const;
};

enum class ParseStatus {
  kIncomplete,  // need more bytes
  kComplete,    // `request` filled, `consumed` bytes used
  kBad,         // answer `error_status` and close the connection
};

struct ParseResult {
  ParseStatus status{ParseStatus::kIncomplete};
  size_t consumed{};
  int error_status{};          // 400, 413, 431 or 501 when kBad
  bool wants_continue{false};  // kIncomplete: headers asked for "100 Continue"
};

// Parses the request at the front of `buffer` into `request`.
ParseResult ParseRequest(std::string_view buffer, Request& request);

// The decoded value of query parameter `name` ('+' is a space), or nullopt when absent.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

// Appends a complete response with Content-Length and Connection headers.
void AppendResponse(std::string& out, int status, std::string_view content_type,
                    std::string_view body, bool keep_alive,
                    std::string_view extra_headers = "");  // "Name: value\r\n" lines

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace fleet::testing::wire
