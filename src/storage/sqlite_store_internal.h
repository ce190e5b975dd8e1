#pragma once

#include <memory>
#include <string>

#include "storage/sqlite_db.h"
#include "storage/store.h"

namespace fleet::storage {

// Wraps an open, configured and migrated connection (see OpenSqliteStore in sqlite_open.cc).
std::unique_ptr<Store> NewSqliteStore(Database db, std::string path);

}  // namespace fleet::storage
