// The real HttpTransport: libcurl. The only file of the project that includes <curl/curl.h>.

#include <curl/curl.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "n8n/http.h"

#ifndef N8N_FLEET_VERSION
#define N8N_FLEET_VERSION "dev"
#endif

namespace fleet::n8n {
namespace {

struct EasyDeleter {
  void operator()(CURL* easy) const { curl_easy_cleanup(easy); }
};
struct MultiDeleter {
  void operator()(CURLM* multi) const { curl_multi_cleanup(multi); }
};
struct SlistDeleter {
  void operator()(curl_slist* list) const { curl_slist_free_all(list); }
};
using EasyHandle = std::unique_ptr<CURL, EasyDeleter>;
using MultiHandle = std::unique_ptr<CURLM, MultiDeleter>;
using HeaderList = std::unique_ptr<curl_slist, SlistDeleter>;

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string_view TrimSpace(std::string_view text) {
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) {
    text.remove_prefix(1);
  }
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.remove_suffix(1);
  }
  return text;
}

ErrorCode CodeFor(CURLcode code) {
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      return ErrorCode::kTimeout;
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL:
      return ErrorCode::kInvalidArgument;
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_BAD_CONTENT_ENCODING:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
      return ErrorCode::kBadResponse;
    case CURLE_FAILED_INIT:
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
    case CURLE_NOT_BUILT_IN:
      return ErrorCode::kInternal;
    default:  // COULDNT_CONNECT/RESOLVE, SSL_*, SEND/RECV, GOT_NOTHING, PARTIAL_FILE, HTTP2...
      return ErrorCode::kUnavailable;
  }
}

bool IsTlsVerificationFailure(CURLcode code) {
  return code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
         code == CURLE_SSL_ISSUER_ERROR;
}

// The URL without its query, for messages.
std::string_view UrlForMessage(const std::string& url) {
  return std::string_view(url).substr(0, url.find('?'));
}

