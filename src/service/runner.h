#pragma once

#include <cstdint>
#include <optional>

#include "collector/run.h"
#include "core/error.h"

namespace fleet::service {

// Runs collections one at a time, each on a worker thread, so that whoever starts one (the
// scheduler, POST /api/v1/collect) gets its run id at once.
class CollectionRunner {
 public:
  virtual ~CollectionRunner() = default;
  // Plans the request, creates its run row and starts it; returns the run id. kFailedPrecondition
  // (HTTP 409) while a run is in progress (here or in another process on the same database);
  // kInvalidArgument / kNotFound for a bad request (unknown server, day not begun).
  virtual Result<int64_t> Start(const collector::CollectionRequest& request) = 0;
  // The run in progress, if any.
  virtual std::optional<int64_t> Current() const = 0;
};

}  // namespace fleet::service
