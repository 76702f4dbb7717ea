/**
 * Report labeling throughput: labelReport over 100k reports (10k with --quick), the
 * acceptance figure being > 5k reports/s on one core. The corpus cycles 4,000 distinct
 * phantom reports (FINDINGS/IMPRESSION with negations, hedges, lists, line wrapping)
 * plus hand-written reports in other styles (unheaded, numbered, lower case, MIMIC-like
 * headers with de-identification placeholders). parseReport alone is the baseline row:
 * the labeler's own cost is the difference. A last row labels one hostile report, a 1 MB
 * comma list in a single clause, whose cost must stay linear (characters/s near the corpus's).
 */
import { labelReport } from '../../src/data/labeler/label.js';
import { parseReport } from '../../src/data/reports/parse.js';
import { generateReport } from '../../src/data/phantom/report.js';
import { sampleStudies } from '../../src/data/phantom/truth.js';
import { time, withRatio, type BenchCase, type BenchRow } from '../harness.js';

const HANDWRITTEN = [
  'EXAMINATION:  CHEST (PA AND LAT)\n\nINDICATION:  ___-year-old woman with cough, r/o pneumonia.\n\nCOMPARISON:  ___\n\nFINDINGS:\n\nThe lungs are clear without focal consolidation. No pleural effusion or pneumothorax is seen. The cardiac and mediastinal silhouettes are unremarkable.\n\nIMPRESSION:\n\nNo acute cardiopulmonary process.',
  'FINDINGS: Since the prior study, there is increased opacity at the left base which may represent atelectasis, though infection cannot be excluded. Small bilateral pleural effusions. Moderate cardiomegaly is unchanged. Right IJ central line terminates in the mid SVC.\nIMPRESSION: 1. Left basilar opacity, atelectasis versus pneumonia. 2. Small bilateral effusions. 3. Stable cardiomegaly.',
  'heart size normal. lungs clear. no effusion or pneumothorax. degenerative changes of the thoracic spine.',
  'IMPRESSION: 1. Endotracheal tube terminates 3.5 cm above the carina. 2. Interval removal of the nasogastric tube. 3. No evidence of pneumothorax. 4. Mild pulmonary vascular congestion.',
  'The XXXX examination consists of frontal and lateral radiographs of the chest. Borderline heart size. Calcified granuloma in the right upper lobe. No acute osseous abnormality. Healed left rib fractures.',
];

function corpus(n: number): string[] {
  const studies = sampleStudies(11, 4000);
  const distinct = [...studies.map((s) => generateReport(s, 11).text), ...HANDWRITTEN];
  return Array.from({ length: n }, (_, i) => distinct[i % distinct.length] as string);
}

/** One clause listing ~100k findings and filler nouns after a negation: quadratic in a naive labeler. */
function hostileCommaList(characters: number): string {
  const items = ['effusion', 'pneumothorax', 'atelectasis', 'spine', 'consolidation', 'rib', 'nodule', 'edema'];
  const parts: string[] = [];
  for (let length = 0, i = 0; length < characters; i++) {
    const item = items[i % items.length] as string;
    parts.push(item);
    length += item.length + 2;
  }
  return `No ${parts.join(', ')}.`;
}

export const cases: BenchCase[] = [
  {
    name: 'labeler',
    async run(context): Promise<BenchRow[]> {
      const n = context.quick ? 10_000 : 100_000;
      const reports = corpus(n);
      const shape = `${n} reports, ${Math.round(reports.reduce((s, r) => s + r.length, 0) / n)} chars avg`;
      const opts = { warmup: 1, minRuns: context.quick ? 3 : 3, maxRuns: 5, minTimeMs: 0 };
      let sink = 0;
      const parse = await time(() => {
        for (const r of reports) sink += parseReport(r).sentences.length;
      }, opts);
      const label = await time(() => {
        for (const r of reports) sink += labelReport(r).Cardiomegaly === 1 ? 1 : 0;
      }, opts);
      // CPU time of one more pass: on a shared machine wall time also counts other people's work.
      const cpuStart = process.cpuUsage();
      for (const r of reports) sink += labelReport(r).Cardiomegaly === 1 ? 1 : 0;
      const cpu = process.cpuUsage(cpuStart);
      const cpuUsPerReport = (cpu.user + cpu.system) / n;
      const hostile = hostileCommaList(1_000_000);
      const hostileTime = await time(
        () => {
          sink += labelReport(hostile).Pneumothorax === 0 ? 1 : 0;
        },
        { warmup: 1, minRuns: 3, maxRuns: 3, minTimeMs: 0 },
      );
      if (sink < 0) throw new Error('unreachable');
      const parseRow: BenchRow = {
        op: 'parseReport (sections + sentences)',
        backend: 'ts',
        shape,
        medianMs: parse.medianMs,
        p90Ms: parse.p90Ms,
        itemsPerSec: (n * 1000) / parse.medianMs,
        itemName: 'reports',
      };
      const labelRow: BenchRow = {
        op: 'labelReport (parse + 14 observations)',
        backend: 'ts',
        shape,
        medianMs: label.medianMs,
        p90Ms: label.p90Ms,
        itemsPerSec: (n * 1000) / label.medianMs,
        itemName: 'reports',
        note: `acceptance: > 5,000 reports/s; CPU ${cpuUsPerReport.toFixed(1)} µs/report = ${Math.round(1e6 / cpuUsPerReport)} reports/s per busy core`,
      };
      const hostileRow: BenchRow = {
        op: 'labelReport, one 1 MB comma-list clause',
        backend: 'ts',
        shape: `${hostile.length} chars`,
        medianMs: hostileTime.medianMs,
        p90Ms: hostileTime.p90Ms,
        itemsPerSec: (hostile.length * 1000) / hostileTime.medianMs,
        itemName: 'chars',
        note: `corpus: ${Math.round((reports.reduce((s, r) => s + r.length, 0) * 1000) / label.medianMs)} chars/s`,
      };
      return [parseRow, withRatio(labelRow, parseRow), hostileRow];
    },
  },
];
