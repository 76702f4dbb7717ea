import { describe, expect, it } from 'vitest';
import { buildGeometry } from '../../../src/data/phantom/geometry.js';
import { pointInLung, zoneT } from '../../../src/data/phantom/geometry.js';
import { renderPhantom } from '../../../src/data/phantom/render.js';
import { sampleStudies, type PhantomFindings, type PhantomStudy } from '../../../src/data/phantom/truth.js';

const SIZE = 128;
const SEED = 5;

/** A study with no findings and a straight, noiseless acquisition, so regions map to fixed pixels. */
function baseStudy(): PhantomStudy {
  const study = structuredClone(sampleStudies(SEED, 1)[0] as PhantomStudy);
  const none: PhantomFindings = {
    cardiothoracicRatio: 0.44,
    cardiomegaly: false,
    effusion: null,
    pneumothorax: null,
    lesion: null,
    consolidation: null,
    devices: [],
  };
  study.findings = none;
  study.patient.frailty = 0.3;
  Object.assign(study.acquisition, { rotationDeg: 0, shiftX: 0, shiftY: 0, zoom: 1, noise: 0, exposure: 1 });
  return study;
}

function withFindings(change: Partial<PhantomFindings>, patient: Partial<PhantomStudy['patient']> = {}): PhantomStudy {
  const study = baseStudy();
  Object.assign(study.findings, change);
  Object.assign(study.patient, patient);
  return study;
}

const px = (v: number): number => Math.min(SIZE - 1, Math.max(0, Math.round(((v + 1) / 2) * SIZE - 0.5)));

/** Mean over a box given in body units. */
function meanBox(img: Float32Array, x0: number, x1: number, y0: number, y1: number): number {
  let sum = 0;
  let n = 0;
  for (let r = px(y0); r <= px(y1); r++)
    for (let c = px(x0); c <= px(x1); c++) {
      sum += img[r * SIZE + c] as number;
      n++;
    }
  return sum / n;
}

const render = (study: PhantomStudy): Float32Array => renderPhantom(study, SIZE, SEED).pixels;

