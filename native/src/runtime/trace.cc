// Op annotations (see radlearn/trace.h): NVTX ranges when built with NVTX, Chrome trace
// events while tracing is on. Recording costs one mutex-protected push per op.
#include "radlearn/trace.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <thread>

#ifdef RADLEARN_WITH_NVTX
#include <nvtx3/nvToolsExt.h>
#endif

namespace radlearn {
namespace {

std::atomic<bool> g_enabled{false};
std::mutex g_mutex;
std::vector<TraceEvent> g_events;
const auto g_origin = std::chrono::steady_clock::now();

std::uint64_t this_thread_id() {
  return static_cast<std::uint64_t>(std::hash<std::thread::id>{}(std::this_thread::get_id()) & 0xffffffu);
}

}  // namespace

void trace_enable(bool on) { g_enabled.store(on); }
bool trace_enabled() { return g_enabled.load(); }

double trace_now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - g_origin).count();
}

std::vector<TraceEvent> trace_take() {
  std::lock_guard<std::mutex> lock(g_mutex);
  std::vector<TraceEvent> out;
  out.swap(g_events);
  return out;
}

ScopedOp::ScopedOp(const char* name, const char* category)
    : name_(name), category_(category), start_us_(g_enabled.load() ? trace_now_us() : -1.0) {
#ifdef RADLEARN_WITH_NVTX
  nvtxRangePushA(name);
#endif
}

ScopedOp::~ScopedOp() {
#ifdef RADLEARN_WITH_NVTX
  nvtxRangePop();
#endif
  if (start_us_ < 0) return;
  double end = trace_now_us();
  std::lock_guard<std::mutex> lock(g_mutex);
  g_events.push_back({name_, category_, start_us_, end - start_us_, this_thread_id()});
}

}  // namespace radlearn
