#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/error.h"

namespace fleet::n8n {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
  std::string method{"GET"};
  std::string url{};
  Headers headers{};
  std::string body{};
  bool verify_tls{true};
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(10)};
  std::chrono::milliseconds total_timeout{std::chrono::seconds(30)};
  size_t max_response_bytes{8 * 1024 * 1024};  // larger bodies fail with kBadResponse
  // False on a host's last request of a run: its connection is closed instead of kept idle, so
  // the connection cache does not fill with hosts that will not be asked again.
  bool keep_connection{true};
  // Submitted from a completion callback: true puts it ahead of the queue (a follow-up, which
  // finds its host's connection still open); false queues it behind (new work, e.g. the first
  // request of the next server), so that work queued earlier is not overtaken indefinitely.
  bool follow_up{true};
};

struct HttpResponse {
  int status{};
  Headers headers{};  // names lower-cased
  std::string body{};
  std::chrono::microseconds elapsed{};

  // First header with this lower-case name, or "".
  std::string Header(std::string_view lower_name) const;
};

// Transport errors (no HTTP status): kUnavailable (refused, DNS, TLS, reset), kTimeout,
// kBadResponse (oversized or malformed). An HTTP status, any status, is a successful Send.
using HttpCallback = std::function<void(Result<HttpResponse>)>;

// The seam between the product and the network. One real implementation (libcurl), one fake.
class HttpTransport {
 public:
  virtual ~HttpTransport() = default;

  // Blocking single request.
  virtual Result<HttpResponse> Send(const HttpRequest& request) = 0;

  // Asynchronous form for fleets: queues a request; `done` runs on the thread that calls Run(),
  // and may Submit() follow-up requests (e.g. the API call after a token exchange), which go
  // ahead of the queue so that they find their host's connection still open.
  virtual void Submit(HttpRequest request, HttpCallback done) = 0;
  // Drives all submitted requests (and those submitted from callbacks) to completion, with at
  // most `max_in_flight` transfers at a time. Returns when nothing is left.
  virtual void Run(int max_in_flight) = 0;
  // Callable from any thread: makes the Run() in progress (or the next one) fail every queued and
  // in-flight request with kCancelled, at once, and return. Used to shut down within a bound.
  virtual void Abort() = 0;
};

struct CurlOptions {
  std::string user_agent{};     // default "n8n-fleet/<version>"
  int max_host_connections{0};  // 0 = no per-host cap
};

// libcurl (easy for Send, multi for Submit/Run). Honours HTTP(S)_PROXY/NO_PROXY like curl does.
// Send may be called from several threads at once. Submit and Run belong to one thread; Run keeps
// at most max_in_flight easy handles (pooled, connections reused) however long the queue is, and
// a request's timeouts start when it leaves the queue. No retries: that is the caller's policy.
std::unique_ptr<HttpTransport> MakeCurlTransport(const CurlOptions& options = {});

}  // namespace fleet::n8n
