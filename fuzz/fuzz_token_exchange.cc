// The token-exchange response parser (n8n/token_exchange.h) on any answer an instance can send:
// the input is "STATUS\nheaders...\n\nBODY" (fuzz_util.h).

#include "fuzz_util.h"
#include "n8n/token_exchange.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  constexpr int64_t kNow = 1795000000;  // 2026-11-18
  n8n::HttpResponse response = fuzz::ResponseFromText(fuzz::AsText(data, size));
  auto token = n8n::ParseTokenExchangeResponse(response, "https://n8n.example.com", kNow);
  if (token) {
    FUZZ_CHECK(response.status == 200);
    FUZZ_CHECK(!token->token.empty());
    FUZZ_CHECK(token->expires_at >= kNow);
  } else {
    FUZZ_CHECK(!token.error().message.empty());
  }
  FUZZ_CHECK(n8n::RetryAfterSeconds(response) >= -1);
  return 0;
}
