#pragma once

#include <memory>

#include "core/error.h"
#include "storage/postgres_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Wraps an open, migrated connection (see OpenPostgresStore in postgres_open.cc).
std::unique_ptr<Store> NewPostgresStore(std::unique_ptr<PgConnection> db);

// Store::Status of the connection's schema: its tables' size on disk (with indexes and TOAST),
// schema version and row counts; the location is the URL without its password.
Result<StoreStatus> ReadPostgresStatus(PgConnection& db);

}  // namespace fleet::storage
