#pragma once

// Shared by the fuzz targets: turning libFuzzer's bytes into the product's inputs, and checking
// the documented promises of what comes out (a broken promise is a crash, like a sanitizer's).

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "n8n/http.h"

// Aborts, naming the promise, when `condition` is false (libFuzzer then saves the input).
#define FUZZ_CHECK(condition)                                                                 \
  do {                                                                                        \
    if (!(condition)) {                                                                       \
      std::fprintf(stderr, "%s:%d: fuzz check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

namespace fleet::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

// An HTTP answer written as the seeds are, "STATUS\nname: value\n...\n\nBODY": the status line,
// header lines (names lower-cased, values trimmed, as the transport gives them) up to an empty
// line, then the body. A status that is not a number is 200.
inline n8n::HttpResponse ResponseFromText(std::string_view text) {
  n8n::HttpResponse response;
  auto next_line = [&text]() {
    size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    return line;
  };
  std::string_view status = next_line();
  int value = 200;
  auto [end, ec] = std::from_chars(status.data(), status.data() + status.size(), value);
  response.status = ec == std::errc() ? value : 200;
  while (!text.empty()) {
    std::string_view line = next_line();
    if (line.empty()) break;
    size_t colon = line.find(':');
    std::string name(line.substr(0, colon));
    std::transform(name.begin(), name.end(), name.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    std::string_view header_value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    while (!header_value.empty() && header_value.front() == ' ') header_value.remove_prefix(1);
    response.headers.emplace_back(std::move(name), std::string(header_value));
  }
  response.body = std::string(text);
  return response;
}

}  // namespace fleet::fuzz