describe('renderPhantom', () => {
  it('is deterministic, finite, within [0, 1] and not flat', () => {
    const study = sampleStudies(SEED, 3)[2] as PhantomStudy;
    const a = renderPhantom(study, 97, SEED).pixels;
    const b = renderPhantom(study, 97, SEED).pixels;
    expect(a).toEqual(b);
    let min = 1;
    let max = 0;
    for (const v of a) {
      expect(Number.isFinite(v)).toBe(true);
      min = Math.min(min, v);
      max = Math.max(max, v);
    }
    expect(min).toBeGreaterThanOrEqual(0);
    expect(max).toBeLessThanOrEqual(1);
    expect(max - min).toBeGreaterThan(0.5);
  });

  it('shows dark lungs, a bright mediastinum and air outside the body', () => {
    const img = render(baseStudy());
    const lung = meanBox(img, -0.45, -0.3, -0.3, -0.1);
    const spine = meanBox(img, -0.02, 0.02, -0.3, -0.1);
    const air = meanBox(img, -0.99, -0.95, 0.5, 0.9);
    expect(spine - lung).toBeGreaterThan(0.2);
    expect(air).toBeLessThan(0.05);
  });

  it('widens the heart with the cardiothoracic ratio', () => {
    const normal = baseStudy();
    const big = withFindings({ cardiothoracicRatio: 0.64, cardiomegaly: true });
    const g = buildGeometry(big);
    expect((g.heart.leftExtent + g.heart.rightExtent) / (2 * g.lungs.left.maxHalfWidth)).toBeCloseTo(0.64, 6);
    // Just beyond the normal heart's left border, at the heart's widest level.
    const gn = buildGeometry(normal);
    const y = gn.heart.topY + 0.75 * (gn.heart.bottomY - gn.heart.topY);
    const x = gn.heart.leftExtent + 0.05;
    expect(
      meanBox(render(big), x, x + 0.06, y - 0.03, y + 0.03) - meanBox(render(normal), x, x + 0.06, y - 0.03, y + 0.03),
    ).toBeGreaterThan(0.1);
  });

  it('fills the costophrenic angle on the effusion side only', () => {
    const normal = render(baseStudy());
    const effusion = render(withFindings({ effusion: { side: 'left', size: 'moderate' } }));
    const lung = buildGeometry(baseStudy()).lungs.left;
    const box = [lung.maxHalfWidth - 0.2, lung.maxHalfWidth - 0.05, lung.baseY - 0.15, lung.baseY - 0.05] as const;
    expect(meanBox(effusion, ...box) - meanBox(normal, ...box)).toBeGreaterThan(0.1);
    const mirror = [-box[1], -box[0], box[2], box[3]] as const;
    expect(Math.abs(meanBox(effusion, ...mirror) - meanBox(normal, ...mirror))).toBeLessThan(0.03);
  });

  it('darkens the pleural space of a pneumothorax', () => {
    const normal = render(baseStudy());
    const ptx = render(withFindings({ pneumothorax: { side: 'right', size: 'large' } }));
    const lung = buildGeometry(baseStudy()).lungs.right;
    // A lateral strip of the right lung (patient right = image left = negative x).
    const box = [-(lung.maxHalfWidth - 0.03), -(lung.maxHalfWidth - 0.12), -0.2, 0.0] as const;
    expect(meanBox(normal, ...box) - meanBox(ptx, ...box)).toBeGreaterThan(0.04);
  });

  it('draws a nodule, a consolidation and devices where the truth puts them', () => {
    const normal = render(baseStudy());
    const lesion = { kind: 'mass' as const, side: 'left' as const, zone: 'mid' as const, diameterCm: 5, lateral: 0.5 };
    const withMass = render(withFindings({ lesion }));
    const [mx, my] = pointInLung(buildGeometry(baseStudy()).lungs.left, zoneT('mid'), 0.5);
    expect(
      meanBox(withMass, mx - 0.03, mx + 0.03, my - 0.03, my + 0.03) - meanBox(normal, mx - 0.03, mx + 0.03, my - 0.03, my + 0.03),
    ).toBeGreaterThan(0.15);

    const withConsolidation = render(withFindings({ consolidation: { side: 'right', zone: 'lower', extent: 1.1 } }));
    const [cx, cy] = pointInLung(buildGeometry(baseStudy()).lungs.right, zoneT('lower'), 0.55);
    expect(
      meanBox(withConsolidation, cx - 0.08, cx + 0.08, cy - 0.06, cy + 0.06) - meanBox(normal, cx - 0.08, cx + 0.08, cy - 0.06, cy + 0.06),
    ).toBeGreaterThan(0.05);

    const withDevices = render(withFindings({ devices: ['pacemaker', 'endotracheal_tube', 'central_line', 'enteric_tube'] }));
    let brighter = 0;
    for (let i = 0; i < normal.length; i++) if ((withDevices[i] as number) - (normal[i] as number) > 0.08) brighter++;
    expect(brighter).toBeGreaterThan(150);
    // The pacemaker generator sits in the left infraclavicular region.
    expect(meanBox(withDevices, 0.46, 0.54, -0.61, -0.59) - meanBox(normal, 0.46, 0.54, -0.61, -0.59)).toBeGreaterThan(0.1);
  });

  it('makes frailty weakly visible: smaller dark lung area', () => {
    const darkPixels = (img: Float32Array): number => img.reduce((n, v) => n + (v > 0.05 && v < 0.45 ? 1 : 0), 0);
    const robust = render(withFindings({}, { frailty: 0 }));
    const frail = render(withFindings({}, { frailty: 1 }));
    expect(darkPixels(frail)).toBeLessThan(darkPixels(robust));
  });
});
