#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/error.h"
#include "storage/store.h"

namespace fleet::service {

// Lends database connections to request threads: one SQLite connection must not be used by two
// threads at once, so each request borrows a store for its duration. Stores are opened lazily,
// at most `max_stores`, and kept for reuse.
class StorePool {
 public:
  using Opener = std::function<Result<std::unique_ptr<storage::Store>>()>;

  // A borrowed store, returned to the pool when the lease goes.
  class Lease {
   public:
    Lease(Lease&& other) noexcept : pool_(other.pool_), store_(std::move(other.store_)) {
      other.pool_ = nullptr;
    }
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    ~Lease();

    storage::Store& operator*() const { return *store_; }
    storage::Store* operator->() const { return store_.get(); }
    // Closes the store instead of returning it (after an error that may have broken it).
    void Discard() { store_.reset(); }

   private:
    friend class StorePool;
    Lease(StorePool* pool, std::unique_ptr<storage::Store> store)
        : pool_(pool), store_(std::move(store)) {}
    StorePool* pool_{nullptr};
    std::unique_ptr<storage::Store> store_{};
  };

  StorePool(Opener opener, size_t max_stores);
  StorePool(const StorePool&) = delete;
  StorePool& operator=(const StorePool&) = delete;

  // An idle store, a newly opened one while fewer than `max_stores` exist, else waits up to
  // `wait` for one to be returned (kUnavailable then). Errors of the opener are passed on.
  Result<Lease> Acquire(std::chrono::milliseconds wait = std::chrono::seconds(10));

  size_t open_stores() const;  // opened and not discarded (idle + lent)

 private:
  void Return(std::unique_ptr<storage::Store> store);

  Opener opener_;
  size_t max_stores_;
  mutable std::mutex mu_;
  std::condition_variable returned_;
  std::vector<std::unique_ptr<storage::Store>> idle_;
  size_t open_{0};
};

}  // namespace fleet::service
