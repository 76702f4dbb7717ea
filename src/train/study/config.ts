/**
 * `radlearn study` configuration: pre-training arms x downstream arms x label fractions x seeds
 * on one dataset (the built-in phantom by default, or any manifest), evaluated on the labels the
 * reports mention and on labels they never mention. Presets give the quick and the full study.
 */
import { z } from 'zod';
import { RadlearnError } from '../../errors.js';

export class StudyConfigError extends RadlearnError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('ERR_STUDY_CONFIG', message, details);
  }
}

export const PRETRAINING_ARMS = ['none', 'report-contrastive', 'image-only'] as const;
export const DOWNSTREAM_ARMS = ['linear-probe', 'full-finetune', 'report-distill', 'mlp-head-frozen'] as const;
export type PretrainingArm = (typeof PRETRAINING_ARMS)[number];
export type DownstreamArm = (typeof DOWNSTREAM_ARMS)[number];

const positiveInt = z.number().int().positive();

export const studyConfigSchema = z.strictObject({
  name: z
    .string()
    .min(1)
    .regex(/^[\w.-]+$/, 'letters, digits, _ . - only')
    .default('study'),
  /** Study folder: cells/, pretrain/, runs/, report.md. */
  out: z.string().min(1).default('radlearn-study'),
  data: z
    .strictObject({
      /** A manifest (CSV/JSONL with images, reports, labels); omitted: the built-in phantom is generated. */
      manifest: z.string().min(1).optional(),
      phantom: z
        .strictObject({
          n: z.number().int().min(40).default(1500),
          size: z.number().int().min(32).default(128),
          seed: z.number().int().min(0).default(1),
        })
        .default({ n: 1500, size: 128, seed: 1 }),
      /** Label columns to train and evaluate (default: every binary label column). */
      labels: z.array(z.string().min(1)).min(1).optional(),
      /** Labels the reports never mention (phantom: adverse_outcome); every other label counts as mentioned. */
      unmentioned: z.array(z.string().min(1)).default(['adverse_outcome']),
      split: z.strictObject({ train: z.number().min(0).max(1), val: z.number().min(0).max(1), test: z.number().min(0).max(1) }).optional(),
      /**
       * External validation: rows whose `column` value is not in `train` (other sites) are only
       * tested on, never pre-trained or trained on; every cell then reports the in-site test AUROCs
       * and each other site's. Default on the phantom: train on site A, test on site B; null: off.
       */
      external: z
        .strictObject({ column: z.string().min(1), train: z.array(z.string().min(1)).min(1) })
        .nullable()
        .optional(),
      /** An ordinal label column (integer grades) for the frozen encoders' grade probe; phantom default cardiomegaly_grade; null: off. */
      grade: z.string().min(1).nullable().optional(),
    })
    .default({ phantom: { n: 1500, size: 128, seed: 1 }, unmentioned: ['adverse_outcome'] }),
  imageSize: z.number().int().min(32).max(512).default(64),
  pretraining: z
    .array(z.enum(PRETRAINING_ARMS))
    .min(1)
    .default([...PRETRAINING_ARMS]),
  downstream: z.array(z.enum(DOWNSTREAM_ARMS)).min(1).default(['linear-probe', 'full-finetune', 'report-distill']),
  fractions: z.array(z.number().gt(0).max(1)).min(1).default([0.01, 0.1, 1]),
  seeds: z.number().int().min(1).max(20).default(3),
  /** Every arm uses the same ViT (random init for 'none'); fields as the dino config's vit section. */
  vit: z
    .strictObject({
      patchSize: positiveInt.default(16),
      dim: positiveInt.default(64),
      depth: positiveInt.default(2),
      heads: positiveInt.default(4),
      mlpRatio: z.number().positive().default(2),
    })
    .default({ patchSize: 16, dim: 64, depth: 2, heads: 4, mlpRatio: 2 }),
  steps: z
    .strictObject({
      dino: positiveInt.default(300),
      /** Heads on the frozen encoders (the warm start of clip-finetune). */
      contrastive: positiveInt.default(300),
      /** Image and text encoders trained end to end from those heads. */
      clipFinetune: positiveInt.default(200),
      downstream: positiveInt.default(300),
      /** Downstream full fine-tune (supervised-finetune) steps. */
      finetune: positiveInt.default(100),
      teacher: positiveInt.default(300),
    })
    .default({ dino: 300, contrastive: 300, clipFinetune: 200, downstream: 300, finetune: 100, teacher: 300 }),
  batchSize: z
    .strictObject({
      dino: z.number().int().min(2).default(32),
      contrastive: z.number().int().min(2).default(64),
      clipFinetune: z.number().int().min(2).default(32),
      downstream: z.number().int().min(2).default(64),
      finetune: z.number().int().min(2).default(32),
    })
    .default({ dino: 32, contrastive: 64, clipFinetune: 32, downstream: 64, finetune: 32 }),
  lr: z
    .strictObject({
      dino: z.number().positive().default(5e-4),
      contrastive: z.number().positive().default(5e-3),
      clipFinetune: z.number().positive().default(1e-4),
      downstream: z.number().positive().default(3e-3),
      finetune: z.number().positive().default(1e-4),
    })
    .default({ dino: 5e-4, contrastive: 5e-3, clipFinetune: 1e-4, downstream: 3e-3, finetune: 1e-4 }),
  /** Extra keys of the dino config section (head, crops, loss, schedule). */
  dino: z.record(z.string(), z.unknown()).default({}),
});

