import { Sfc32 } from '../../../src/random/index.js';

const findings = [
  'pleural effusion',
  'pneumothorax',
  'consolidation',
  'cardiomegaly',
  'atelectasis',
  'pulmonary edema',
  'nodule',
  'fracture',
  'hilar lymphadenopathy',
];
const sides = ['left', 'right', 'bilateral', 'bibasilar'];
const lead = ['No', 'Small', 'Moderate', 'Large', 'Mild', 'Possible', 'Unchanged', 'Interval increase in'];
const extra = [
  'Lines and tubes in stable position.',
  'Heart size is normal.',
  'Compared with the prior study of 03/14, findings are similar.',
  'Sjögren-related interstitial changes, café-au-lait?',
];

/** Radiology-report-like texts from a seeded generator (varied case, numbers, punctuation, accents). */
export function makeReports(n: number, seed: number): string[] {
  const rng = new Sfc32(seed);
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rng.next() * a.length)]!;
  return Array.from({ length: n }, () => {
    const parts = [`FINDINGS: ${pick(lead)} ${pick(sides)} ${pick(findings)}.`];
    if (rng.next() < 0.5) parts.push(`Measures ${(1 + rng.next() * 4).toFixed(1)} cm.`);
    if (rng.next() < 0.4) parts.push(pick(extra));
    parts.push(`IMPRESSION: ${pick(lead)} ${pick(findings)}; ${pick(sides)} ${pick(findings)}.`);
    return parts.join(' ');
  });
}
