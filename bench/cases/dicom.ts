/**
 * Image ingestion: DICOM decode images/s per transfer syntax (readDicom + stored
 * values), cache build images/s (worker threads, window, area resize, uint16),
 * and cache reads: a random batch of 256 cached 512×512 uint16 images packed into
 * one tensor (memory and pread modes) and as zero-copy views.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  TransferSyntax,
  buildImageCache,
  encodeDicom,
  openImageCache,
  readDicom,
  transferSyntaxName,
  type DicomWriteSpec,
} from '../../src/index.js';
import { time, type BenchCase, type BenchRow } from '../harness.js';

/** A radiograph-like 16-bit image (lungs, mediastinum, ribs, noise) with 12 bits stored; seeded, fast. */
export function syntheticRadiograph(size: number, seed: number, bitsStored = 12): Uint16Array {
  const out = new Uint16Array(size * size);
  const max = 2 ** bitsStored - 1;
  let s = (seed * 2654435761) >>> 0 || 1;
  const phase = (seed % 17) / 17;
  for (let y = 0; y < size; y++) {
    const v = y / size;
    for (let x = 0; x < size; x++) {
      const u = x / size;
      const lungL = ((u - 0.32) / 0.17) ** 2 + ((v - 0.48) / 0.32) ** 2 < 1 ? 1 : 0;
      const lungR = ((u - 0.68) / 0.17) ** 2 + ((v - 0.48) / 0.32) ** 2 < 1 ? 1 : 0;
      const ribs = 0.08 * Math.sin((v * 28 + phase + 0.4 * Math.abs(u - 0.5)) * Math.PI);
      const body = 0.75 - 0.3 * (lungL + lungR) + ribs * (lungL + lungR) + 0.15 * Math.exp(-(((u - 0.5) / 0.06) ** 2));
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      const value = body + ((s & 0xffff) / 0xffff - 0.5) * 0.04;
      out[y * size + x] = Math.max(0, Math.min(max, Math.round(value * max)));
    }
  }
  return out;
}

export function radiographSpec(size: number, seed: number, transferSyntaxUID?: string): DicomWriteSpec {
  return {
    rows: size,
    columns: size,
    bitsAllocated: 16,
    bitsStored: 12,
    pixels: syntheticRadiograph(size, seed),
    transferSyntaxUID,
    modality: 'DX',
    viewPosition: seed % 2 ? 'AP' : 'PA',
    patientId: `BENCH${seed}`,
    pixelSpacing: [0.143, 0.143],
    photometricInterpretation: 'MONOCHROME2',
  };
}

const SYNTAXES = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.ExplicitVRBigEndian,
  TransferSyntax.DeflatedExplicitVRLittleEndian,
  TransferSyntax.RleLossless,
  TransferSyntax.JpegLossless,
  TransferSyntax.JpegLosslessSV1,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsNearLossless,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000,
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegExtended,
];

async function decodeRows(quick: boolean): Promise<BenchRow[]> {
  const size = quick ? 256 : 1024;
  const rows: BenchRow[] = [];
  for (const syntax of SYNTAXES) {
    let spec = radiographSpec(size, 1, syntax);
    if (syntax === TransferSyntax.JpegBaseline) {
      const pixels = new Uint8Array(spec.pixels.length);
      for (let i = 0; i < pixels.length; i++) pixels[i] = spec.pixels[i]! >> 4;
      spec = { ...spec, bitsAllocated: 8, bitsStored: 8, pixels };
    }
    const bytes = await encodeDicom(spec);
    const t = await time(async () => (await readDicom(bytes)).storedPixels(0), {
      warmup: 3,
      minRuns: 5,
      maxRuns: 30,
      minTimeMs: quick ? 200 : 1500,
    });
    rows.push({
      op: 'readDicom decode',
      backend: transferSyntaxName(syntax),
      shape: `${size}x${size}x${spec.bitsAllocated}b`,
      medianMs: t.medianMs,
      p90Ms: t.p90Ms,
      itemsPerSec: 1000 / t.medianMs,
      itemName: 'img',
      gbPerSec: (size * size * spec.bitsAllocated) / 8 / (t.medianMs * 1e6),
      note: `${(bytes.length / 2 ** 20).toFixed(2)} MiB file`,
    });
  }
  return rows;
}