export type StudyConfig = z.output<typeof studyConfigSchema>;
export type StudyConfigInput = z.input<typeof studyConfigSchema>;

/** Presets; explicit config keys override them. */
export const STUDY_PRESETS: Record<'quick' | 'full', StudyConfigInput> = {
  // 2 CPU cores, well under 30 minutes (measured: docs/study.md): one seed, a 2000-study phantom, short runs
  quick: {
    // 3000 studies: site A (the training site) holds about 1950 of them, ~1350 for training
    data: { phantom: { n: 3000, size: 128, seed: 1 }, unmentioned: ['adverse_outcome'] },
    imageSize: 64,
    seeds: 1,
    vit: { patchSize: 8, dim: 64, depth: 2, heads: 4 },
    steps: { dino: 2000, contrastive: 600, clipFinetune: 150, downstream: 300, finetune: 60, teacher: 300 },
    batchSize: { dino: 32, contrastive: 64, clipFinetune: 32, downstream: 64, finetune: 32 },
    // Views that a short run can learn from (measured in docs/study.md): at this budget DINOv2's
    // crops (global 0.32-1, local crops) keep the DINO loss on its log K plateau, so the quick
    // preset takes near-whole global views, no local crops, a flat teacher temperature and a
    // fast teacher; flips, intensity jitter, blur and iBOT's masks stay.
    dino: {
      head: { hidden: 256, bottleneck: 64, prototypes: 256 },
      crops: { globalScale: [0.85, 1], localCount: 0 },
      loss: { normalization: 'sinkhorn' },
      schedule: { warmupTemperature: 0.04, temperature: 0.04, momentum: 0.9 },
    },
  },
  full: {
    data: { phantom: { n: 3000, size: 128, seed: 1 }, unmentioned: ['adverse_outcome'] },
    imageSize: 64,
    seeds: 3,
    vit: { patchSize: 8, dim: 96, depth: 4, heads: 4 },
    steps: { dino: 5000, contrastive: 1000, clipFinetune: 1000, downstream: 400, finetune: 300, teacher: 400 },
    dino: { head: { hidden: 256, bottleneck: 64, prototypes: 1024 }, crops: { localCount: 4 }, loss: { normalization: 'sinkhorn' } },
  },
};

function merge(base: unknown, over: unknown): unknown {
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over))
    return over === undefined ? base : over;
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) out[k] = merge(out[k], v);
  return out;
}

/** Validates a study config (after applying a preset); errors name the key by its dotted path. */
export function parseStudyConfig(raw: unknown, preset?: 'quick' | 'full'): StudyConfig {
  if (preset !== undefined && !(preset in STUDY_PRESETS))
    throw new StudyConfigError(`unknown preset ${String(preset)} (quick, full)`, { preset });
  const input = preset ? merge(STUDY_PRESETS[preset], raw ?? {}) : (raw ?? {});
  const r = studyConfigSchema.safeParse(input);
  if (!r.success) {
    const issue = r.error.issues[0]!;
    const key = issue.path.length ? issue.path.map(String).join('.') : '(root)';
    throw new StudyConfigError(`study config key ${key}: ${issue.message}`, { key, issues: r.error.issues.length });
  }
  const c = r.data;
  // the phantom's sites and grade, unless switched off (null) or the data is the user's manifest
  if (c.data.manifest === undefined) {
    if (c.data.external === undefined) c.data.external = { column: 'site', train: ['A'] };
    if (c.data.grade === undefined) c.data.grade = 'cardiomegaly_grade';
  }
  if (c.imageSize % c.vit.patchSize !== 0)
    throw new StudyConfigError(`study config key vit.patchSize: ${c.vit.patchSize} does not divide imageSize ${c.imageSize}`, {
      key: 'vit.patchSize',
    });
  return c;
}
