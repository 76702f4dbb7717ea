/**
 * View positions as datasets spell them: 'PA', 'AP', 'AP Supine', 'AP semi erect', 'PA/AP',
 * 'Frontal' (CheXpert), 'LATERAL', 'LL', 'RL', 'L' (the COVID-19 collection), 'Lateral'.
 */
import { ImportError } from './types.js';

/** Words that may accompany a frontal projection ('AP portable upright', 'PA view'). */
const FRONTAL_WORDS = new Set(['pa', 'ap', 'frontal', 'posteroanterior', 'anteroposterior', 'postero', 'antero', 'anterior', 'posterior']);
const FRONTAL_MODIFIERS = new Set([
  'supine',
  'erect',
  'semi',
  'semierect',
  'upright',
  'portable',
  'view',
  'axial',
  'lordotic',
  'chest',
  'cxr',
]);
const LATERAL_WORDS = new Set(['lateral', 'lat', 'll', 'rl', 'l', 'left', 'right', 'view', 'decubitus']);

const words = (view: string): string[] =>
  view
    .toLowerCase()
    .split(/[^a-z]+/)
    .filter(Boolean);

/** 'frontal', 'lateral', or undefined for anything else (oblique, CT 'Axial', empty). */
export function viewClass(view: string | undefined): 'frontal' | 'lateral' | undefined {
  if (view === undefined) return undefined;
  const w = words(view);
  if (w.length === 0) return undefined;
  const frontalCore = w.some((x) => FRONTAL_WORDS.has(x));
  if (frontalCore && w.every((x) => FRONTAL_WORDS.has(x) || FRONTAL_MODIFIERS.has(x))) return 'frontal';
  // 'decubitus' alone is a frontal film taken lying on the side; it counts as lateral only with a lateral word
  const lateralCore = w.some((x) => x === 'lateral' || x === 'lat' || x === 'll' || x === 'rl' || x === 'l');
  if (lateralCore && w.every((x) => LATERAL_WORDS.has(x))) return 'lateral';
  return undefined;
}

/** Whether `view` passes the `views` option: 'frontal', or a list of names ('lateral' matches every lateral spelling). */
export function viewMatches(view: string | undefined, views: 'frontal' | readonly string[]): boolean {
  if (views === 'frontal') return viewClass(view) === 'frontal';
  const cls = viewClass(view);
  const norm = (s: string): string => s.trim().toLowerCase().replace(/\s+/g, ' ');
  const have = view === undefined ? '' : norm(view);
  return views.some((wanted) => {
    const w = norm(wanted);
    if (w === 'frontal' || w === 'lateral') return cls === w;
    return w === have;
  });
}

/** The `views` option checked: 'frontal' or a non-empty list of non-empty names. */
export function checkViews(views: unknown): 'frontal' | string[] | undefined {
  if (views === undefined) return undefined;
  if (views === 'frontal') return 'frontal';
  if (Array.isArray(views) && views.length > 0 && views.every((v) => typeof v === 'string' && v.trim() !== '')) return views as string[];
  throw new ImportError(`views must be 'frontal' or a non-empty list of view names (e.g. ['PA', 'AP']), got ${JSON.stringify(views)}`, {
    views,
  });
}
