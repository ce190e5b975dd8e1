#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace fleet::workflows {

// What a push would change on a server, section by section: the workflow's name, nodes,
// connections, settings (the keys the public API accepts) and staticData. Everything else
// (ids, activity, timestamps, tags, pinned data) is the instance's own and not compared, and so
// is what n8n does by itself on a save: it merges settings (a key the file leaves out keeps the
// server's value), keeps staticData the file leaves out, and gives nodes the file sends without
// an id (or a webhook node without a webhookId) fresh ones.
struct SectionDiff {
  std::string section{};             // "name", "nodes", "connections", "settings", "staticData"
  std::vector<std::string> lines{};  // unified-diff lines: "-" local only... see DiffWorkflows
};

// The differences between `local` (a file's workflow) and `remote` (as n8n sends it), empty
// when a push would change nothing. Each section is compared as canonical JSON (sorted keys,
// 2-space indent); its lines are a unified diff with 3 lines of context: "- " only in the
// server's version, "+ " only in the local file, "  " in both, "@@ ..." between hunks.
std::vector<SectionDiff> DiffWorkflows(const nlohmann::json& local, const nlohmann::json& remote);

// DiffWorkflows(local, remote).empty(), without building the lines.
bool SameWorkflow(const nlohmann::json& local, const nlohmann::json& remote);

// A unified diff of two line lists (`from` = "-", `to` = "+"), `context` lines around each
// change; empty when equal. Bounded work: beyond a few million line pairs the changed middle is
// shown as removed then added instead of aligned.
std::vector<std::string> DiffLines(const std::vector<std::string>& from,
                                   const std::vector<std::string>& to, int context = 3);

}  // namespace fleet::workflows
