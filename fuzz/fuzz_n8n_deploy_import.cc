// The n8n-deploy importer (storage/n8n_deploy_import.h) on malformed SQLite files: `db import`
// reads a file the user was handed. Each input is written to one temporary file (in $TMPDIR)
// that the importer opens read-only through its entry point; scripts/fuzz.sh bounds the time
// per input (-timeout) and the file size (-max_len).

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <string>

#include "fuzz_util.h"
#include "storage/n8n_deploy_import.h"

namespace {

const std::string& DatabasePath() {
  static const std::string path = [] {
    const char* dir = std::getenv("TMPDIR");
    std::string pattern = std::string(dir && *dir ? dir : "/tmp") + "/fuzz-n8n-deploy-XXXXXX";
    int fd = mkstemp(pattern.data());
    FUZZ_CHECK(fd >= 0);
    close(fd);
    return pattern;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace fleet;
  const std::string& path = DatabasePath();
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    FUZZ_CHECK(out.good());
  }
  auto imported = storage::ReadN8nDeployDatabase(path);
  if (!imported) FUZZ_CHECK(!imported.error().message.empty());
  // A file claiming WAL mode may leave its side files behind; the next input starts clean.
  std::remove((path + "-wal").c_str());
  std::remove((path + "-shm").c_str());
  std::remove((path + "-journal").c_str());
  return 0;
}
