/**
 * `finetune.augment`: the random transforms each training image goes through in the encoder
 * fine-tuning modes, with defaults for chest radiographs (mild crops, small rotations and shifts,
 * brightness/contrast/gamma jitter; no flips, blur or noise). Absent: no augmentation.
 * The values are checked by the augment kernel's own spec validation (src/kernels/augment-spec.ts),
 * so what is accepted here is exactly what the kernel accepts, with errors naming
 * finetune.augment.<field>.
 */
import { z } from 'zod';
import { InvalidArgumentError } from '../../errors.js';
import { encodeAugmentSpec, type AugmentSpec } from '../../kernels/augment-spec.js';

const pair = z.tuple([z.number(), z.number()]);
/** A fixed value, or a [min, max] range drawn uniformly per view. */
const amount = z.union([z.number(), pair]);

const schemaShape = z.strictObject({
  /** RandomResizedCrop: fraction of the image area kept, [min, max] in (0, 1]. Mild, so the crop keeps most of the chest. */
  scale: pair.default([0.7, 1]),
  /** RandomResizedCrop: width / height of the crop, [min, max], drawn log-uniformly (the view is resized back to square). */
  ratio: pair.default([0.9, 1.1]),
  /** Rotation by an angle drawn uniformly from ±rotate degrees (patient positioning varies by a few degrees). */
  rotate: z.number().default(5),
  /** Shift by up to ±translate of the image width and height. */
  translate: z.number().default(0.05),
  /**
   * Probability of a horizontal flip. Default 0: laterality matters on chest radiographs (heart
   * on the left, dextrocardia and situs inversus, left/right findings, the side marker), so a
   * flipped film shows a different, usually impossible, anatomy.
   */
  flip: z.number().default(0),
  /**
   * Brightness b: factor in [1-b, 1+b]; contrast c: factor in [1-c, 1+c] around mid-grey;
   * gamma g >= 1: exponent log-uniform in [1/g, g]; each also takes an explicit [min, max] factor
   * (exponent) range. The three fire together with probability p.
   */
  intensity: z
    .strictObject({
      brightness: amount.default(0.2),
      contrast: amount.default(0.2),
      gamma: amount.default(1.2),
      p: z.number().default(0.8),
    })
    .prefault({}),
  /** Gaussian blur, sigma in output pixels (at most 8), applied with probability p (default 0: off). */
  blur: z.strictObject({ sigma: amount.default([0.1, 1]), p: z.number().default(0) }).prefault({}),
  /** Additive Gaussian noise, std in display units ([0, 1] grey range), applied with probability p (default 0: off). */
  noise: z.strictObject({ std: amount.default([0, 0.02]), p: z.number().default(0) }).prefault({}),
});

export type FinetuneAugmentConfig = z.output<typeof schemaShape>;

/** The kernel spec for one view per image, `size` x `size`, normalised like the un-augmented images. */
export function finetuneAugmentSpec(cfg: FinetuneAugmentConfig, size: number, normalize: { mean: number; std: number }): AugmentSpec {
  return {
    crops: [{ count: 1, size, scale: cfg.scale, ratio: cfg.ratio }],
    flip: { horizontal: cfg.flip },
    rotate: { degrees: cfg.rotate },
    translate: { x: cfg.translate, y: cfg.translate },
    intensity: { ...cfg.intensity },
    blur: { ...cfg.blur },
    noise: { ...cfg.noise },
    normalize,
  };
}

/** Spec fields whose config key is spelled differently (the rest are the same path). */
const CONFIG_KEY_OF_SPEC_FIELD: Record<string, string> = {
  'crops[0].scale': 'scale',
  'crops[0].ratio': 'ratio',
  'flip.horizontal': 'flip',
  'rotate.degrees': 'rotate',
  'translate.x': 'translate',
  'translate.y': 'translate',
};

/** 'crops[0].scale[1]' -> 'scale', 'blur.sigma[0]' -> 'blur.sigma', 'intensity.gamma' -> 'intensity.gamma'. */
export function configKeyOfSpecField(field: string): string {
  const whole = field.replace(/\[\d+\]$/, '');
  return CONFIG_KEY_OF_SPEC_FIELD[whole] ?? whole;
}

export const finetuneAugmentSchema = schemaShape.superRefine((cfg, ctx) => {
  try {
    // size and normalisation come from config.image at run time; any valid ones check the rest
    encodeAugmentSpec(finetuneAugmentSpec(cfg, 224, { mean: 0, std: 1 }));
  } catch (error) {
    if (!(error instanceof InvalidArgumentError) || typeof error.details.field !== 'string') throw error;
    const field = error.details.field;
    const key = configKeyOfSpecField(field);
    // the kernel's message is 'augment spec: <field> <what was expected>, got <value>'
    const expected = error.message.replace(`augment spec: ${field} `, '');
    ctx.addIssue({ code: 'custom', path: key.split('.'), message: expected });
  }
});
