/**
 * Thin structures drawn as anti-aliased polylines straight onto the pixel grid:
 * lung vessel trees and support devices. Points are given in body units and mapped
 * through the acquisition transform, so strokes rotate and shift with the anatomy.
 */
import type { Rng } from '../../random/index.js';

/** Body units → pixel coordinates (column, row). */
export interface PixelTransform {
  size: number;
  cos: number;
  sin: number;
  zoom: number;
  shiftX: number;
  shiftY: number;
}

export function toPixel(t: PixelTransform, x: number, y: number): [number, number] {
  const px = t.zoom * (t.cos * x - t.sin * y) + t.shiftX;
  const py = t.zoom * (t.sin * x + t.cos * y) + t.shiftY;
  return [((px + 1) / 2) * t.size - 0.5, ((py + 1) / 2) * t.size - 0.5];
}

/**
 * Draws one segment of width `widthPx` into `map` (size×size), keeping the maximum,
 * with a one-pixel soft edge and a rounded (tube-like) cross-section.
 */
export function drawSegment(
  map: Float32Array,
  size: number,
  x0: number,
  y0: number,
  x1: number,
  y1: number,
  widthPx: number,
  amplitude: number,
): void {
  const half = widthPx / 2;
  const reach = half + 1;
  const minX = Math.max(0, Math.floor(Math.min(x0, x1) - reach));
  const maxX = Math.min(size - 1, Math.ceil(Math.max(x0, x1) + reach));
  const minY = Math.max(0, Math.floor(Math.min(y0, y1) - reach));
  const maxY = Math.min(size - 1, Math.ceil(Math.max(y0, y1) + reach));
  const dx = x1 - x0;
  const dy = y1 - y0;
  const len2 = dx * dx + dy * dy || 1e-9;
  for (let row = minY; row <= maxY; row++) {
    for (let col = minX; col <= maxX; col++) {
      let s = ((col - x0) * dx + (row - y0) * dy) / len2;
      s = s < 0 ? 0 : s > 1 ? 1 : s;
      const ex = col - (x0 + s * dx);
      const ey = row - (y0 + s * dy);
      const d = Math.sqrt(ex * ex + ey * ey);
      if (d >= reach) continue;
      const coverage = Math.min(1, reach - d);
      const profile = half > 0.75 ? Math.sqrt(Math.max(0, 1 - (Math.min(d, half) / (half + 0.5)) ** 2)) : 1;
      const v = amplitude * coverage * profile;
      const i = row * size + col;
      if (v > (map[i] as number)) map[i] = v;
    }
  }
}

/** Draws a polyline given in body units. */
export function drawPolyline(
  map: Float32Array,
  t: PixelTransform,
  points: Array<[number, number]>,
  widthPx: number,
  amplitude: number,
): void {
  for (let i = 0; i + 1 < points.length; i++) {
    const [ax, ay] = toPixel(t, ...(points[i] as [number, number]));
    const [bx, by] = toPixel(t, ...(points[i + 1] as [number, number]));
    drawSegment(map, t.size, ax, ay, bx, by, widthPx, amplitude);
  }
}

/**
 * One branch and its descendants: each branch splits in two narrower, fainter, shorter
 * children. `angle` is measured from the lateral direction (sign: which way is lateral),
 * negative upwards. Widths are in pixels at 256 px and scaled by `scalePx`.
 */
export function drawBranching(
  map: Float32Array,
  t: PixelTransform,
  rng: Rng,
  x: number,
  y: number,
  sign: 1 | -1,
  angle: number,
  length: number,
  width: number,
  amplitude: number,
  depth: number,
  scalePx: number,
): void {
  const wobble = rng.normal(0, 0.12);
  const ex = x + sign * Math.cos(angle + wobble) * length;
  const ey = y + Math.sin(angle + wobble) * length;
  const [ax, ay] = toPixel(t, x, y);
  const [bx, by] = toPixel(t, ex, ey);
  drawSegment(map, t.size, ax, ay, bx, by, Math.max(0.7, width * scalePx), amplitude);
  if (depth === 0) return;
  const spread = rng.uniform(0.25, 0.5);
  drawBranching(
    map,
    t,
    rng,
    ex,
    ey,
    sign,
    angle - spread,
    length * rng.uniform(0.65, 0.85),
    width * 0.72,
    amplitude * 0.82,
    depth - 1,
    scalePx,
  );
  drawBranching(
    map,
    t,
    rng,
    ex,
    ey,
    sign,
    angle + spread,
    length * rng.uniform(0.65, 0.85),
    width * 0.72,
    amplitude * 0.82,
    depth - 1,
    scalePx,
  );
}

/** A pulmonary vessel tree fanning laterally from a hilum, tapering toward the periphery. */
export function drawVesselTree(
  map: Float32Array,
  t: PixelTransform,
  rng: Rng,
  hilumX: number,
  hilumY: number,
  sign: 1 | -1,
  scalePx: number,
): void {
  const primaries = [-1.35, -0.95, -0.55, -0.15, 0.25, 0.65, 1.0, 1.3];
  for (const base of primaries) {
    drawBranching(map, t, rng, hilumX, hilumY, sign, base + rng.normal(0, 0.08), rng.uniform(0.1, 0.16), 2.4, 0.13, 3, scalePx);
  }
}
