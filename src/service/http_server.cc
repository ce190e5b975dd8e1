#include "service/http_server.h"

#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <thread>

#include <httplib.h>

#include "service/api_router.h"

namespace fleet::service {

struct HttpService::Impl {
  Impl(HttpOptions o, ServiceDeps d) : options(std::move(o)), deps(std::move(d)), router(deps) {}

  HttpOptions options;
  ServiceDeps deps;
  api::Router router;
  std::unique_ptr<httplib::Server> server;
  std::thread thread;
  int port{0};
  bool tls{false};

  Result<void> Check() const;
  void Configure();
  void Log(const httplib::Request& req, const httplib::Response& res);
};

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  if (host.substr(0, 4) != "127.") return false;
  int dots = 0;
  for (char c : host) {
    if (c == '.') {
      ++dots;
    } else if (c < '0' || c > '9') {
      return false;
    }
  }
  return dots == 3;
}

Result<void> HttpService::Impl::Check() const {
  if (deps.stores == nullptr || deps.metrics == nullptr || deps.clock == nullptr) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "HTTP service: stores, metrics and clock are required");
  }
  if (options.tls_cert_file.empty() != options.tls_key_file.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "TLS needs both a certificate and a private key file (tls_cert, tls_key)");
  }
  for (const auto& file : {options.tls_cert_file, options.tls_key_file}) {
    std::error_code ignored;
    if (!file.empty() && !std::filesystem::is_regular_file(file, ignored)) {
      return MakeError(ErrorCode::kInvalidArgument, "TLS file " + file + " does not exist");
    }
  }
  bool with_tls = !options.tls_cert_file.empty();
  if (!IsLoopbackHost(options.host) && !with_tls && !options.insecure_listen) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "refusing to serve plain HTTP on non-loopback address '" + options.host +
                         "': tokens would cross the network in clear text. Configure TLS "
                         "(tls_cert and tls_key) or pass --insecure-listen (e.g. behind a "
                         "TLS-terminating proxy)");
  }
  if (options.threads < 1 || options.port < 0 || options.port > 65535) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "HTTP service: threads must be >= 1 and port within 0-65535");
  }
  return {};
}

void HttpService::Impl::Configure() {
  httplib::Server& s = *server;
  auto dispatch = [this](const httplib::Request& req, httplib::Response& res) {
    router.Dispatch(req, res);
  };
  s.Get(".*", dispatch);
  s.Post(".*", dispatch);
  s.Put(".*", dispatch);
  s.Patch(".*", dispatch);
  s.Delete(".*", dispatch);
  s.Options(".*", dispatch);
  s.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    api::RequestContext& context = api::CurrentRequest();
    context = api::RequestContext{};
    context.start = std::chrono::steady_clock::now();
    context.started = true;
    // cpp-httplib 0.11 holds only Content-Length bodies to the payload limit: a chunked body
    // would be read whole, however large. No client of this API needs one, so it is refused
    // before the body is read (this runs first), and the connection is closed.
    if (req.has_header("Transfer-Encoding")) {
      res.set_header("Connection", "close");
      api::SendError(res, 413,
                     "request bodies must be sent with Content-Length (at most " +
                         std::to_string(options.max_body_bytes) +
                         " bytes); Transfer-Encoding is refused");
      return httplib::Server::HandlerResponse::Handled;
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  // Errors httplib answers itself (413, 400 for a malformed request, 500 from an exception)
  // get the same JSON body as the API's own.
  httplib::Server::HandlerWithResponse on_error = [](const httplib::Request&,
                                                     httplib::Response& res) {
    if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = res.status == 413 ? "request body too large" : "request refused";
    api::SendError(res, res.status, message);
    return httplib::Server::HandlerResponse::Handled;
  };
  s.set_error_handler(on_error);
  s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
    api::SendError(res, 500, "internal error while handling the request");
  });
  // Called once the response is complete but before it is written, so a client that got its
  // answer also finds the request counted.
  s.set_post_routing_handler(
      [this](const httplib::Request& req, httplib::Response& res) { Log(req, res); });
  size_t threads = static_cast<size_t>(options.threads);
  s.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  s.set_tcp_nodelay(true);
  s.set_keep_alive_max_count(static_cast<size_t>(options.keep_alive_max_requests));
  s.set_keep_alive_timeout(options.keep_alive_seconds);
  s.set_read_timeout(options.read_timeout_seconds, 0);
  s.set_write_timeout(options.write_timeout_seconds, 0);
  s.set_payload_max_length(options.max_body_bytes);
}

void HttpService::Impl::Log(const httplib::Request& req, const httplib::Response& res) {
  api::RequestContext& context = api::CurrentRequest();
  RequestLog log;
  log.method = req.method;
  log.path = req.path;
  log.route = context.route;
  log.status = res.status;
  if (context.started) {
    log.duration = std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - context.start);
  }
  log.token_name = context.token_name;
  context = api::RequestContext{};
  deps.metrics->RecordRequest(log.route.empty() ? "unmatched" : log.route, log.status,
                              log.duration);
  if (deps.on_request) deps.on_request(log);
}

HttpService::HttpService(HttpOptions options, ServiceDeps deps)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(deps))) {
  api::AddAllRoutes(impl_->router);
}

HttpService::~HttpService() { Stop(); }

Result<void> HttpService::Start() {
  if (impl_->server)
    return MakeError(ErrorCode::kFailedPrecondition, "HTTP service already started");
  if (auto checked = impl_->Check(); !checked) return checked;
  const HttpOptions& options = impl_->options;
  if (!options.tls_cert_file.empty()) {
    auto ssl = std::make_unique<httplib::SSLServer>(options.tls_cert_file.c_str(),
                                                    options.tls_key_file.c_str());
    if (!ssl->is_valid()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "cannot use TLS certificate " + options.tls_cert_file + " with key " +
                           options.tls_key_file + ": not a matching PEM certificate and key");
    }
    impl_->server = std::move(ssl);
    impl_->tls = true;
  } else {
    impl_->server = std::make_unique<httplib::Server>();
  }
  impl_->Configure();
  httplib::Server& server = *impl_->server;
  int listen_fd = -1;
  server.set_socket_options([&listen_fd](socket_t sock) {
    httplib::default_socket_options(sock);
    listen_fd = sock;
  });
  errno = 0;
  int port = options.port;
  bool bound = options.port == 0 ? (port = server.bind_to_any_port(options.host)) > 0
                                 : server.bind_to_port(options.host, options.port);
  server.set_socket_options(httplib::default_socket_options);
  if (!bound || listen_fd < 0) {
    std::string reason = errno != 0 ? std::strerror(errno) : "bind failed";
    impl_->server.reset();
    return MakeError(ErrorCode::kUnavailable, "cannot listen on " + options.host + ":" +
                                                  std::to_string(options.port) + ": " + reason);
  }
  // Debian's cpp-httplib listens with a backlog of 5: widen it (DEPENDENCIES.md).
  ::listen(listen_fd, SOMAXCONN);
  impl_->port = port;
  impl_->thread = std::thread([&server] { server.listen_after_bind(); });
  for (int i = 0; i < 5000 && !server.is_running(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (!server.is_running()) {
    Stop();
    return MakeError(ErrorCode::kUnavailable, "HTTP service did not start listening");
  }
  return {};
}

void HttpService::Stop() {
  if (!impl_->server) return;
  impl_->server->stop();
  if (impl_->thread.joinable()) impl_->thread.join();
  impl_->server.reset();
}

int HttpService::port() const { return impl_->port; }

bool HttpService::tls() const { return impl_->tls; }

}  // namespace fleet::service
