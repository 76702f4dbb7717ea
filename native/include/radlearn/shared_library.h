// Optional libraries loaded at run time (MPI, NCCL): the addon links neither, so it builds and
// loads where they are missing. A file the user names in an environment variable is the only one
// tried (another in its place would surprise); otherwise the usual names in order.
#pragma once

#include <dlfcn.h>

#include <initializer_list>
#include <string>

namespace radlearn {

struct SharedLibrary {
  void* handle = nullptr;  // nullptr when none loaded
  std::string name;        // the file that loaded
  std::string tried;       // each name tried with dlopen's reason, when none loaded
};

SharedLibrary open_shared_library(const char* env_var, std::initializer_list<const char*> names, int flags);

// Sets `out` to the symbol, or appends its name to `missing` (comma-separated).
template <typename F>
bool resolve_symbol(void* lib, const char* name, F& out, std::string& missing) {
  void* symbol = dlsym(lib, name);
  if (!symbol) {
    missing += missing.empty() ? name : std::string(", ") + name;
    return false;
  }
  out = reinterpret_cast<F>(symbol);
  return true;
}

}  // namespace radlearn
