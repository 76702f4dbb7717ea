// Opening an optional shared library (see radlearn/shared_library.h).
#include "radlearn/shared_library.h"

#include <cstdlib>
#include <vector>

namespace radlearn {

SharedLibrary open_shared_library(const char* env_var, std::initializer_list<const char*> names, int flags) {
  std::vector<std::string> candidates;
  if (const char* env = std::getenv(env_var); env && *env) candidates.emplace_back(env);
  else candidates.assign(names.begin(), names.end());
  SharedLibrary result;
  for (const std::string& name : candidates) {
    result.handle = dlopen(name.c_str(), flags);
    if (result.handle) {
      result.name = name;
      result.tried.clear();
      return result;
    }
    const char* why = dlerror();
    result.tried += (result.tried.empty() ? "" : "; ") + name + ": " + (why ? why : "not found");
  }
  return result;
}

}  // namespace radlearn
