#include "workflows/compare.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <iterator>
#include <sstream>
#include <utility>

#include "n8n/workflows.h"

namespace fleet::workflows {
namespace {

using Json = nlohmann::json;

constexpr std::array<const char*, 5> kSections = {"name", "nodes", "connections", "settings",
                                                  "staticData"};
constexpr size_t kMaxAlignedCells = 4'000'000;  // LCS table size for the changed middle

// What a push sends (settings filtered to the keys n8n accepts, so a key n8n only reports never
// shows as a difference a push cannot remove); the workflow itself when it is not one.
Json Writable(const Json& workflow) {
  Result<Json> writable = n8n::WritableWorkflow(workflow);
  return writable ? std::move(*writable) : workflow;
}

// `local` and `remote` as a push would leave them, so that what n8n does on its own is no
// difference (tests/real_n8n/WORKFLOWS.md): it MERGES settings (a key the file leaves out keeps
// the server's value), keeps staticData a push leaves out, and gives nodes without an id (and
// webhook nodes without a webhookId) fresh ones on every save.
std::pair<Json, Json> Comparable(const Json& local_workflow, const Json& remote_workflow) {
  Json local = Writable(local_workflow);
  Json remote = Writable(remote_workflow);
  if (!local.is_object() || !remote.is_object()) return {local, remote};
  auto local_settings = local.find("settings");
  auto remote_settings = remote.find("settings");
  if (remote_settings != remote.end() && remote_settings->is_object()) {
    for (auto it = remote_settings->begin(); it != remote_settings->end();) {
      bool kept = local_settings != local.end() && local_settings->is_object() &&
                  local_settings->contains(it.key());
      it = kept ? std::next(it) : remote_settings->erase(it);
    }
  }
  if (!local.contains("staticData")) remote.erase("staticData");
  auto local_nodes = local.find("nodes");
  auto remote_nodes = remote.find("nodes");
  if (local_nodes != local.end() && local_nodes->is_array() && remote_nodes != remote.end() &&
      remote_nodes->is_array()) {
    for (const Json& node : *local_nodes) {
      if (!node.is_object() || !node.contains("name")) continue;
      for (Json& theirs : *remote_nodes) {
        if (!theirs.is_object() || theirs.value("name", Json()) != node["name"]) continue;
        for (const char* key : {"id", "webhookId"}) {
          if (!node.contains(key)) theirs.erase(key);
        }
      }
    }
  }
  return {local, remote};
}

// A section's value as compared: absent, null and (for settings/staticData) {} are the same.
Json Section(const Json& workflow, const std::string& section) {
  if (!workflow.is_object()) return nullptr;
  auto it = workflow.find(section);
  if (it == workflow.end() || it->is_null()) return nullptr;
  if ((section == "settings" || section == "staticData") && it->is_object() && it->empty()) {
    return nullptr;
  }
  return *it;
}

std::vector<std::string> CanonicalLines(const Json& value) {
  std::vector<std::string> lines;
  if (value.is_null()) return lines;
  std::istringstream text(value.dump(2, ' ', false, Json::error_handler_t::replace));
  for (std::string line; std::getline(text, line);) lines.push_back(line);
  return lines;
}

struct Edit {
  char op;  // ' ', '-', '+'
  const std::string* line;
};

// The edit script from `from` to `to`: common prefix and suffix, and an LCS alignment of the
// middle when it is small enough.
std::vector<Edit> EditScript(const std::vector<std::string>& from,
                             const std::vector<std::string>& to) {
  size_t prefix = 0;
  while (prefix < from.size() && prefix < to.size() && from[prefix] == to[prefix]) ++prefix;
  size_t suffix = 0;
  while (suffix < from.size() - prefix && suffix < to.size() - prefix &&
         from[from.size() - 1 - suffix] == to[to.size() - 1 - suffix]) {
    ++suffix;
  }
  std::vector<Edit> edits;
  for (size_t i = 0; i < prefix; ++i) edits.push_back({' ', &from[i]});
  size_t n = from.size() - prefix - suffix;
  size_t m = to.size() - prefix - suffix;
  if (n * m <= kMaxAlignedCells) {
    // lcs[i][j]: LCS length of from[prefix+i..] and to[prefix+j..].
    std::vector<uint32_t> lcs((n + 1) * (m + 1), 0);
    auto at = [&](size_t i, size_t j) -> uint32_t& { return lcs[i * (m + 1) + j]; };
    for (size_t i = n; i-- > 0;) {
      for (size_t j = m; j-- > 0;) {
        at(i, j) = from[prefix + i] == to[prefix + j] ? at(i + 1, j + 1) + 1
                                                      : std::max(at(i + 1, j), at(i, j + 1));
      }
    }
    size_t i = 0;
    size_t j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && from[prefix + i] == to[prefix + j]) {
        edits.push_back({' ', &from[prefix + i]});
        ++i;
        ++j;
      } else if (i < n && (j == m || at(i + 1, j) >= at(i, j + 1))) {
        edits.push_back({'-', &from[prefix + i]});  // removals first, as diff(1) shows them
        ++i;
      } else {
        edits.push_back({'+', &to[prefix + j]});
        ++j;
      }
    }
  } else {
    for (size_t i = 0; i < n; ++i) edits.push_back({'-', &from[prefix + i]});
    for (size_t j = 0; j < m; ++j) edits.push_back({'+', &to[prefix + j]});
  }
  for (size_t i = from.size() - suffix; i < from.size(); ++i) edits.push_back({' ', &from[i]});
  return edits;
}

}  // namespace

