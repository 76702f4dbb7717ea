import type { Command } from 'commander';
import {
  backendInfo,
  DeviceUnavailableError,
  NativeLoadError,
  onnxruntimeProviderStatus,
  radlearnVersion,
  resolveDevicePlan,
  type AddonInfo,
  type BackendInfo,
  type DevicePlan,
  type PartPlan,
} from '../../index.js';
import { launchEnvironment, type LaunchEnvironment } from '../../distributed/launch.js';
import { mpiStatus, type MpiStatus } from '../../distributed/mpi.js';
import { ncclStatus } from '../../distributed/nccl.js';

function formatBytes(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

function formatCudaVersion(version: number): string {
  return `${Math.floor(version / 1000)}.${Math.floor((version % 1000) / 10)}`;
}

const SOURCES: Record<AddonInfo['source'], string> = {
  prebuilt: 'prebuilt package',
  local: 'local build',
  override: 'RADLEARN_ADDON override',
};

/** Where the addon came from, its version, CUDA architectures and build flags. */
export function addonLines(addon: AddonInfo, version: string = radlearnVersion()): string[] {
  const source = `${SOURCES[addon.source]}${addon.package ? ` ${addon.package}` : ''}`;
  const build = addon.build;
  if (!build) return [`addon source:   ${source}`, 'addon build:    not reported (an addon built before radlearn reported it; rebuild it)'];
  const mismatch = build.version !== version ? ` (compiled from other sources: this is radlearn ${version})` : '';
  return [
    `addon source:   ${source}`,
    `addon version:  ${build.version || 'unknown'}${mismatch}`,
    `addon build:    ${build.builder}, ${build.compiler}`,
    `build flags:    ${build.flags || 'not reported'}`,
    `cpu isa:        ${build.isa || 'baseline'}`,
    `cuda archs:     ${build.cudaArchs ?? 'none (built without CUDA)'}`,
  ];
}

/** The lines `radlearn doctor` prints; exported for tests. */
export function doctorLines(info: BackendInfo): string[] {
  const lines = [
    `backend:        ${info.backend}`,
    `addon:          ${info.addonPath}`,
    ...addonLines(info.addon),
    `cuda compiled:  ${info.cudaCompiled ? 'yes' : 'no'}`,
    `nvtx ranges:    ${info.nvtx ? 'yes' : 'no'}`,
    `cpu threads:    ${info.threads}${process.env.RADLEARN_THREADS ? ' (RADLEARN_THREADS)' : ''}`,
  ];
  if (info.device) {
    const d = info.device;
    lines.push(
      `device:         ${d.name}`,
      `compute cap.:   ${d.computeCapability} (${d.multiprocessors} SMs)`,
      `memory:         ${formatBytes(d.memoryBytes)}`,
      `driver / rt:    CUDA ${formatCudaVersion(d.driverVersion)} driver, CUDA ${formatCudaVersion(d.runtimeVersion)} runtime`,
    );
  } else {
    lines.push('device:         none');
  }
  if (info.fallbackReason) lines.push(`why not cuda:   ${info.fallbackReason}`);
  return lines;
}

// onnxruntime-node lists 'cuda' even when its CUDA provider library was never downloaded
// (our .npmrc skips that download), so each provider's libraries are checked too.
async function onnxProviders(): Promise<string> {
  try {
    const ort = await import('onnxruntime-node');
    return ort
      .listSupportedBackends()
      .map((b) => (onnxruntimeProviderStatus(b.name).available ? b.name : `${b.name} (provider library not installed; see README "GPU")`))
      .join(', ');
  } catch (error) {
    return `onnxruntime-node not loadable: ${(error as Error).message}`;
  }
}

/** Whether MPI (and NCCL, between GPUs) can be loaded, and this process's place in a job; exported for tests. */
export function distributedLines(status: MpiStatus, launch: LaunchEnvironment, nccl?: MpiStatus): string[] {
  const where =
    launch.launcher === 'none'
      ? 'rank 0 of 1 (not started by mpirun or srun)'
      : `rank ${launch.rank} of ${launch.size} (${launch.launcher})`;
  const version = status.version.split(',')[0] ?? status.version;
  return [
    status.available
      ? `mpi:            ${version || 'an MPI library'} (${status.library})`
      : `mpi:            not available: ${status.reason}`,
    ...(nccl
      ? [
          nccl.available
            ? `nccl:           ${nccl.version} (${nccl.library}), between GPUs`
            : `nccl:           not available: ${nccl.reason}`,
        ]
      : []),
    `this process:   ${where}`,
  ];
}

/** What `device: auto` runs on here, part by part, with the reason for each CPU; exported for tests. */
export function deviceLines(plan: DevicePlan | Error): string[] {
  if (plan instanceof Error) return [`device auto:    ${plan.message}`];
  const line = (p: PartPlan): string => (p.reason ? `cpu (${p.reason})` : p.device);
  return [`device auto:    onnxruntime on ${line(plan.onnxruntime)}`, `                kernels on ${line(plan.kernels)}`];
}

async function autoDevicePlan(): Promise<DevicePlan | Error> {
  try {
    return await resolveDevicePlan('auto');
  } catch (error) {
    if (error instanceof DeviceUnavailableError) return error;
    throw error;
  }
}

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'print the native backend, which addon was loaded (prebuilt or local build) and how it was built, CUDA device, driver/runtime, threads, and why a backend was not chosen',
    )
    .option('--json', 'print machine-readable JSON')
    .action(async (options: { json?: boolean }) => {
      try {
        const info = backendInfo();
        const providers = await onnxProviders();
        const device = await autoDevicePlan();
        const mpi = mpiStatus();
        const nccl = ncclStatus();
        const launch = launchEnvironment();
        if (options.json) {
          const devicePlan = device instanceof Error ? { error: device.message } : device;
          process.stdout.write(
            JSON.stringify({ ...info, onnxruntimeProviders: providers, device: devicePlan, mpi, nccl, launch }, null, 2) + '\n',
          );
          return;
        }
        const lines = [
          ...doctorLines(info),
          `onnxruntime:    execution providers ${providers}`,
          ...deviceLines(device),
          ...distributedLines(mpi, launch, nccl),
        ];
        process.stdout.write(lines.join('\n') + '\n');
      } catch (error) {
        if (error instanceof NativeLoadError) {
          process.stdout.write(error.message + '\n');
          process.exitCode = 1;
          return;
        }
        throw error;
      }
    });
}
