/**
 * What each arm of the study runs. The two tables below are the only place that maps an arm to
 * trainer modes, so changing what an arm means (e.g. 'report-contrastive' as frozen-encoder heads
 * only) is a one-line change here.
 */
import type { DownstreamArm, PretrainingArm } from './config.js';

export interface PretrainingPlan {
  /** Trainer mode run for the arm; null: no training (the randomly initialised encoder). */
  mode: 'contrastive' | 'clip-finetune' | 'dino' | null;
  /** A frozen-encoder mode run first whose heads warm-start the run (finetune.initFrom). */
  warmStart?: 'contrastive';
  /**
   * Where the arm's encoder comes from: 'random-init' (built from the seed), 'run-encoder'
   * (the run writes runs/<name>/encoder.onnx), or 'encoder+image-projection' (the frozen encoder
   * followed by the run's trained image projection head, for modes that train heads only).
   */
  encoder: 'random-init' | 'run-encoder' | 'encoder+image-projection' | 'trained-encoder+image-projection';
  description: string;
}

export const PRETRAINING_PLANS: Record<PretrainingArm, PretrainingPlan> = {
  none: { mode: null, encoder: 'random-init', description: 'randomly initialised ViT (no pre-training)' },
  // image-report InfoNCE training of the ViT itself, warm-started from heads aligned on the frozen
  // encoder (random heads on trainable encoders collapse; docs/training.md). The frozen-heads-only
  // variant is { mode: 'contrastive', encoder: 'encoder+image-projection' }.
  'report-contrastive': {
    mode: 'clip-finetune',
    warmStart: 'contrastive',
    encoder: 'trained-encoder+image-projection',
    description:
      'image-report InfoNCE: projection heads on the frozen random-init ViT (contrastive), then image and text encoders trained end to end from them (clip-finetune)',
  },
  'image-only': {
    mode: 'dino',
    encoder: 'run-encoder',
    description: 'DINO + iBOT + KoLeo self-distillation of the ViT (dino mode), teacher weights',
  },
};

export interface DownstreamPlan {
  mode: 'supervised' | 'supervised-finetune' | 'distill';
  head: 'linear' | 'mlp';
  /** The run's evaluation whose scores the cell records. */
  evaluation: string;
  description: string;
}

export const DOWNSTREAM_PLANS: Record<DownstreamArm, DownstreamPlan> = {
  'linear-probe': {
    mode: 'supervised',
    head: 'linear',
    evaluation: 'linear head (supervised)',
    description: 'logistic regression on the frozen encoder features',
  },
  'full-finetune': {
    mode: 'supervised-finetune',
    head: 'linear',
    evaluation: 'linear head (supervised)',
    description: 'the encoder and a linear classifier trained together on the labelled studies (supervised-finetune)',
  },
  // not a fine-tune: the encoder stays frozen
  'mlp-head-frozen': {
    mode: 'supervised',
    head: 'mlp',
    evaluation: 'mlp head (supervised)',
    description: 'MLP head on the frozen encoder features (the encoder is not fine-tuned)',
  },
  'report-distill': {
    mode: 'distill',
    head: 'linear',
    evaluation: 'distilled student (image only)',
    description: 'image classifier distilled from a report-reading teacher (distill mode), frozen encoder',
  },
};
