#include "registry/api_tokens.h"

#include "core/jwt.h"
#include "core/text.h"
#include "crypto/sealer.h"

namespace fleet::registry {
namespace {

constexpr std::string_view kTokenPrefix = "nft_";
constexpr size_t kTokenLength = 4 + 43;  // "nft_" + base64url of 32 bytes
constexpr size_t kShownLength = 8;       // "nft_" + 4 characters: enough to tell tokens apart

}  // namespace

std::string HashToken(std::string_view plaintext) { return crypto::Sha256Hex(plaintext); }

Result<IssuedToken> IssueApiToken(storage::Store& store, const std::string& name, bool read_only,
                                  const std::string& server, int64_t now) {
  if (auto ok = ValidateName(name, "token"); !ok) return tl::unexpected(ok.error());
  IssuedToken issued;
  issued.plaintext = std::string(kTokenPrefix) + Base64UrlEncode(crypto::RandomBytes(32));
  ApiToken token;
  token.name = name;
  token.token_hash = HashToken(issued.plaintext);
  token.prefix = issued.plaintext.substr(0, kShownLength);
  token.read_only = read_only;
  token.server = server;
  auto stored = store.CreateApiToken(token, now);
  if (!stored) return tl::unexpected(stored.error());
  issued.token = *stored;
  return issued;
}

Result<ApiToken> AuthenticateToken(storage::Store& store, std::string_view plaintext) {
  auto refused = [] {
    return MakeError(ErrorCode::kPermissionDenied,
                     "invalid or revoked token: create one with `n8n-fleet token create NAME`");
  };
  if (plaintext.size() != kTokenLength ||
      plaintext.substr(0, kTokenPrefix.size()) != kTokenPrefix) {
    return refused();
  }
  auto token = store.FindApiToken(HashToken(plaintext));
  if (!token) {
    if (token.error().code == ErrorCode::kNotFound) return refused();
    return tl::unexpected(token.error());
  }
  if (token->revoked_at) return refused();
  return token;
}

}  // namespace fleet::registry
