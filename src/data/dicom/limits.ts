/**
 * The largest frame radlearn decodes or resizes to: 2^26 pixels (8192 x 8192), whatever the
 * number of samples. Real radiographs stay well below it (a 43 cm detector at 100 µm is
 * 4300 x 4300; large mammograms about 4000 x 5000). It exists so that a header claiming more
 * fails at once with a typed error, before a decoder allocates for the claim or spends minutes
 * producing pixels the file does not hold.
 */
export const MAX_FRAME_PIXELS = 2 ** 26;

/** The claim in words when rows x columns exceeds the budget, else undefined. */
export function frameSizeProblem(rows: number, columns: number): string | undefined {
  if (rows * columns <= MAX_FRAME_PIXELS) return undefined;
  return `${columns}x${rows} is ${rows * columns} pixels, above the ${MAX_FRAME_PIXELS} (8192x8192) radlearn decodes`;
}
