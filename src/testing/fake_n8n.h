#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace fleet::testing {

// A fake n8n instance on 127.0.0.1 (port chosen by the kernel), behaving like the real one as
// described in n8n-reference.md: /healthz, the public API under /api/v1 with X-N8N-API-KEY.
// It grows with the product (token exchange, insights, workflows); its switches inject faults.
// Routes are small functions in fake_n8n.cc listed in one table; add new ones there.
// Test-only: never linked into the product.
class FakeN8n {
 public:
  enum class Fault {
    kNone,
    kServerError,  // every route answers 500
    kHang,         // every route sleeps `hang_ms` before answering
    kGarbage,      // 200 with a non-JSON body
    kHtmlLogin,    // 200 with an HTML login page
  };

  FakeN8n();
  ~FakeN8n();  // stops the server and joins its thread
  FakeN8n(const FakeN8n&) = delete;
  FakeN8n& operator=(const FakeN8n&) = delete;

  int port() const;
  std::string url() const;  // "http://127.0.0.1:<port>"

  // API keys the instance accepts on /api/v1.
  void AcceptApiKey(const std::string& key);
  void SetFault(Fault fault, int hang_ms = 0);

  // Workflows listed by GET /api/v1/workflows (ids "1", "2", ... in order of addition).
  // Returns the new workflow's id.
  std::string AddWorkflow(const std::string& name);

  // Requests seen, for assertions: "GET /api/v1/workflows?limit=1".
  std::vector<std::string> Requests() const;
  // The same with headers (names lower-cased) and bodies.
  struct RecordedRequest {
    std::string method{};
    std::string target{};  // path and query as sent
    std::vector<std::pair<std::string, std::string>> headers{};
    std::string body{};
    int remote_port{};                                        // tells connections apart
    std::string Header(const std::string& lower_name) const;  // first value, or ""
  };
  std::vector<RecordedRequest> RecordedRequests() const;

  // Most requests handled at the same time since construction or ResetStats().
  int MaxConcurrent() const;
  // Forgets recorded requests and the concurrency high-water mark.
  void ResetStats();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A port on 127.0.0.1 where nothing listens (bound by the kernel, then closed): connecting to it
// is refused.
int ClosedLocalPort();

}  // namespace fleet::testing
