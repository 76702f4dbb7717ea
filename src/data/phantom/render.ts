/**
 * Renders a phantom frontal chest radiograph as a Float32Array in [0, 1]
 * (MONOCHROME2 sense: bright = more attenuation).
 *
 * Model: every pixel accumulates a path-length-weighted attenuation D from soft
 * tissue, lungs (air subtracts), heart and mediastinum, bones, vessels, findings and
 * devices; the detector response is 1 - exp(-k·D) with an exposure-dependent k, then
 * quantum-like noise (variance grows with signal) and a slight blur.
 * Cost is O(pixels) with a constant number of shape tests per pixel; thin structures
 * (vessels, devices) are rasterised once per image into side maps (strokes.ts).
 */
import { Rng } from '../../random/index.js';
import {
  buildGeometry,
  CM_PER_UNIT,
  diaphragmY,
  lungLateral,
  lungMedial,
  pointInLung,
  zoneT,
  type LungGeometry,
  type PhantomGeometry,
} from './geometry.js';
import { drawBranching, drawPolyline, drawVesselTree, type PixelTransform } from './strokes.js';
import { centralLineRoute, type PhantomStudy, type Side } from './truth.js';

const smoothstep = (e0: number, e1: number, x: number): number => {
  const t = Math.min(1, Math.max(0, (x - e0) / (e1 - e0)));
  return t * t * (3 - 2 * t);
};

/** Smooth random field in [0, 1]: bilinear interpolation of a coarse random lattice. */
class ValueNoise {
  private readonly grid: Float32Array;
  constructor(
    rng: Rng,
    private readonly cells: number,
  ) {
    this.grid = new Float32Array((cells + 1) * (cells + 1));
    for (let i = 0; i < this.grid.length; i++) this.grid[i] = rng.next();
  }
  /** x, y in [-1, 1]. */
  at(x: number, y: number): number {
    const c = this.cells;
    const gx = Math.min(c - 1e-6, Math.max(0, ((x + 1) / 2) * c));
    const gy = Math.min(c - 1e-6, Math.max(0, ((y + 1) / 2) * c));
    const ix = gx | 0;
    const iy = gy | 0;
    const fx = gx - ix;
    const fy = gy - iy;
    const w = c + 1;
    const g = this.grid;
    const a = g[iy * w + ix] as number;
    const b = g[iy * w + ix + 1] as number;
    const d = g[(iy + 1) * w + ix] as number;
    const e = g[(iy + 1) * w + ix + 1] as number;
    return a + (b - a) * fx + (d - a) * fy + (a - b - d + e) * fx * fy;
  }
}

interface PneumothoraxShape {
  sign: number;
  fraction: number;
  size: 'small' | 'moderate' | 'large';
}
interface EffusionShape {
  sign: number;
  level: number;
  meniscus: number;
}
interface Blob {
  x: number;
  y: number;
  r: number;
  phase: number;
  density: number;
}
interface Patch {
  x: number;
  y: number;
  rx: number;
  ry: number;
  sign: number;
}

export interface RenderedPhantom {
  pixels: Float32Array;
  size: number;
  geometry: PhantomGeometry;
}

/**
 * Per-thread scratch maps reused across images (zeroed on each use): rendering thousands
 * of images otherwise spends a sixth of its time collecting these buffers.
 */
const scratchMaps = new Map<string, Float32Array>();
function scratch(name: string, length: number): Float32Array {
  let map = scratchMaps.get(name);
  if (!map || map.length !== length) {
    map = new Float32Array(length);
    scratchMaps.set(name, map);
  } else {
    map.fill(0);
  }
  return map;
}

function lungFor(geometry: PhantomGeometry, sign: number): LungGeometry {
  return sign > 0 ? geometry.lungs.left : geometry.lungs.right;
}
const signOf = (side: Side): 1 | -1 => (side === 'left' ? 1 : -1);