// One request bound to one easy handle: what libcurl reads from and writes into.
class Transfer {
 public:
  Transfer(HttpRequest request, HttpCallback done)
      : request_(std::move(request)), done_(std::move(done)) {}
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  // Sets every option of a freshly reset handle. The handle points into this object.
  CURLcode Configure(CURL* easy, const std::string& user_agent) {
    CURLcode rc = CURLE_OK;
    auto set = [&](CURLoption option, auto value) {
      if (rc == CURLE_OK) rc = curl_easy_setopt(easy, option, value);
    };
    set(CURLOPT_URL, request_.url.c_str());
    set(CURLOPT_PROTOCOLS_STR, "http,https");
    set(CURLOPT_NOSIGNAL, 1L);
    // Each instance is resolved once per run: a DNS cache of thousands of hosts is pruned on
    // every transfer, which dominated fleet runs (bench/collect_bench.sh).
    set(CURLOPT_DNS_CACHE_TIMEOUT, 0L);
    set(CURLOPT_FORBID_REUSE, request_.keep_connection ? 0L : 1L);
    set(CURLOPT_USERAGENT, user_agent.c_str());
    set(CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode
    set(CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request_.connect_timeout.count()));
    set(CURLOPT_TIMEOUT_MS, static_cast<long>(request_.total_timeout.count()));
    set(CURLOPT_SSL_VERIFYPEER, request_.verify_tls ? 1L : 0L);
    set(CURLOPT_SSL_VERIFYHOST, request_.verify_tls ? 2L : 0L);
    set(CURLOPT_ERRORBUFFER, error_);
    set(CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
    set(CURLOPT_WRITEDATA, this);
    set(CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
    set(CURLOPT_HEADERDATA, this);
    set(CURLOPT_PRIVATE, this);
    if (request_.method == "GET") {
      set(CURLOPT_HTTPGET, 1L);
    } else if (request_.method == "HEAD") {
      set(CURLOPT_NOBODY, 1L);
    } else {
      if (request_.method == "POST") {
        set(CURLOPT_POST, 1L);
      } else {
        set(CURLOPT_CUSTOMREQUEST, request_.method.c_str());
      }
      if (request_.method == "POST" || !request_.body.empty()) {
        set(CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request_.body.size()));
        set(CURLOPT_POSTFIELDS, request_.body.c_str());
      }
    }
    curl_slist* list = nullptr;
    auto append = [&](const std::string& line) {
      curl_slist* next = curl_slist_append(list, line.c_str());
      if (next == nullptr) rc = CURLE_OUT_OF_MEMORY;
      list = next != nullptr ? next : list;
    };
    for (const auto& [name, value] : request_.headers) {
      append(value.empty() ? name + ";" : name + ": " + value);  // "Name:" would remove it
    }
    append("Expect:");  // no 100-continue round trip for large bodies
    headers_.reset(list);
    set(CURLOPT_HTTPHEADER, headers_.get());
    return rc;
  }

  Result<HttpResponse> Finish(CURL* easy, CURLcode code) {
    std::string what = request_.method + " " + std::string(UrlForMessage(request_.url)) + ": ";
    if (too_large_) {
      return MakeError(
          ErrorCode::kBadResponse,
          what + "response larger than " + std::to_string(request_.max_response_bytes) + " bytes");
    }
    if (code != CURLE_OK) {
      std::string detail = error_[0] != '\0' ? error_ : curl_easy_strerror(code);
      if (IsTlsVerificationFailure(code)) {
        detail +=
            " (the server's TLS certificate is not trusted: install its CA certificate, or "
            "mark the server to skip TLS verification)";
      } else if (code == CURLE_SSL_CONNECT_ERROR) {
        detail +=
            " (the TLS handshake failed: check that the server speaks HTTPS on this port; an "
            "https:// URL pointing at a plain-HTTP port fails this way)";
      }
      return MakeError(CodeFor(code), what + detail);
    }
    long status = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
    curl_off_t elapsed_us = 0;
    curl_easy_getinfo(easy, CURLINFO_TOTAL_TIME_T, &elapsed_us);
    response_.status = static_cast<int>(status);
    response_.elapsed = std::chrono::microseconds(elapsed_us);
    return std::move(response_);
  }

  HttpCallback TakeCallback() { return std::move(done_); }

 private:
  static size_t OnBody(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    size_t bytes = size * count;
    if (self->response_.body.size() + bytes > self->request_.max_response_bytes) {
      self->too_large_ = true;
      return 0;  // aborts the transfer (CURLE_WRITE_ERROR)
    }
    self->response_.body.append(data, bytes);
    return bytes;
  }

  static size_t OnHeader(char* data, size_t size, size_t count, void* self_ptr) {
    auto* self = static_cast<Transfer*>(self_ptr);
    size_t bytes = size * count;
    std::string_view line(data, bytes);
    if (line.rfind("HTTP/", 0) == 0) {
      self->response_.headers.clear();  // a new response (after 100 Continue, a proxy CONNECT)
    } else if (size_t colon = line.find(':'); colon != std::string_view::npos) {
      self->response_.headers.emplace_back(Lower(TrimSpace(line.substr(0, colon))),
                                           std::string(TrimSpace(line.substr(colon + 1))));
    }
    return bytes;
  }

  HttpRequest request_;
  HttpCallback done_;
  HeaderList headers_;
  HttpResponse response_{};
  bool too_large_{false};
  char error_[CURL_ERROR_SIZE]{};
};

struct Pending {
  HttpRequest request;
  HttpCallback done;
};

// Send() uses pooled easy handles (connection reuse, safe from several threads); Submit/Run use
// one multi handle and a pool of at most max_in_flight easy handles, whatever the queue length.
// Submit() and Run() belong to one thread; callbacks run on it.
class CurlTransport final : public HttpTransport {
 public:
  explicit CurlTransport(const CurlOptions& options)
      : user_agent_(options.user_agent.empty() ? "n8n-fleet/" N8N_FLEET_VERSION
                                               : options.user_agent),
        max_host_connections_(options.max_host_connections) {}

  ~CurlTransport() override {
    for (auto& [easy, active] : active_) curl_multi_remove_handle(multi_.get(), easy);
  }

  Result<HttpResponse> Send(const HttpRequest& request) override {
    EasyHandle easy = AcquireSendHandle();
    if (!easy) return MakeError(ErrorCode::kInternal, "libcurl could not create a handle");
    Transfer transfer(request, nullptr);
    CURLcode code = transfer.Configure(easy.get(), user_agent_);
    if (code == CURLE_OK) code = curl_easy_perform(easy.get());
    Result<HttpResponse> result = transfer.Finish(easy.get(), code);
    std::lock_guard lock(send_pool_mu_);
    send_pool_.push_back(std::move(easy));
    return result;
  }

  void Submit(HttpRequest request, HttpCallback done) override {
    if (in_callback_ && request.follow_up) {
      queue_.push_front(Pending{std::move(request), std::move(done)});
    } else {
      queue_.push_back(Pending{std::move(request), std::move(done)});
    }
  }

