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
    cardiomegalyGrade: 1,
    effusion: null,
    pneumothorax: null,
    lesion: null,
    consolidation: null,
    devices: [],
  };
  study.findings = none;
  study.patient.frailty = 0.3;
  Object.assign(study.acquisition, {
    rotationDeg: 0,
    shiftX: 0,
    shiftY: 0,
    zoom: 1,
    noise: 0,
    exposure: 1,
    gamma: 1,
    inspiration: 0,
    tilt: 0,
    grid: null,
    collimation: [0, 0, 0, 0],
    text: null,
  });
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

  it('adds the acquisition: grid lines down the columns, bright shutters, the burned-in marker and text', () => {
    const plain = render(baseStudy());
    const acquire = (change: Partial<PhantomStudy['acquisition']>): Float32Array => {
      const study = baseStudy();
      Object.assign(study.acquisition, change);
      return render(study);
    };
    // a grid modulates columns only: every row carries the same relative pattern
    const grid = acquire({ grid: { period: 0.15, amplitude: 0.03, phase: 0 } });
    const ratio = (r: number, c: number): number => (grid[r * SIZE + c] as number) / (plain[r * SIZE + c] as number);
    for (const c of [40, 41, 42, 43]) expect(ratio(50, c)).toBeCloseTo(ratio(80, c), 2);
    const along = Array.from({ length: 12 }, (_, k) => ratio(60, 40 + k));
    expect(Math.max(...along) - Math.min(...along)).toBeGreaterThan(0.03);
    // a 10% shutter on the left and the top: unexposed, bright, whatever is behind it
    const shuttered = acquire({ collimation: [0.1, 0, 0.1, 0] });
    expect(meanBox(shuttered, -0.99, -0.85, -0.1, 0.1)).toBeGreaterThan(0.88);
    expect(meanBox(plain, -0.99, -0.85, -0.1, 0.1)).toBeLessThan(0.3);
    // the marker letter is saturated in its corner; text runs along the bottom
    const marked = acquire({ marker: { letter: 'R', imageRight: false }, text: 'PORTABLE' });
    const saturated = (img: Float32Array, r0: number, r1: number, c0: number, c1: number): number => {
      let n = 0;
      for (let r = r0; r < r1; r++) for (let c = c0; c < c1; c++) n += (img[r * SIZE + c] as number) === 1 ? 1 : 0;
      return n;
    };
    expect(saturated(marked, 4, 13, 4, 11)).toBeGreaterThan(12);
    expect(saturated(marked, SIZE - 14, SIZE - 4, SIZE - 60, SIZE - 4)).toBeGreaterThan(60);
    expect(saturated(marked, SIZE - 14, SIZE - 4, 4, 40)).toBe(0);
  });
});

describe('phantom sites', () => {
  it('differ in case mix and acquisition: site B has more portable studies, more findings, 10-bit MONOCHROME1, grid lines and text', () => {
    const studies = sampleStudies(SEED, 3000);
    const at = (site: string): PhantomStudy[] => studies.filter((s) => s.patient.site === site);
    const share = (list: PhantomStudy[], test: (s: PhantomStudy) => boolean): number => list.filter(test).length / list.length;
    const [a, b] = [at('A'), at('B')];
    expect(a.length / studies.length).toBeGreaterThan(0.55);
    expect(b.length / studies.length).toBeGreaterThan(0.25);
    expect(share(b, (s) => s.acquisition.view === 'AP')).toBeGreaterThan(share(a, (s) => s.acquisition.view === 'AP') + 0.2);
    const sick = (s: PhantomStudy): boolean =>
      s.findings.effusion !== null || s.findings.consolidation !== null || s.findings.pneumothorax !== null;
    expect(share(b, sick)).toBeGreaterThan(share(a, sick) * 1.3);
    expect(b.every((s) => s.acquisition.bitsStored === 10 && s.acquisition.text !== null)).toBe(true);
    expect(a.every((s) => s.acquisition.bitsStored === 12 && s.acquisition.text === null)).toBe(true);
    expect(share(b, (s) => s.acquisition.grid !== null)).toBeGreaterThan(0.7);
    expect(share(b, (s) => s.acquisition.photometric === 'MONOCHROME1')).toBeGreaterThan(0.6);
    // a patient stays at one site and keeps one anatomy across studies
    const byPatient = new Map<string, PhantomStudy[]>();
    for (const s of studies) byPatient.set(s.patient.patientId, [...(byPatient.get(s.patient.patientId) ?? []), s]);
    for (const list of byPatient.values())
      expect(new Set(list.map((s) => JSON.stringify([s.patient.site, s.patient.anatomy]))).size).toBe(1);
    // every grade occurs, and the grade follows the cardiothoracic ratio
    expect(new Set(studies.map((s) => s.findings.cardiomegalyGrade))).toEqual(new Set([0, 1, 2, 3, 4]));
    const sorted = [...studies].sort((x, y) => x.findings.cardiothoracicRatio - y.findings.cardiothoracicRatio);
    for (let i = 1; i < sorted.length; i++)
      expect(sorted[i]!.findings.cardiomegalyGrade).toBeGreaterThanOrEqual(sorted[i - 1]!.findings.cardiomegalyGrade);
  });
});