/** Renders one study at size×size pixels; deterministic in (seed, study). */
export function renderPhantom(study: PhantomStudy, size: number, seed: number): RenderedPhantom {
  const geometry = buildGeometry(study);
  const { findings, acquisition, patient } = study;
  const rng = new Rng(seed, 'render', patient.index, study.studyIndex);
  const theta = (acquisition.rotationDeg * Math.PI) / 180;
  const transform: PixelTransform = {
    size,
    cos: Math.cos(theta),
    sin: Math.sin(theta),
    zoom: acquisition.zoom,
    shiftX: acquisition.shiftX,
    shiftY: acquisition.shiftY,
  };
  const unitsPerPixel = 2 / size / acquisition.zoom;
  const scalePx = size / 256;

  // --- thin structures: vessels (masked to aerated lung later) and devices ---
  const vessels = scratch('vessels', size * size);
  drawVesselTree(vessels, transform, rng, -0.13, -0.09, -1, scalePx);
  drawVesselTree(vessels, transform, rng, 0.14, -0.07, 1, scalePx);
  const devices = scratch('devices', size * size);
  drawDevices(devices, transform, geometry, study, rng, scalePx);

  // --- findings as shapes ---
  const ptx: PneumothoraxShape | null = findings.pneumothorax
    ? {
        sign: signOf(findings.pneumothorax.side),
        size: findings.pneumothorax.size,
        fraction: findings.pneumothorax.size === 'small' ? 0.3 : findings.pneumothorax.size === 'moderate' ? 0.38 : 0.6,
      }
    : null;
  const effusions: EffusionShape[] = [];
  if (findings.effusion) {
    const height = findings.effusion.size === 'small' ? 0.07 : findings.effusion.size === 'moderate' ? 0.27 : 0.5;
    const sides = findings.effusion.side === 'bilateral' ? [-1, 1] : [signOf(findings.effusion.side)];
    for (const sign of sides) {
      const lung = lungFor(geometry, sign);
      effusions.push({ sign, level: lung.baseY - height * rng.uniform(0.85, 1.1), meniscus: 0.06 + 0.35 * height });
    }
  }
  const blobs: Blob[] = [];
  if (findings.lesion) {
    const lung = lungFor(geometry, signOf(findings.lesion.side));
    const [x, y] = pointInLung(lung, zoneT(findings.lesion.zone), findings.lesion.lateral);
    blobs.push({ x, y, r: findings.lesion.diameterCm / 2 / CM_PER_UNIT, phase: rng.uniform(0, 6.28), density: 0.42 });
  }
  const patches: Patch[] = [];
  if (findings.consolidation) {
    const sign = signOf(findings.consolidation.side);
    const lung = lungFor(geometry, sign);
    const [x, y] = pointInLung(lung, zoneT(findings.consolidation.zone), rng.uniform(0.45, 0.65));
    const e = findings.consolidation.extent;
    patches.push({ x, y, rx: 0.24 * e, ry: 0.19 * e, sign });
  }
  // Air bronchograms: aerated bronchi that stay dark inside the consolidated lung.
  const bronchi = scratch('bronchi', size * size);
  for (const p of patches) {
    for (let k = 0; k < 3; k++) {
      drawBranching(
        bronchi,
        transform,
        rng,
        p.x - p.sign * p.rx * 0.5,
        p.y + rng.uniform(-0.5, 0.5) * p.ry,
        p.sign as 1 | -1,
        rng.uniform(-0.6, 0.6),
        0.08,
        1.6,
        1,
        2,
        scalePx,
      );
    }
  }
  const parenchyma = new ValueNoise(rng, 24);
  const patchTexture = new ValueNoise(rng, 18);
  const fine = new ValueNoise(rng, 64);

  const { heart } = geometry;
  const heartSpan = heart.bottomY - heart.topY;
  const gastricY = geometry.lungs.left.baseY - 0.02;
  const breast = geometry.breast;
  const bone = geometry.boneFactor;
  const ribSpacing = geometry.ribSpacing;
  const ribCurve = geometry.ribCurve;
  const mediastinum = geometry.mediastinum;
  const ribHalf = geometry.ribThickness / 2;

  const out = new Float32Array(size * size);
  const k = 1.5 * acquisition.exposure;
  const response = detectorResponse(acquisition.gamma);
  const cos = transform.cos;
  const sin = transform.sin;
  for (let row = 0; row < size; row++) {
    const py = ((row + 0.5) / size) * 2 - 1 - acquisition.shiftY;
    for (let col = 0; col < size; col++) {
      const px = ((col + 0.5) / size) * 2 - 1 - acquisition.shiftX;
      // Inverse acquisition transform: pixel → body units.
      const x = (cos * px + sin * py) / acquisition.zoom;
      const y = (-sin * px + cos * py) / acquisition.zoom;
      const ax = x < 0 ? -x : x;
      const sign = x < 0 ? -1 : 1;
      let d = 0;

      // Body: neck above the shoulders, then the chest wall.
      const bodyHalf =
        y < -0.82
          ? 0.2
          : y < -0.6
            ? 0.2 + (geometry.bodyHalfWidth + 0.08 - 0.2) * smoothstep(-0.82, -0.6, y)
            : geometry.bodyHalfWidth + 0.08 * (1 - smoothstep(-0.6, -0.2, y));
      // Path length through soft tissue scales with the body's width at this height (thin neck).
      if (ax < bodyHalf) d += (0.3 + 0.7 * Math.min(1, bodyHalf / geometry.bodyHalfWidth)) * Math.sqrt(1 - (ax / bodyHalf) ** 2);
      else {
        out[row * size + col] = 0;
        continue;
      }

      // Lungs: air replaces tissue in proportion to lung depth.
      const lung = sign > 0 ? geometry.lungs.left : geometry.lungs.right;
      let aerated = 0; // how much vessel-bearing lung lies here
      let lungDepth = 0;
      if (y > lung.apexY && y < lung.baseY) {
        const t = (y - lung.apexY) / (lung.baseY - lung.apexY);
        const m = lungMedial(t);
        const l = lungLateral(lung, t);
        if (ax > m && ax < l) {
          const u = (ax - m) / (l - m);
          const dia = diaphragmY(lung, u);
          if (y < dia) {
            const edge = Math.min(1, (dia - y) / 0.05, (y - lung.apexY) / 0.06);
            lungDepth = 2 * Math.sqrt(u * (1 - u)) * 0.35 + 0.65 * Math.min(1, u * 6, (1 - u) * 12);
            lungDepth *= edge;
            aerated = lungDepth;
            d -= 0.8 * lungDepth;
            d += 0.05 * lungDepth * (0.6 + 0.8 * parenchyma.at(x, y)); // parenchymal texture
            // Pneumothorax: lateral and apical lung replaced by pleural air, no markings, a fine visceral line.
            if (ptx && ptx.sign === sign) {
              const w =
                ptx.size === 'small'
                  ? 1 - smoothstep(0.25, 0.6, t)
                  : ptx.size === 'moderate'
                    ? 1 - 0.55 * smoothstep(0.35, 1, t)
                    : 1 - 0.25 * t;
              const collapsedL = m + (l - m) * (1 - ptx.fraction * w);
              const collapsedTop = lung.apexY + ptx.fraction * 0.3;
              const outside = ax > collapsedL || y < collapsedTop;
              if (outside) {
                aerated = 0;
                d -= 0.05 * lungDepth + 0.1; // no parenchyma in the pleural space: blacker than lung
              } else {
                d += 0.1 * ptx.fraction * lungDepth; // the collapsed lung is denser
                if (ax > collapsedL - 1.5 * unitsPerPixel || y < collapsedTop + 1.5 * unitsPerPixel) d += 0.14;
              }
            }
          }
        }
      }

      // Pleural effusion: dependent fluid with a meniscus rising along the lateral wall.
      for (const eff of effusions) {
        if (eff.sign !== sign) continue;
        const u = Math.min(1, Math.max(0, (ax - 0.06) / (lung.maxHalfWidth - 0.06)));
        const surface = eff.level - eff.meniscus * u * u * u;
        if (y > surface - 0.02 && ax < lung.maxHalfWidth + 0.03 && y < lung.baseY + 0.08) {
          const fluid = smoothstep(surface - 0.02, surface + 0.035, y);
          // Fluid fills the pleural space above the diaphragm and fades into the chest wall and abdomen.
          const m1 = lungMedial(1);
          const uu = Math.min(1, Math.max(0, (ax - m1) / (lungLateral(lung, 1) - m1)));
          const dia = diaphragmY(lung, uu);
          const extra =
            0.22 * (1 - smoothstep(dia, dia + 0.06, y)) * (1 - smoothstep(lung.maxHalfWidth - 0.01, lung.maxHalfWidth + 0.03, ax));
          d += fluid * (0.8 * lungDepth + extra);
          aerated *= 1 - fluid;
        }
      }

      // Heart and mediastinum (with the aortic knob on the left), trachea and main bronchi.
      // The heart widens towards its base, which rests on the diaphragm; its left border bulges more.
      const hv = (y - heart.topY) / heartSpan;
      if (hv > -0.05 && hv < 1.3) {
        const q = (hv - 0.7) / 0.75;
        const widthProfile = q < 1 ? Math.sqrt(1 - q * q) : 0;
        const edge = x < 0 ? heart.rightExtent * widthProfile : heart.leftExtent * widthProfile;
        const hx = edge > 0 ? (x < 0 ? -x : x) / edge : 2;
        if (hx < 1) {
          // The heart displaces lung: where it lies, the lung's air is replaced by muscle and blood,
          // so it reaches the brightness of the abdomen, into which it merges at the diaphragm.
          const cover = Math.min(1, 2.2 * Math.sqrt(1 - hx * hx)) * Math.min(1, (hv + 0.05) * 6) * (1 - smoothstep(0.97, 1.08, hv));
          d += cover * (0.8 * lungDepth + 0.12);
          aerated *= 1 - 0.9 * cover;
        }
      }
      if (y < heart.topY + 0.12) {
        const knob = x > 0 ? 0.07 * Math.exp(-(((y + 0.36) / 0.07) ** 2)) : 0;
        const half = (0.085 + 0.03 * smoothstep(-0.5, heart.topY, y)) * mediastinum + knob;
        const mx = Math.abs(x - 0.01) / half;
        if (mx < 1) d += 0.22 * Math.sqrt(1 - mx * mx) * smoothstep(-0.85, -0.55, y);
      }
      if (y < geometry.carinaY && ax < 0.032) d -= 0.22 * Math.sqrt(1 - (ax / 0.032) ** 2);
      else if (y >= geometry.carinaY && y < geometry.carinaY + 0.17) {
        const bx = ax - (y - geometry.carinaY) * 0.8;
        if (Math.abs(bx) < 0.022) d -= 0.16 * Math.sqrt(1 - (bx / 0.022) ** 2);
      }

      // Gastric bubble under the left hemidiaphragm.
      const gx = (x - 0.3) / 0.1;
      const gy = (y - gastricY - 0.07) / 0.045;
      if (gx * gx + gy * gy < 1) d -= 0.3 * Math.sqrt(1 - gx * gx - gy * gy);

      // Breast shadows lower the lung bases' blackness in women.
      if (breast > 0) {
        const bxn = (ax - 0.42) / (0.24 + 0.06 * breast);
        const byn = (y - (lung.baseY - 0.02)) / (0.16 + 0.04 * breast);
        const r2 = bxn * bxn + byn * byn;
        if (r2 < 1 && byn > -0.4) d += 0.1 * breast * Math.sqrt(1 - r2);
      }

      // Bones: spine with vertebral bodies and discs, posterior and anterior ribs, clavicles.
      if (ax < 0.075) {
        const vertebra = (y + 2) / 0.088;
        const disc = Math.abs(vertebra - Math.round(vertebra));
        const pedicle = Math.abs(ax - 0.045) < 0.014 ? 0.1 : 0;
        d += bone * (0.26 * Math.sqrt(1 - (ax / 0.075) ** 2) * (disc < 0.1 ? 0.55 : 1) + pedicle);
      }
      if (ax > 0.06 && ax < lung.maxHalfWidth + 0.07 && y > -0.8 && y < 0.72) {
        const dd = ax - 0.06;
        const yc = y - (-0.22 * dd + ribCurve * dd * dd);
        const kk = (yc + 0.74) / ribSpacing;
        if (kk > 0 && kk < 10) {
          const frac = kk - Math.floor(kk);
          const e = Math.abs(frac - ribHalf) / ribHalf;
          if (e < 1) {
            const lateralFade =
              (1 - smoothstep(lung.maxHalfWidth + 0.02, lung.maxHalfWidth + 0.07, ax)) *
              (1 - smoothstep(lung.baseY - 0.05, lung.baseY + 0.25, y));
            d += bone * lateralFade * (0.13 + 0.13 * e ** 4);
          }
        }
        const ya = y - 0.38 * (lung.maxHalfWidth + 0.05 - ax);
        const ka = (ya + 0.62) / 0.15;
        if (ka > 0 && ka < 6) {
          const fa = ka - Math.floor(ka);
          if (fa < 0.34) d += bone * 0.06 * smoothstep(0.18, 0.4, ax) * (1 - Math.abs(fa - 0.17) / 0.17);
        }
      }
      if (ax > 0.07 && ax < 0.62) {
        const cy = geometry.clavicleY - geometry.clavicleSlope * (ax - 0.07);
        const cd = Math.abs(y - cy);
        if (cd < 0.032) d += bone * 0.3 * Math.sqrt(1 - (cd / 0.032) ** 2);
      }

      // Lung nodule or mass: a lobulated dense blob.
      for (const b of blobs) {
        const dx = x - b.x;
        const dy = y - b.y;
        const r2 = dx * dx + dy * dy;
        const rr = b.r * 1.15;
        if (r2 < rr * rr) {
          const lobulated = b.r * (1 + 0.1 * Math.sin(3 * Math.atan2(dy, dx) + b.phase));
          const q = Math.sqrt(r2) / lobulated;
          if (q < 1) d += b.density * Math.sqrt(1 - q * q) + 0.08;
        }
      }

      // Consolidation: patchy air-space opacity confined to one lung, hiding its vessels.
      for (const p of patches) {
        if (p.sign !== sign || lungDepth <= 0) continue;
        const qx = (x - p.x) / p.rx;
        const qy = (y - p.y) / p.ry;
        const q = qx * qx + qy * qy;
        if (q < 2.2) {
          const blob = Math.exp(-q) + 0.7 * (patchTexture.at(x, y) - 0.5);
          const amount = smoothstep(0.25, 0.75, blob) * Math.min(1, lungDepth * 1.5);
          d += amount * (0.5 - 0.3 * (bronchi[row * size + col] as number));
          aerated *= 1 - 0.9 * amount;
        }
      }

      const i = row * size + col;
      d += 0.8 * (vessels[i] as number) * aerated;
      d += devices[i] as number;
      d += 0.012 * (fine.at(x, y) - 0.5);
      out[i] = response(1 - Math.exp(-k * (d > 0 ? d : 0)));
    }
  }
  if (acquisition.grid) addGridLines(out, size, acquisition.grid, acquisition.zoom);
  addNoiseAndBlur(out, size, acquisition.noise, rng);
  collimate(out, size, acquisition.collimation, rng);
  burnIn(out, size, acquisition);
  return { pixels: out, size, geometry };
}

