#include "service/store_pool.h"

#include <string>
#include <utility>

namespace fleet::service {

StorePool::Lease::~Lease() {
  if (pool_ != nullptr) pool_->Return(std::move(store_));
}

StorePool::StorePool(Opener opener, size_t max_stores)
    : opener_(std::move(opener)), max_stores_(max_stores == 0 ? 1 : max_stores) {}

Result<StorePool::Lease> StorePool::Acquire(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  auto available = [this] { return !idle_.empty() || open_ < max_stores_; };
  if (!returned_.wait_for(lock, wait, available)) {
    return MakeError(ErrorCode::kUnavailable, "all " + std::to_string(max_stores_) +
                                                  " database connections are busy; retry shortly");
  }
  if (!idle_.empty()) {
    std::unique_ptr<storage::Store> store = std::move(idle_.back());
    idle_.pop_back();
    return Lease(this, std::move(store));
  }
  ++open_;  // reserve the slot while opening without the lock
  lock.unlock();
  auto store = opener_();
  if (!store) {
    lock.lock();
    --open_;
    returned_.notify_one();
    return tl::unexpected(WithContext(store.error(), "opening a database connection"));
  }
  return Lease(this, std::move(*store));
}

size_t StorePool::open_stores() const {
  std::lock_guard lock(mu_);
  return open_;
}

void StorePool::Return(std::unique_ptr<storage::Store> store) {
  {
    std::lock_guard lock(mu_);
    if (store) {
      idle_.push_back(std::move(store));
    } else {
      --open_;  // discarded
    }
  }
  returned_.notify_one();
}

}  // namespace fleet::service
