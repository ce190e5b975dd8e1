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

}  // namespace fleet
