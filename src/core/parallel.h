#pragma once

#include <cstddef>
#include <functional>

namespace fleet {

// Calls `work(i)` for every i in [0, count), on at most `concurrency` threads at once (clamped to
// [1, count]; one call runs on the calling thread when that is all there is). Every index is
// visited exactly once, in ascending order of start; returns when every call has returned. For
// fleet operations made of a few blocking calls per server (a workflow push): the threads are
// bounded by `concurrency`, never one per server. `work` must not throw.
void ForEachBounded(size_t count, int concurrency, const std::function<void(size_t)>& work);

}  // namespace fleet
