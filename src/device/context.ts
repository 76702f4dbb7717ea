/**
 * The device a training run executes on, visible to everything the run calls: every onnxruntime
 * session the run creates asks for the plan's providers (session-factory.ts) and every kernel call
 * defaults to the plan's backend, without the plan being passed through each layer. The context
 * also keeps a record of each session, so the run can report what actually ran where.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { runWithKernelBackend } from '../native/backend.js';
import type { DevicePlan } from './plan.js';

/** One onnxruntime session as it was created. */
export interface SessionRecord {
  /** What the session runs ('training graph of image_encoder', 'classifier.onnx', ...). */
  label: string;
  /** Providers asked for, in order of preference. */
  requested: string[];
  /** Providers the session was created with ('cpu' alone after a fallback). */
  providers: string[];
  /** Why a requested provider is not in use. */
  fallbackReason?: string;
  /**
   * Operator types of the model without a CUDA kernel in onnxruntime's documented kernel list
   * (cuda-operators.ts): onnxruntime runs those nodes on the CPU, node by node.
   */
  cpuOperators?: string[];
  /** CPU worker threads that each hold a copy of the session and run chunks of a step at once (training graphs). */
  workers?: number;
}

export class DeviceContext {
  readonly sessions: SessionRecord[] = [];

  constructor(readonly plan: DevicePlan) {}

  record(session: SessionRecord): void {
    this.sessions.push(session);
  }
}

const scope = new AsyncLocalStorage<DeviceContext>();

/** Runs `fn` (and everything it awaits) on the context's device: its sessions' providers and its kernels' backend. */
export function runWithDevice<T>(context: DeviceContext, fn: () => T): T {
  return scope.run(context, () => runWithKernelBackend(context.plan.kernels.device, fn));
}

/** The device context of the run this code executes in, if any. */
export function currentDeviceContext(): DeviceContext | undefined {
  return scope.getStore();
}