async function cacheBuildRows(quick: boolean): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-bench-src-'));
  const count = quick ? 8 : 48;
  const size = quick ? 512 : 2048;
  try {
    for (let i = 0; i < count; i++) await writeFile(join(dir, `img${i}.dcm`), await encodeDicom(radiographSpec(size, i)));
    const rows: BenchRow[] = [];
    for (const workers of [0, 2]) {
      const out = await mkdtemp(join(tmpdir(), 'radlearn-bench-cache-'));
      const summary = await buildImageCache(dir, { out, size: 512, dtype: 'uint16', workers });
      const ms = (summary.seconds * 1000) / count;
      rows.push({
        op: 'buildImageCache',
        backend: workers ? `${workers} worker threads` : 'main thread',
        shape: `${count}x${size}^2 -> 512^2 u16`,
        medianMs: ms,
        p90Ms: ms,
        itemsPerSec: summary.imagesPerSec,
        itemName: 'img',
        note: `${summary.failed} failed, whole build ${summary.seconds.toFixed(1)} s`,
      });
      await rm(out, { recursive: true, force: true });
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function cacheReadRows(quick: boolean): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'radlearn-bench-src-'));
  const out = await mkdtemp(join(tmpdir(), 'radlearn-bench-cache-'));
  const count = quick ? 64 : 512;
  try {
    // 512² sources make the build cheap; the cache content is what the read path sees.
    for (let i = 0; i < count; i++) await writeFile(join(dir, `img${i}.dcm`), await encodeDicom(radiographSpec(512, i)));
    await buildImageCache(dir, { out, size: 512, fit: 'squareStretch', dtype: 'uint16', workers: 2 });
    const rows: BenchRow[] = [];
    const batch = 256;
    const bytes = batch * 512 * 512 * 2;
    let seed = 12345;
    const randomIndices = () =>
      Uint32Array.from({ length: batch }, () => {
        seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
        return seed % count;
      });
    for (const mode of ['memory', 'pread'] as const) {
      const cache = await openImageCache(out, { mode });
      const target = new Uint16Array(batch * 512 * 512);
      const t = await time(() => cache.readBatch(randomIndices(), target), { warmup: 2, minRuns: 10, maxRuns: 50, minTimeMs: 1000 });
      rows.push({
        op: 'cache readBatch (copy into one tensor)',
        backend: mode,
        shape: `${batch}x512x512 u16`,
        medianMs: t.medianMs,
        p90Ms: t.p90Ms,
        itemsPerSec: (batch * 1000) / t.medianMs,
        itemName: 'img',
        gbPerSec: bytes / (t.medianMs * 1e6),
      });
      if (mode === 'memory') {
        const v = await time(
          () => {
            const idx = randomIndices();
            let sum = 0;
            for (const i of idx) sum += cache.get(i).length;
            return sum;
          },
          { warmup: 2, minRuns: 10, maxRuns: 200, minTimeMs: 500 },
        );
        rows.push({
          op: 'cache get x256 (zero-copy views)',
          backend: mode,
          shape: `${batch}x512x512 u16`,
          medianMs: v.medianMs,
          p90Ms: v.p90Ms,
          itemsPerSec: (batch * 1000) / v.medianMs,
          itemName: 'img',
          gbPerSec: bytes / (v.medianMs * 1e6),
          note: 'no bytes move: GB/s is the view rate',
        });
      }
      cache.close();
    }
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await rm(out, { recursive: true, force: true });
  }
}

export const cases: BenchCase[] = [
  { name: 'dicom decode per transfer syntax', run: (ctx) => decodeRows(ctx.quick) },
  { name: 'image cache build', run: (ctx) => cacheBuildRows(ctx.quick) },
  { name: 'image cache read', run: (ctx) => cacheReadRows(ctx.quick) },
];
