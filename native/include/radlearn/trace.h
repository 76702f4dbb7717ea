// Op annotations: every kernel entry point opens a ScopedOp. It emits an NVTX range when the
// build has NVTX (so Nsight Systems shows op names) and, while tracing is on, records a
// Chrome trace "complete" event (name, start, duration, thread) that the TypeScript side
// collects and writes to RADLEARN_TRACE.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace radlearn {

struct TraceEvent {
  std::string name;
  std::string category;
  double start_us;
  double duration_us;
  std::uint64_t thread_id;
};

void trace_enable(bool on);
bool trace_enabled();
// Moves the recorded events out (the buffer is emptied).
std::vector<TraceEvent> trace_take();
// Microseconds on the same clock as the events (steady clock since process start).
double trace_now_us();

class ScopedOp {
 public:
  ScopedOp(const char* name, const char* category);
  ~ScopedOp();
  ScopedOp(const ScopedOp&) = delete;
  ScopedOp& operator=(const ScopedOp&) = delete;

 private:
  const char* name_;
  const char* category_;
  double start_us_;
};

}  // namespace radlearn
