/**
 * Self-verifying JSON files (checkpoint states and pointers). The file is exactly the canonical
 * serialisation of an object (JSON.stringify with 2-space indent, then a newline) whose last key
 * `digest` is the SHA-256 of the canonical serialisation of all other keys. Reading checks both:
 * a changed value or key breaks the digest, a changed space or newline breaks canonical form, so
 * any changed byte is caught. This detects corruption, not deliberate forgery.
 */
import { createHash } from 'node:crypto';
import type { CheckpointRejection } from './errors.js';

const DIGEST_KEY = 'digest';

export function canonicalJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The file text for `value` with its digest appended (`value` must not have a `digest` key). */
export function sealJson(value: Record<string, unknown>): string {
  return canonicalJson({ ...value, [DIGEST_KEY]: sha256Hex(canonicalJson(value)) });
}

export type Opened = { ok: true; value: Record<string, unknown> } | { ok: false; rejection: CheckpointRejection };

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses and verifies a sealed file's bytes. `format` is the value its `format` key must have;
 * an object without a digest is refused, never trusted as an older, unverifiable file.
 */
export function openSealedJson(bytes: Uint8Array, path: string, format: string): Opened {
  const reject = (reason: string, extra: Partial<CheckpointRejection> = {}): Opened => ({
    ok: false,
    rejection: { path, reason, ...extra },
  });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return reject('is not valid UTF-8 text');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    const cause = (error as Error).message;
    return reject(`is not valid JSON (${cause}${bytes.length === 0 ? ', the file is empty' : ''})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    return reject(`holds ${Array.isArray(parsed) ? 'an array' : String(parsed === null ? 'null' : typeof parsed)}, not a JSON object`);
  const { [DIGEST_KEY]: recorded, ...content } = parsed as Record<string, unknown>;
  if (typeof recorded !== 'string') {
    return content.format === format
      ? reject(`has no "${DIGEST_KEY}" field although its format ${format} requires one`, { part: DIGEST_KEY })
      : reject(
          `format ${JSON.stringify(content.format)} carries no digest, so its integrity cannot be verified (expected format ${format}); start the run over with --overwrite`,
          { part: 'format' },
        );
  }
  const computed = sha256Hex(canonicalJson(content));
  if (recorded !== computed)
    return reject('content does not match its recorded SHA-256 digest', { part: DIGEST_KEY, expected: recorded, found: computed });
  // the digest must also be the last key: the sealed form is exactly what sealJson writes
  const canonical = Buffer.from(canonicalJson({ ...content, [DIGEST_KEY]: recorded }), 'utf8');
  if (!canonical.equals(bytes)) {
    let at = 0;
    while (at < bytes.length && bytes[at] === canonical[at]) at++;
    return reject(`differs from its canonical serialisation at byte ${at} (formatting or whitespace changed)`, { part: `byte ${at}` });
  }
  if (content.format !== format)
    return reject(`has format ${JSON.stringify(content.format)}, expected ${format}`, {
      part: 'format',
      expected: format,
      found: String(content.format),
    });
  return { ok: true, value: content };
}
