#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace fleet {

// How a workflow is kept as a file (one JSON file per workflow in a flow directory), so that the
// same workflow always produces the same bytes and a diff shows only real changes.

// Pretty-printed JSON (2-space indent), object keys sorted at every level, strings as UTF-8 (an
// invalid byte becomes U+FFFD), ending in "\n". Equal values give equal bytes.
std::string CanonicalWorkflowJson(const nlohmann::json& workflow);

// A file-name stem from a workflow's name: ASCII letters lower-cased and digits kept, every other
// run of characters (spaces, punctuation, non-ASCII) one '-', no '-' at either end, at most 80
// characters; "workflow" when nothing is left. "Billing: Daily (EU)" -> "billing-daily-eu".
std::string WorkflowSlug(std::string_view name);

// `flow_dir`/`filename`, for a file name that stays inside `flow_dir`: kInvalidArgument naming
// the name when it is empty, "." or "..", absolute, or holds '/', '\\' or NUL.
Result<std::string> SafeFlowPath(const std::string& flow_dir, std::string_view filename);

}  // namespace fleet
