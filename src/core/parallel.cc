#include "core/parallel.h"

#include <algorithm>
#include <atomic>
#include <thread>
#include <vector>

namespace fleet {

void ForEachBounded(size_t count, int concurrency, const std::function<void(size_t)>& work) {
  if (count == 0) return;
  size_t threads =
      std::clamp<size_t>(concurrency < 1 ? 1 : static_cast<size_t>(concurrency), 1, count);
  std::atomic<size_t> next{0};
  auto drain = [&] {
    for (size_t i = next.fetch_add(1); i < count; i = next.fetch_add(1)) work(i);
  };
  std::vector<std::jthread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(drain);
  drain();
}  // the jthreads join here

}  // namespace fleet
