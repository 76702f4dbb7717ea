import { EncoderInputError } from './errors.js';
import type { IoMetadata, SessionInfo } from './session-runner.js';

/** The named input/output, or an error listing what the model has. */
export function pick(list: readonly IoMetadata[], name: string, kind: 'input' | 'output', info: SessionInfo): IoMetadata {
  const found = list.find((m) => m.name === name);
  if (!found) {
    throw new EncoderInputError(`${info.label} has no ${kind} named ${name}; its ${kind}s are ${list.map((m) => m.name).join(', ')}`, {
      name,
      kind,
    });
  }
  return found;
}

/** The default output: 'embedding' (radlearn's built-ins), else common export names, else the first. */
export function defaultOutput(info: SessionInfo): IoMetadata {
  for (const name of ['embedding', 'embeddings', 'pooler_output', 'image_embeds', 'text_embeds', 'last_hidden_state']) {
    const m = info.outputs.find((o) => o.name === name);
    if (m) return m;
  }
  return info.outputs[0]!;
}