  void Run(int max_in_flight) override {
    const size_t limit = static_cast<size_t>(std::max(1, max_in_flight));
    if (!multi_) {
      std::lock_guard lock(wakeup_mu_);
      multi_.reset(curl_multi_init());
    }
    if (!multi_) return FailQueued(ErrorCode::kInternal, "libcurl could not create a multi handle");
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_TOTAL_CONNECTIONS, static_cast<long>(limit));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAXCONNECTS, static_cast<long>(limit));
    curl_multi_setopt(multi_.get(), CURLMOPT_MAX_HOST_CONNECTIONS,
                      static_cast<long>(max_host_connections_));
    while (!queue_.empty() || !active_.empty()) {
      if (aborted_.load()) {
        FailActive(ErrorCode::kCancelled, "cancelled: the service is shutting down");
        FailQueued(ErrorCode::kCancelled, "cancelled: the service is shutting down");
        continue;
      }
      StartQueued(limit);
      int running = 0;
      CURLMcode mc = curl_multi_perform(multi_.get(), &running);
      if (mc != CURLM_OK) {
        FailActive(ErrorCode::kInternal, std::string("libcurl: ") + curl_multi_strerror(mc));
        continue;
      }
      CompleteFinished();  // callbacks may queue more
      if (!queue_.empty() && active_.size() < limit) continue;
      if (!active_.empty()) curl_multi_poll(multi_.get(), nullptr, 0, 1000, nullptr);
    }
  }

 private:
  struct Active {
    EasyHandle easy;
    std::unique_ptr<Transfer> transfer;
  };

  EasyHandle AcquireSendHandle() {
    {
      std::lock_guard lock(send_pool_mu_);
      if (!send_pool_.empty()) {
        EasyHandle easy = std::move(send_pool_.back());
        send_pool_.pop_back();
        curl_easy_reset(easy.get());  // keeps live connections
        return easy;
      }
    }
    return EasyHandle(curl_easy_init());
  }

  EasyHandle AcquireMultiHandle() {
    if (idle_.empty()) return EasyHandle(curl_easy_init());
    EasyHandle easy = std::move(idle_.back());
    idle_.pop_back();
    curl_easy_reset(easy.get());
    return easy;
  }

  void StartQueued(size_t limit) {
    while (active_.size() < limit && !queue_.empty()) {
      Pending next = std::move(queue_.front());
      queue_.pop_front();
      auto transfer = std::make_unique<Transfer>(std::move(next.request), std::move(next.done));
      EasyHandle easy = AcquireMultiHandle();
      if (!easy) {
        transfer->TakeCallback()(MakeError(ErrorCode::kInternal, "libcurl: no easy handle"));
        continue;
      }
      CURLcode code = transfer->Configure(easy.get(), user_agent_);
      if (code != CURLE_OK || curl_multi_add_handle(multi_.get(), easy.get()) != CURLM_OK) {
        Result<HttpResponse> result =
            transfer->Finish(easy.get(), code != CURLE_OK ? code : CURLE_FAILED_INIT);
        idle_.push_back(std::move(easy));
        transfer->TakeCallback()(std::move(result));
        continue;
      }
      CURL* key = easy.get();
      active_.emplace(key, Active{std::move(easy), std::move(transfer)});
    }
  }

  void CompleteFinished() {
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
      if (msg->msg != CURLMSG_DONE) continue;
      CURL* key = msg->easy_handle;
      CURLcode code = msg->data.result;
      auto it = active_.find(key);
      if (it == active_.end()) continue;
      Active done = std::move(it->second);
      active_.erase(it);
      curl_multi_remove_handle(multi_.get(), key);
      Result<HttpResponse> result = done.transfer->Finish(key, code);
      HttpCallback callback = done.transfer->TakeCallback();
      done.transfer.reset();
      idle_.push_back(std::move(done.easy));
      in_callback_ = true;
      callback(std::move(result));
      in_callback_ = false;
    }
  }

  void Abort() override {
    aborted_.store(true);
    std::lock_guard lock(wakeup_mu_);
    if (multi_) curl_multi_wakeup(multi_.get());
  }

  void FailActive(ErrorCode code, const std::string& message) {
    std::vector<HttpCallback> callbacks;
    for (auto& [key, active] : active_) {
      curl_multi_remove_handle(multi_.get(), key);
      callbacks.push_back(active.transfer->TakeCallback());
      idle_.push_back(std::move(active.easy));
    }
    active_.clear();
    for (auto& callback : callbacks) {
      in_callback_ = true;
      callback(MakeError(code, message));
      in_callback_ = false;
    }
  }

  void FailQueued(ErrorCode code, const std::string& message) {
    while (!queue_.empty()) {
      Pending next = std::move(queue_.front());
      queue_.pop_front();
      next.done(MakeError(code, message));
    }
  }

  const std::string user_agent_;
  const int max_host_connections_;
  std::mutex send_pool_mu_;
  std::vector<EasyHandle> send_pool_;
  MultiHandle multi_;  // declared before the handles it holds, so destroyed after them
  std::vector<EasyHandle> idle_;
  std::unordered_map<CURL*, Active> active_;
  std::deque<Pending> queue_;
  bool in_callback_{false};           // Submit() from a completion callback: a follow-up
  std::atomic<bool> aborted_{false};  // sticky: once aborted, every later request fails
  std::mutex wakeup_mu_;
};

}  // namespace

std::unique_ptr<HttpTransport> MakeCurlTransport(const CurlOptions& options) {
  GlobalInit();
  return std::make_unique<CurlTransport>(options);
}

}  // namespace fleet::n8n
