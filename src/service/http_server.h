#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/error.h"
#include "service/assets.h"
#include "service/metrics.h"
#include "service/runner.h"
#include "service/store_pool.h"

namespace fleet::service {

struct HttpOptions {
  std::string host{"127.0.0.1"};
  int port{8080};                  // 0 = any free port (read it back with HttpService::port())
  int threads{8};                  // request worker threads (also the size of the store pool)
  size_t max_body_bytes{1 << 20};  // larger bodies are refused with 413
  int read_timeout_seconds{10};
  int write_timeout_seconds{10};
  int keep_alive_seconds{5};  // idle keep-alive connections are closed after this
  int keep_alive_max_requests{100};
  std::string tls_cert_file{};  // PEM; with tls_key_file: HTTPS
  std::string tls_key_file{};
  bool insecure_listen{false};  // allow plain HTTP on a non-loopback address
};

// One finished request, for the access log. Never holds the token itself.
struct RequestLog {
  std::string method{};
  std::string path{};   // without the query string
  std::string route{};  // the matched pattern, e.g. "/api/v1/runs/{id}" ("" = none)
  int status{};
  std::chrono::microseconds duration{};
  std::string token_name{};  // the authenticated token's name ("" = none)
};

// What the API serves from. `stores`, `metrics` and `clock` are required; the rest optional.
struct ServiceDeps {
  StorePool* stores{nullptr};
  Metrics* metrics{nullptr};
  const Clock* clock{nullptr};
  CollectionRunner* runner{nullptr};        // null: POST /api/v1/collect answers 503
  std::function<bool()> scheduler_alive{};  // for /readyz; empty = alive
  std::function<const Asset*(std::string_view)> find_asset{};  // the dashboard; empty = none
  std::function<void(const RequestLog&)> on_request{};         // called after each response
};

// The HTTP API of `n8n-fleet serve` (routes: docs/openapi.json) over cpp-httplib.
class HttpService {
 public:
  HttpService(HttpOptions options, ServiceDeps deps);
  ~HttpService();  // Stop()
  HttpService(const HttpService&) = delete;
  HttpService& operator=(const HttpService&) = delete;

  // Binds and starts serving on a thread; returns once the socket listens. kInvalidArgument for
  // a non-loopback host without TLS or insecure_listen, unusable TLS files or missing deps;
  // kUnavailable when the address cannot be bound.
  [[nodiscard]] Result<void> Start();
  // Stops accepting, lets in-flight requests finish, joins the thread. Idempotent.
  void Stop();

  int port() const;  // the bound port, after Start()
  bool tls() const;  // serving HTTPS

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Whether `host` is a loopback address ("localhost", 127.0.0.0/8, "::1").
bool IsLoopbackHost(std::string_view host);

}  // namespace fleet::service
