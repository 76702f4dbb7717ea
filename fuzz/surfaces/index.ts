/** The fuzz surfaces by name; each module exports `surface`. */
import type { FuzzSurface } from '../surface.js';

export const SURFACE_NAMES = ['dicom', 'image', 'kernels', 'labeler'] as const;
export type SurfaceName = (typeof SURFACE_NAMES)[number];

export async function loadSurface(name: string): Promise<FuzzSurface> {
  if (!(SURFACE_NAMES as readonly string[]).includes(name)) {
    throw new Error(`unknown fuzz surface '${name}' (known: ${SURFACE_NAMES.join(', ')})`);
  }
  const module = (await import(`./${name}.js`)) as { surface: FuzzSurface };
  return module.surface;
}
