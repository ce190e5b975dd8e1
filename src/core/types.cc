#include "core/types.h"

namespace fleet {

std::string_view AuthModeName(AuthMode mode) {
  return mode == AuthMode::kTokenExchange ? "token-exchange" : "api-key";
}

std::optional<AuthMode> ParseAuthMode(std::string_view text) {
  if (text == "api-key") return AuthMode::kApiKey;
  if (text == "token-exchange") return AuthMode::kTokenExchange;
  return std::nullopt;
}

std::string_view SigningKeyStateName(SigningKeyState state) {
  switch (state) {
    case SigningKeyState::kActive:
      return "active";
    case SigningKeyState::kStandby:
      return "standby";
    case SigningKeyState::kRetired:
      return "retired";
  }
  return "retired";
}

std::string_view RunStatusName(RunStatus status) {
  switch (status) {
    case RunStatus::kRunning:
      return "running";
    case RunStatus::kSucceeded:
      return "succeeded";
    case RunStatus::kPartial:
      return "partial";
    case RunStatus::kFailed:
      return "failed";
    case RunStatus::kInterrupted:
      return "interrupted";
  }
  return "failed";
}

std::optional<RunStatus> ParseRunStatus(std::string_view text) {
  for (auto status : {RunStatus::kRunning, RunStatus::kSucceeded, RunStatus::kPartial,
                      RunStatus::kFailed, RunStatus::kInterrupted}) {
    if (RunStatusName(status) == text) return status;
  }
  return std::nullopt;
}

}  // namespace fleet
