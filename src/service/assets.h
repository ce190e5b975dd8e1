#pragma once

#include <string_view>

namespace fleet::service {

// A file of the web dashboard, embedded in the binary at build time (web/ and its bundled
// charting library): the running service needs no internet.
struct Asset {
  std::string_view path{};          // URL path, e.g. "/" or "/assets/app.js"
  std::string_view content_type{};  // e.g. "text/html; charset=utf-8"
  std::string_view body{};
};

// The asset served at `path`, or nullptr.
const Asset* FindAsset(std::string_view path);

}  // namespace fleet::service
