#include "core/workflow_file.h"

#include <filesystem>

namespace fleet {
namespace {

constexpr size_t kMaxSlugLength = 80;
constexpr int kIndent = 2;

bool IsSlugChar(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

char AsciiLower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// The name as it can be quoted in a message: control bytes as \xNN.
std::string Printable(std::string_view text) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (char c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte == 0x7f) {
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0xf];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace

std::string CanonicalWorkflowJson(const nlohmann::json& workflow) {
  // nlohmann::json keeps object keys in a std::map, so dump() is sorted at every level.
  return workflow.dump(kIndent, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string WorkflowSlug(std::string_view name) {
  std::string slug;
  bool pending_dash = false;
  for (char c : name) {
    char lower = AsciiLower(c);
    if (!IsSlugChar(lower)) {
      pending_dash = !slug.empty();
      continue;
    }
    if (pending_dash) {
      if (slug.size() + 1 >= kMaxSlugLength) break;  // a dash must not end the slug
      slug += '-';
      pending_dash = false;
    }
    if (slug.size() >= kMaxSlugLength) break;
    slug += lower;
  }
  return slug.empty() ? "workflow" : slug;
}

Result<std::string> SafeFlowPath(const std::string& flow_dir, std::string_view filename) {
  const char* why = nullptr;
  if (filename.empty()) {
    why = "is empty";
  } else if (filename == "." || filename == "..") {
    why = "names a directory";
  } else if (filename.find('\0') != std::string_view::npos) {
    why = "contains a NUL byte";
  } else if (filename.front() == '/') {
    why = "is an absolute path";
  } else if (filename.find_first_of("/\\") != std::string_view::npos) {
    why = "contains a path separator ('/' or '\\')";
  }
  if (why != nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "workflow file name '" + Printable(filename) + "' " + why +
                         ": it must be a plain file name inside the flow directory '" + flow_dir +
                         "'");
  }
  return (std::filesystem::path(flow_dir) / std::filesystem::path(filename)).string();
}

}  // namespace fleet