const RESPONSE_STEPS = 4096;

/**
 * The detector's response curve v -> v^gamma on [0, 1], tabulated (as a modality's look-up table)
 * and read with linear interpolation: a power per pixel cost about a fifth of the rendering time.
 * The table's error (at gamma 0.75: 2e-4 in the first step above 0, where the curve is steepest;
 * < 5e-7 above v = 0.01) is far below the noise added next (sigma >= 0.008).
 */
function detectorResponse(gamma: number): (v: number) => number {
  const table = new Float32Array(RESPONSE_STEPS + 2);
  for (let j = 0; j <= RESPONSE_STEPS; j++) table[j] = (j / RESPONSE_STEPS) ** gamma;
  table[RESPONSE_STEPS + 1] = 1;
  return (v) => {
    const x = v * RESPONSE_STEPS;
    const j = x | 0;
    const a = table[j] as number;
    return a + ((table[j + 1] as number) - a) * (x - j);
  };
}

/** A stationary anti-scatter grid: fine vertical lines, fixed on the detector (not the body). */
function addGridLines(img: Float32Array, size: number, grid: NonNullable<PhantomStudy['acquisition']['grid']>, zoom: number): void {
  const profile = new Float32Array(size);
  // the lines are finer than a pixel at small sizes: average each pixel's footprint (no false aliasing pattern)
  const perPixel = 2 / size / grid.period;
  const samples = Math.max(1, Math.ceil(perPixel * 4));
  for (let c = 0; c < size; c++) {
    let sum = 0;
    for (let s = 0; s < samples; s++) sum += Math.cos(2 * Math.PI * (c + (s + 0.5) / samples) * perPixel + grid.phase);
    profile[c] = (grid.amplitude / zoom) * (sum / samples);
  }
  for (let r = 0; r < size; r++) {
    const base = r * size;
    for (let c = 0; c < size; c++) img[base + c] = (img[base + c] as number) * (1 - (profile[c] as number));
  }
}

