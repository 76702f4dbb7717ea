export { backendInfo, setThreads, type BackendInfo, type DeviceInfo } from './backend.js';
export { NativeLoadError, BackendUnavailableError, BufferDetachedError, CudaError, TensorDisposedError, TensorInUseError, type LoadAttempt } from './errors.js';
export { traceSpan, startTrace, writeTrace } from './trace.js';
export type { DType as DeviceDType } from './types.js';