std::vector<std::string> DiffLines(const std::vector<std::string>& from,
                                   const std::vector<std::string>& to, int context) {
  std::vector<std::string> out;
  if (from == to) return out;
  std::vector<Edit> edits = EditScript(from, to);
  const size_t reach = static_cast<size_t>(std::max(context, 0));
  // Which edits to show: every change and `reach` lines around it.
  std::vector<bool> shown(edits.size(), false);
  for (size_t k = 0; k < edits.size(); ++k) {
    if (edits[k].op == ' ') continue;
    size_t lo = k >= reach ? k - reach : 0;
    size_t hi = std::min(edits.size() - 1, k + reach);
    for (size_t s = lo; s <= hi; ++s) shown[s] = true;
  }
  size_t from_line = 1;
  size_t to_line = 1;
  bool in_hunk = false;
  for (size_t k = 0; k < edits.size(); ++k) {
    if (shown[k] && !in_hunk) {
      out.push_back("@@ -" + std::to_string(from_line) + " +" + std::to_string(to_line) + " @@");
      in_hunk = true;
    } else if (!shown[k]) {
      in_hunk = false;
    }
    if (shown[k]) out.push_back(std::string(1, edits[k].op) + " " + *edits[k].line);
    if (edits[k].op != '+') ++from_line;
    if (edits[k].op != '-') ++to_line;
  }
  return out;
}

std::vector<SectionDiff> DiffWorkflows(const Json& local_workflow, const Json& remote_workflow) {
  const auto [local, remote] = Comparable(local_workflow, remote_workflow);
  std::vector<SectionDiff> diffs;
  for (const char* section : kSections) {
    Json mine = Section(local, section);
    Json theirs = Section(remote, section);
    if (mine == theirs) continue;
    diffs.push_back({section, DiffLines(CanonicalLines(theirs), CanonicalLines(mine))});
  }
  return diffs;
}

bool SameWorkflow(const Json& local_workflow, const Json& remote_workflow) {
  const auto [local, remote] = Comparable(local_workflow, remote_workflow);
  for (const char* section : kSections) {
    if (Section(local, section) != Section(remote, section)) return false;
  }
  return true;
}

}  // namespace fleet::workflows
