/**
 * Partial unfreezing: which encoder parameters train. Blocks are recognised by the names PyTorch
 * exporters and radlearn's builders give them ('layer3.0.', 'blocks.7.', 'encoder.layer.11.',
 * 'layers.2.', 'h.5.'), ordered by first appearance in the model.
 */
import { TrainConfigError } from '../config.js';

const BLOCK = /^(.*?(?:^|\.)?(?:layer\d*|layers|blocks|block|h)\.\d+)\./;

/** The block a parameter belongs to ('blocks.3'), or undefined outside blocks (stem, embeddings, final norm). */
export function blockOf(name: string): string | undefined {
  return BLOCK.exec(name)?.[1];
}

export function compilePatterns(patterns: readonly string[], key: string): RegExp[] {
  return patterns.map((p, i) => {
    try {
      return new RegExp(p);
    } catch (cause) {
      throw new TrainConfigError(`config key ${key}.${i}: invalid regular expression ${JSON.stringify(p)} (${(cause as Error).message})`, {
        key: `${key}.${i}`,
      });
    }
  });
}

/**
 * Names (in model order) that stay frozen. `unfreezeLastBlocks` N keeps the last N blocks and
 * every parameter after the last block trainable; everything before them is frozen. `freeze`
 * patterns are matched against `prefix + name` and freeze in addition.
 */
export function frozenParameters(
  names: readonly string[],
  options: { prefix: string; freeze: readonly RegExp[]; unfreezeLastBlocks: number | null },
): string[] {
  const frozen = new Set<string>();
  if (options.unfreezeLastBlocks !== null) {
    const blocks = [...new Set(names.map(blockOf).filter((b): b is string => b !== undefined))];
    const keep = new Set(blocks.slice(Math.max(0, blocks.length - options.unfreezeLastBlocks)));
    if (blocks.length === 0)
      throw new TrainConfigError(
        `finetune.unfreezeLastBlocks: no blocks found among the ${options.prefix}parameter names (expected names such as blocks.3.*, layer2.0.*, encoder.layer.5.*); use finetune.freeze patterns instead`,
        { key: 'finetune.unfreezeLastBlocks' },
      );
    const lastBlock = names.reduce((last, n, i) => (blockOf(n) !== undefined ? i : last), -1);
    names.forEach((n, i) => {
      const b = blockOf(n);
      const trainable = b !== undefined ? keep.has(b) : i > lastBlock;
      if (!trainable) frozen.add(n);
    });
  }
  for (const n of names) if (options.freeze.some((re) => re.test(options.prefix + n))) frozen.add(n);
  return names.filter((n) => frozen.has(n));
}
