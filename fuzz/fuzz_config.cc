// The service's TOML configuration (service/config.h) from any file text: a config.toml is
// written by hand. Checks that an accepted file gives a configuration `serve` can use.

#include "fuzz_util.h"
#include "service/config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  auto loaded = service::ParseServiceConfig(fuzz::AsText(data, size), "/etc/n8n-fleet.toml", {});
  if (!loaded) {
    FUZZ_CHECK(loaded.error().code == ErrorCode::kInvalidArgument);
    FUZZ_CHECK(!loaded.error().message.empty());
    return 0;
  }
  const service::ServiceConfig& config = loaded->config;
  FUZZ_CHECK(!loaded->entries.empty());
  FUZZ_CHECK(service::SplitListen(config.listen).has_value());
  FUZZ_CHECK(service::ParseCollectAt(config.collect_at).has_value());
  FUZZ_CHECK(config.tls_cert.empty() == config.tls_key.empty());
  FUZZ_CHECK(config.retry_base_seconds <= config.retry_max_seconds);
  FUZZ_CHECK(config.concurrency >= 1 && config.http_threads >= 1);
  return 0;
}
