/**
 * The `device` setting of a run: where onnxruntime's sessions and radlearn's kernels run.
 * 'auto' puts each part on CUDA when it can run there and on the CPU otherwise (saying why);
 * 'cpu' keeps both on the CPU; 'cuda' requires both on CUDA and fails at once when either cannot.
 */
export const DEVICE_SETTINGS = ['auto', 'cpu', 'cuda'] as const;

export type DeviceSetting = (typeof DEVICE_SETTINGS)[number];

/** Where one part of a run executes. */
export type Device = 'cpu' | 'cuda';
