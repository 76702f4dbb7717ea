/**
 * Mutations of encapsulated PixelData: the basic offset table, fragment lengths and
 * boundaries, dropped or repeated fragments, and the compressed frame's own codestream.
 */
import { concat, removeRange, replaceRange, writeUint } from '../shared/mutate.js';
import { walkDicom } from './dicomLayout.js';
import { encodeDelimiter, replaceValue } from './dicomEdit.js';
import { codecOfSyntax, mutateCodestream } from './codestreamMutations.js';
import { UNDEFINED_LENGTH, type Operator } from './dicomOperator.js';

/** Encapsulated PixelData: offset table, fragment lengths and boundaries, the frame's codestream. */
export const fragments: Operator = (bytes, layout, rng, donor) => {
  const list = layout.fragments;
  if (list.length === 0) return undefined;
  const le = layout.littleEndian;
  const table = list[0]!;
  const frames = list.slice(1);
  switch (rng.int(6)) {
    case 0: {
      const count = rng.pick([0, 1, 2, frames.length, frames.length + 1, 1000]);
      const values = new Uint8Array(count * 4);
      const view = new DataView(values.buffer);
      let previous = 0;
      for (let i = 0; i < count; i++) {
        previous =
          rng.pick([0, 1, 2, previous + 1, previous + 8 + rng.int(4096), 0xfffffff0, Math.max(0, previous - 8), rng.nextU32()]) >>> 0;
        view.setUint32(i * 4, i === 0 && rng.chance(0.5) ? 0 : previous, le);
      }
      const odd = rng.chance(0.1) ? values.subarray(0, Math.max(0, values.length - 1)) : values;
      return { bytes: replaceValue(bytes, table, odd), label: `offset table of ${count} entries${odd !== values ? ' (odd length)' : ''}` };
    }
    case 1: {
      const f = rng.pick(frames.length ? frames : list);
      const remaining = bytes.length - f.valueOffset;
      const value = rng.pick([
        0,
        1,
        f.length | 1,
        f.length + 2,
        Math.max(0, f.length - 2),
        remaining + rng.intBetween(1, 64),
        UNDEFINED_LENGTH,
      ]);
      return { bytes: writeUint(bytes, f.lengthOffset, 4, value, le), label: `fragment@${f.start} length=${value}` };
    }
    case 2: {
      const f = rng.pick(frames.length ? frames : list);
      if (f.length < 4) return undefined;
      const cut = 2 * rng.intBetween(1, Math.floor(f.length / 2) - 1);
      const head = writeUint(bytes, f.lengthOffset, 4, cut, le);
      return {
        bytes: replaceRange(head, f.valueOffset + cut, f.valueOffset + cut, encodeDelimiter(0xe000, f.length - cut, le)),
        label: `split fragment@${f.start} at ${cut}`,
      };
    }
    case 3: {
      const f = rng.pick(frames.length ? frames : list);
      if (f.end === undefined) return undefined;
      return rng.chance(0.5)
        ? { bytes: removeRange(bytes, f.start, f.end), label: `drop fragment@${f.start}` }
        : { bytes: replaceRange(bytes, f.end, f.end, bytes.slice(f.start, f.end)), label: `duplicate fragment@${f.start}` };
    }
    default: {
      const f = frames.length ? frames[rng.chance(0.7) ? 0 : rng.int(frames.length)]! : undefined;
      if (!f || f.end === undefined) return undefined;
      const codec = codecOfSyntax(layout.transferSyntaxUID);
      const donorFrame = firstFrame(donor);
      const mutant = mutateCodestream(codec, bytes.slice(f.valueOffset, f.end), rng, donorFrame);
      const value = mutant.bytes.length % 2 === 1 && rng.chance(0.7) ? concat(mutant.bytes, new Uint8Array(1)) : mutant.bytes;
      return { bytes: replaceValue(bytes, f, value), label: `frame@${f.start}: ${mutant.label}` };
    }
  }
};

function firstFrame(file: Uint8Array): Uint8Array | undefined {
  const f = walkDicom(file).fragments[1];
  return f && f.end !== undefined ? file.slice(f.valueOffset, f.end) : undefined;
}