/** Collimated margins stay unexposed: bright (MONOCHROME2 sense) with a soft shutter edge and faint noise. */
function collimate(img: Float32Array, size: number, margins: [number, number, number, number], rng: Rng): void {
  const [top, bottom, left, right] = margins.map((m) => m * size);
  if (top + bottom + left + right === 0) return;
  for (let r = 0; r < size; r++) {
    const dr = Math.min(r + 0.5 - top, size - r - 0.5 - bottom);
    for (let c = 0; c < size; c++) {
      const inside = Math.min(dr, c + 0.5 - left, size - c - 0.5 - right);
      if (inside >= 1) continue;
      const shutter = 0.9 + 0.02 * rng.next();
      const t = inside <= -1 ? 1 : (1 - inside) / 2;
      const i = r * size + c;
      img[i] = (img[i] as number) * (1 - t) + shutter * t;
    }
  }
}

/** Burned-in overlays: the laterality marker in an upper corner and, at some sites, the modality's text. */
function burnIn(img: Float32Array, size: number, acquisition: PhantomStudy['acquisition']): void {
  const cell = Math.max(1, Math.round(size / 128));
  const pad = Math.round(size * 0.04);
  const { marker, text } = acquisition;
  const markerX = marker.imageRight ? size - pad - 6 * cell : pad;
  drawText(img, size, marker.letter, markerX, pad, cell);
  if (text) drawText(img, size, text, marker.imageRight ? pad : size - pad - text.length * 6 * cell, size - pad - 7 * cell, cell);
}

