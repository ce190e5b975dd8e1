#include "storage/store_rules.h"

namespace fleet::storage {

std::optional<SigningKeyState> ParseSigningKeyState(std::string_view text) {
  for (SigningKeyState state :
       {SigningKeyState::kActive, SigningKeyState::kStandby, SigningKeyState::kRetired}) {
    if (SigningKeyStateName(state) == text) return state;
  }
  return std::nullopt;
}

Error NoSigningKey(std::string_view kid) {
  return Error{ErrorCode::kNotFound, "no signing key with kid '" + std::string(kid) + "'; " +
                                         std::string(kSigningKeyListHint)};
}

std::string RunName(int64_t run_id) { return "collection run " + std::to_string(run_id); }

std::string UnitName(int64_t run_id, std::string_view server) {
  return "server '" + std::string(server) + "' in " + RunName(run_id);
}

Result<void> CheckLease(std::string_view owner, int64_t lease_seconds) {
  if (owner.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "a work lease needs a non-empty owner");
  }
  if (lease_seconds <= 0) {
    return MakeError(ErrorCode::kInvalidArgument, "a work lease must last at least 1 second, not " +
                                                      std::to_string(lease_seconds));
  }
  return {};
}

}  // namespace fleet::storage
