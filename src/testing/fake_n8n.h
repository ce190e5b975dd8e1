#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

namespace fleet::testing {

// A fake n8n instance on 127.0.0.1 (port chosen by the kernel), behaving like the real one as
// described in n8n-reference.md: /healthz, the public API under /api/v1 with X-N8N-API-KEY.
// It grows with the product (token exchange, insights, workflows); its switches inject faults.
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

  // Requests seen, for assertions: "GET /api/v1/workflows?limit=1".
  std::vector<std::string> Requests() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace fleet::testing
