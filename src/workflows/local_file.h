#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace fleet::workflows {

// A workflow file as `wf push` reads it.
struct WorkflowFile {
  std::string path{};    // absolute and lexically normal: how the database knows the file
  std::string bytes{};   // as read
  std::string sha256{};  // hex SHA-256 of `bytes`
  std::string name{};    // the workflow's name
  nlohmann::json workflow{};
};

// `path` made absolute (against the working directory) and lexically normal.
std::string AbsolutePath(const std::string& path);

// Reads and checks a workflow file: kNotFound / kIo naming the path; kInvalidArgument naming the
// path when it is not JSON or not a workflow n8n would accept (no name, nodes or connections).
Result<WorkflowFile> ReadWorkflowFile(const std::string& path);

// The workflow as a file keeps it: what n8n sent, without the server's bookkeeping that changes
// without the workflow changing (createdAt, updatedAt, versionId, active, shared, ...), so that a
// pull of an unchanged workflow rewrites the same bytes. Where it came from (server, id,
// updatedAt) is kept in the database instead.
nlohmann::json FileForm(const nlohmann::json& remote);

// Replaces `path` with `bytes` all at once: written to a temporary file in the same directory,
// flushed, then renamed over it (a crash leaves the old file or the new one, never half of one).
// kIo naming the path.
Result<void> WriteFileAtomically(const std::string& path, std::string_view bytes);

}  // namespace fleet::workflows
