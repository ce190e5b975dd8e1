// Workflow files and what instances send (n8n/workflows.h WritableWorkflow, workflows/compare.h
// DiffWorkflows) on any JSON: the input is a JSON array [local, remote]; anything else is used
// as both sides. Checks that a workflow never differs from itself and that SameWorkflow agrees
// with DiffWorkflows.

#include <nlohmann/json.hpp>

#include "fuzz_util.h"
#include "n8n/workflows.h"
#include "workflows/compare.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  nlohmann::json input = nlohmann::json::parse(data, data + size, nullptr, false);
  if (input.is_discarded()) return 0;
  bool pair = input.is_array() && input.size() == 2;
  const nlohmann::json& local = pair ? input[0] : input;
  const nlohmann::json& remote = pair ? input[1] : input;

  for (const nlohmann::json* side : {&local, &remote}) {
    auto writable = n8n::WritableWorkflow(*side);
    if (writable) {
      FUZZ_CHECK(writable->is_object() && writable->contains("name"));
      FUZZ_CHECK(n8n::WritableWorkflow(*writable).has_value());
    }
  }
  auto diff = workflows::DiffWorkflows(local, remote);
  FUZZ_CHECK(workflows::SameWorkflow(local, remote) == diff.empty());
  for (const auto& section : diff) FUZZ_CHECK(!section.section.empty());
  FUZZ_CHECK(workflows::DiffWorkflows(local, local).empty());
  return 0;
}