/** 5x7 glyphs (rows top to bottom, bit 4 = leftmost column) for the overlay texts. */
const GLYPHS: Record<string, number[]> = {
  A: [14, 17, 17, 31, 17, 17, 17],
  B: [30, 17, 17, 30, 17, 17, 30],
  C: [14, 17, 16, 16, 16, 17, 14],
  E: [31, 16, 16, 30, 16, 16, 31],
  I: [14, 4, 4, 4, 4, 4, 14],
  L: [16, 16, 16, 16, 16, 16, 31],
  N: [17, 25, 21, 19, 17, 17, 17],
  O: [14, 17, 17, 17, 17, 17, 14],
  P: [30, 17, 17, 30, 16, 16, 16],
  R: [30, 17, 17, 30, 20, 18, 17],
  S: [15, 16, 16, 14, 1, 1, 30],
  T: [31, 4, 4, 4, 4, 4, 4],
  U: [17, 17, 17, 17, 17, 17, 14],
};

function drawText(img: Float32Array, size: number, text: string, x0: number, y0: number, cell: number): void {
  for (let k = 0; k < text.length; k++) {
    const glyph = GLYPHS[text[k] as string];
    if (!glyph) continue; // spaces
    for (let gy = 0; gy < 7; gy++)
      for (let gx = 0; gx < 5; gx++) {
        if (((glyph[gy] as number) >> (4 - gx)) & 1)
          for (let dy = 0; dy < cell; dy++)
            for (let dx = 0; dx < cell; dx++) {
              const x = x0 + (k * 6 + gx) * cell + dx;
              const y = y0 + gy * cell + dy;
              if (x >= 0 && x < size && y >= 0 && y < size) img[y * size + x] = 1;
            }
      }
  }
}

