/** Per-group learning rates of the fine-tuning modes: finetune.groups patterns over the flat buffer. */
import type { FlatParameters } from '../parameters.js';
import type { FinetuneConfig } from './config.js';
import { SegmentedAdamW, type Segment } from './segmented-adamw.js';

/** AdamW over `group`'s range, in contiguous segments by the first finetune.groups pattern each name matches. */
export function segmentedOptimizer(params: FlatParameters, group: string, groups: FinetuneConfig['groups']): SegmentedAdamW {
  const rules = groups.map((g) => ({ ...g, re: new RegExp(g.pattern) }));
  const [start, end] = params.groupRange(group);
  const segments: Segment[] = [];
  for (const e of params.entries) {
    if (e.group !== group) continue;
    const k = rules.findIndex((r) => r.re.test(e.name));
    const lrScale = k < 0 ? 1 : rules[k]!.lrScale;
    const weightDecay = k < 0 ? undefined : rules[k]!.weightDecay;
    const last = segments[segments.length - 1];
    if (last && last.end === e.offset - start && last.lrScale === lrScale && last.weightDecay === weightDecay) last.end += e.length;
    else segments.push({ start: e.offset - start, end: e.offset - start + e.length, lrScale, weightDecay });
  }
  return new SegmentedAdamW(params.data.subarray(start, end), params.decayMask(group), segments);
}
