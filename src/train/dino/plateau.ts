/**
 * Is the DINO objective training? The DINO loss is a cross-entropy against targets spread over
 * K prototypes, so it equals log K when student and teacher are both uniform: the stable answer
 * when the teacher's targets for one view carry nothing the student can predict from the others.
 * A run whose DINO loss sits at (or above) log K is shaped by iBOT and KoLeo only, whatever the
 * config says. This module detects that, live (one warning) and at the end (dino-summary.json).
 */

/** The DINO loss counts as "on the plateau" at or above this fraction of log K. */
export const PLATEAU_FRACTION = 0.98;

export interface DinoLossSummary {
  /** Records the means are taken over (the last `window` logged steps, firstStep..lastStep). */
  window: number;
  firstStep: number;
  lastStep: number;
  logK: number;
  dino: number;
  ibot: number;
  koleo: number;
  /** dino / log K: 1 on the uniform plateau, below 1 when the student predicts the teacher. */
  dinoOverLogK: number;
  plateau: boolean;
}

export interface DinoLossRecord {
  step: number;
  dino: number;
  ibot: number;
  koleo: number;
}

/** Means over the last `window` records (in step order). Undefined without records. */
export function summarizeDinoLosses(records: readonly DinoLossRecord[], prototypes: number, window: number): DinoLossSummary | undefined {
  if (records.length === 0) return undefined;
  const tail = records.slice(-Math.max(1, window));
  const mean = (pick: (r: DinoLossRecord) => number): number => tail.reduce((s, r) => s + pick(r), 0) / tail.length;
  const logK = Math.log(prototypes);
  const dino = mean((r) => r.dino);
  return {
    window: tail.length,
    firstStep: tail[0]!.step,
    lastStep: tail[tail.length - 1]!.step,
    logK,
    dino,
    ibot: mean((r) => r.ibot),
    koleo: mean((r) => r.koleo),
    dinoOverLogK: dino / logK,
    plateau: dino >= PLATEAU_FRACTION * logK,
  };
}

/** The warning text, shared by the trainer's event and the study's report note. */
export function plateauMessage(s: DinoLossSummary): string {
  return (
    `the DINO loss (mean ${s.dino.toFixed(3)} over steps ${s.firstStep}-${s.lastStep}) is at its uniform plateau log K = ${s.logK.toFixed(3)}: ` +
    "the teacher's targets carry nothing the student can predict from the other views, so the encoder is being shaped by iBOT and KoLeo only. " +
    'Milder views (dino.crops.globalScale, localScale, intensity) or a longer run may help; see "Why the DINO loss can stay at log K" in docs/study.md'
  );
}

/** Live check inside a run: warns once, after a quarter of the steps, if the recent losses sit on the plateau. */
export class DinoPlateauMonitor {
  private readonly records: DinoLossRecord[] = [];
  private warned = false;

  constructor(
    private readonly prototypes: number,
    private readonly totalSteps: number,
    private readonly window = 100,
  ) {}

  /** Adds one step's losses; returns the warning text the first time the plateau is detected. */
  push(record: DinoLossRecord): string | undefined {
    this.records.push(record);
    if (this.records.length > this.window) this.records.shift();
    if (this.warned || this.records.length < this.window || record.step < this.totalSteps / 4) return undefined;
    const s = summarizeDinoLosses(this.records, this.prototypes, this.window)!;
    if (!s.plateau) return undefined;
    this.warned = true;
    return plateauMessage(s);
  }
}
