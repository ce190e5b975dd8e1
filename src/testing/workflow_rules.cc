// The workflow-save rules both fakes apply (n8n_rules.h).
#include <array>

#include "testing/n8n_rules.h"

namespace fleet::testing::rules {

bool IsWorkflowSettingKey(std::string_view key) {
  static constexpr std::array<std::string_view, 17> kKeys = {"saveExecutionProgress",
                                                             "saveManualExecutions",
                                                             "saveDataErrorExecution",
                                                             "saveDataSuccessExecution",
                                                             "executionTimeout",
                                                             "errorWorkflow",
                                                             "timezone",
                                                             "executionOrder",
                                                             "binaryMode",
                                                             "callerPolicy",
                                                             "callerIds",
                                                             "timeSavedMode",
                                                             "timeSavedPerExecution",
                                                             "redactionPolicy",
                                                             "availableInMCP",
                                                             "customTelemetryTags",
                                                             "credentialResolverId"};
  for (std::string_view known : kKeys) {
    if (known == key) return true;
  }
  return false;
}

}  // namespace fleet::testing::rules