/** Quantum-like noise (std grows with signal), then a 3×3 binomial blur (detector MTF). */
function addNoiseAndBlur(img: Float32Array, size: number, sigma: number, rng: Rng): void {
  for (let i = 0; i < img.length; i++) {
    const v = img[i] as number;
    // Sum of two 16-bit uniforms from one draw: a cheap triangular, bell-like variate,
    // scaled to unit variance (the blur below makes it closer to Gaussian).
    const u = rng.nextU32();
    const z = (((u & 0xffff) + (u >>> 16)) / 65536 - 1) * 2.449;
    img[i] = v + sigma * Math.sqrt(v + 0.05) * z;
  }
  const tmp = scratch('blur', img.length);
  for (let r = 0; r < size; r++) {
    const base = r * size;
    for (let c = 0; c < size; c++) {
      const l = img[base + (c > 0 ? c - 1 : c)] as number;
      const m = img[base + c] as number;
      const rr = img[base + (c < size - 1 ? c + 1 : c)] as number;
      tmp[base + c] = 0.25 * l + 0.5 * m + 0.25 * rr;
    }
  }
  for (let r = 0; r < size; r++) {
    const up = (r > 0 ? r - 1 : r) * size;
    const mid = r * size;
    const down = (r < size - 1 ? r + 1 : r) * size;
    for (let c = 0; c < size; c++) {
      const v = 0.25 * (tmp[up + c] as number) + 0.5 * (tmp[mid + c] as number) + 0.25 * (tmp[down + c] as number);
      img[mid + c] = v < 0 ? 0 : v > 1 ? 1 : v;
    }
  }
}

