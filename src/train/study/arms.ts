/**
 * What each arm of the study runs. The two tables below are the only place that maps an arm to
 * a trainer mode, so switching 'report-contrastive' to the encoder-training `clip-finetune` mode
 * (or 'mlp-head-frozen' to a full `supervised-finetune`) is a one-line change here.
 */
import type { DownstreamArm, PretrainingArm } from './config.js';

export interface PretrainingPlan {
  /** Trainer mode run for the arm; null: no training (the randomly initialised encoder). */
  mode: 'contrastive' | 'dino' | null;
  /**
   * Where the arm's encoder comes from: 'random-init' (built from the seed), 'run-encoder'
   * (the run writes runs/<name>/encoder.onnx), or 'encoder+image-projection' (the frozen encoder
   * followed by the run's trained image projection head, for modes that train heads only).
   */
  encoder: 'random-init' | 'run-encoder' | 'encoder+image-projection';
  description: string;
}

export const PRETRAINING_PLANS: Record<PretrainingArm, PretrainingPlan> = {
  none: { mode: null, encoder: 'random-init', description: 'randomly initialised ViT (no pre-training)' },
  // until `clip-finetune` (image-report contrastive training of the encoder itself) is available,
  // the report-contrastive arm trains projection heads on the frozen random-init ViT
  'report-contrastive': { mode: 'contrastive', encoder: 'encoder+image-projection', description: 'image-report InfoNCE (contrastive mode: projection heads on the frozen random-init ViT)' },
  'image-only': { mode: 'dino', encoder: 'run-encoder', description: 'DINO + iBOT + KoLeo self-distillation of the ViT (dino mode), teacher weights' },
};

export interface DownstreamPlan {
  mode: 'supervised' | 'distill';
  head: 'linear' | 'mlp';
  /** The run's evaluation whose scores the cell records. */
  evaluation: string;
  description: string;
}

export const DOWNSTREAM_PLANS: Record<DownstreamArm, DownstreamPlan> = {
  'linear-probe': { mode: 'supervised', head: 'linear', evaluation: 'linear head (supervised)', description: 'logistic regression on the frozen encoder features' },
  // not a full fine-tune: the encoder stays frozen (switch to `supervised-finetune` when it exists)
  'mlp-head-frozen': { mode: 'supervised', head: 'mlp', evaluation: 'mlp head (supervised)', description: 'MLP head on the frozen encoder features (the encoder is not fine-tuned)' },
  'report-distill': { mode: 'distill', head: 'linear', evaluation: 'distilled student (image only)', description: 'image classifier distilled from a report-reading teacher (distill mode), frozen encoder' },
};