/** Support devices, drawn in body units: radiopaque lines, tubes and a pacemaker. */
function drawDevices(map: Float32Array, t: PixelTransform, g: PhantomGeometry, study: PhantomStudy, rng: Rng, scalePx: number): void {
  const baseLeft = g.lungs.left.baseY;
  for (const device of study.findings.devices) {
    switch (device) {
      case 'endotracheal_tube': {
        const tip = g.carinaY - rng.uniform(3, 6) / CM_PER_UNIT;
        drawPolyline(
          map,
          t,
          [
            [-0.018, -1.1],
            [-0.016, tip],
          ],
          1.2 * scalePx,
          0.22,
        );
        drawPolyline(
          map,
          t,
          [
            [0.018, -1.1],
            [0.016, tip],
          ],
          1.2 * scalePx,
          0.22,
        );
        drawPolyline(
          map,
          t,
          [
            [0.008, -1.1],
            [0.007, tip],
          ],
          1.0 * scalePx,
          0.4,
        );
        break;
      }
      case 'central_line': {
        const tipY = g.heart.topY + rng.uniform(-0.02, 0.06);
        const subclavian = centralLineRoute(study) === 'subclavian';
        const pts: Array<[number, number]> = subclavian
          ? [
              [-0.62, -0.74],
              [-0.35, -0.7],
              [-0.12, -0.6],
              [-0.075, -0.42],
              [-0.06, tipY],
            ]
          : [
              [-0.2, -1.08],
              [-0.15, -0.8],
              [-0.09, -0.58],
              [-0.07, -0.4],
              [-0.06, tipY],
            ];
        drawPolyline(map, t, pts, 1.1 * scalePx, 0.55);
        break;
      }
      case 'enteric_tube': {
        drawPolyline(
          map,
          t,
          [
            [0.0, -1.1],
            [0.02, -0.62],
            [0.04, 0.0],
            [0.1, baseLeft + 0.02],
            [0.26, baseLeft + 0.1],
            [0.36, baseLeft + 0.06],
          ],
          1.6 * scalePx,
          0.42,
        );
        break;
      }
      case 'pacemaker': {
        // Generator: a dense rounded box in the left infraclavicular soft tissue.
        for (let k = -2; k <= 2; k++) {
          drawPolyline(
            map,
            t,
            [
              [0.44, -0.6 + k * 0.012],
              [0.56, -0.6 + k * 0.012],
            ],
            3 * scalePx,
            1.4,
          );
        }
        const leadA: Array<[number, number]> = [
          [0.46, -0.58],
          [0.3, -0.56],
          [0.1, -0.5],
          [-0.04, -0.36],
          [-0.04, -0.12],
          [0.03, 0.1],
          [0.08, g.heart.bottomY - 0.08],
        ];
        const leadB: Array<[number, number]> = [
          [0.46, -0.59],
          [0.28, -0.57],
          [0.08, -0.51],
          [-0.06, -0.36],
          [-0.08, -0.16],
        ];
        drawPolyline(map, t, leadA, 1.3 * scalePx, 0.85);
        drawPolyline(map, t, leadB, 1.3 * scalePx, 0.85);
        break;
      }
    }
  }
}
