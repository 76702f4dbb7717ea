/**
 * report.html: the report.md text rendered by `marked` (GitHub-flavoured tables), its SVG figures
 * embedded so the one file can be mailed or archived, and a gallery of the classifier's most
 * confident errors per label. Raw HTML inside the markdown (label names and paths come from the
 * user's manifest) is escaped, never passed through.
 */
import { Marked } from 'marked';

/** One thumbnail of the gallery: a PNG of the pixels the model saw, and what to say under it. */
export interface ReportCase {
  png: Uint8Array;
  /** e.g. the study id and patient id. */
  caption: string;
  probability: number;
}

export interface LabelErrorCases {
  label: string;
  /** The decision threshold the errors are counted against; null when there was none. */
  threshold: number | null;
  falsePositives: ReportCase[];
  falseNegatives: ReportCase[];
}

export interface ErrorCaseGallery {
  /** Which evaluation's scores (e.g. the exported classifier's arm). */
  arm: string;
  labels: LabelErrorCases[];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const markdown = new Marked({ gfm: true, renderer: { html: ({ text }) => escapeHtml(text) } });

const STYLE = `
body { font: 14px/1.45 system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #1b1b1b; }
table { border-collapse: collapse; margin: 1em 0; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #c8c8c8; padding: 3px 8px; text-align: left; }
th { background: #f0f0f0; }
img.figure { max-width: 100%; display: block; margin: 1em 0; }
.cases { display: flex; flex-wrap: wrap; gap: 10px; margin: 0.4em 0 1.2em; }
figure.case { margin: 0; width: 128px; font-size: 11px; }
figure.case img { width: 128px; height: 128px; image-rendering: pixelated; background: #000; display: block; }
figure.case figcaption { overflow-wrap: anywhere; }
`;

function dataUri(mime: string, bytes: Uint8Array | string): string {
  return `data:${mime};base64,${Buffer.from(bytes).toString('base64')}`;
}

function caseFigure(c: ReportCase): string {
  const p = Number.isFinite(c.probability) ? c.probability.toFixed(3) : 'n/a';
  const alt = `${c.caption}, p = ${p}`;
  return `<figure class="case"><img alt="${escapeHtml(alt)}" src="${dataUri('image/png', c.png)}"><figcaption>${escapeHtml(c.caption)}<br>p = ${p}</figcaption></figure>`;
}

function gallerySection(gallery: ErrorCaseGallery): string {
  const parts = [
    '<h2>Most confident errors</h2>',
    `<p>Per label, the test cases ${escapeHtml(gallery.arm)} got most confidently wrong: false positives (negatives scored highest) and false negatives (positives scored lowest), shown as the model saw them.</p>`,
  ];
  for (const l of gallery.labels) {
    const against =
      l.threshold === null
        ? 'no threshold (the highest-scored negatives and lowest-scored positives)'
        : `threshold ${l.threshold.toFixed(3)}`;
    parts.push(`<h3>${escapeHtml(l.label)}</h3>`, `<p>Against ${against}.</p>`);
    for (const [title, cases] of [
      ['False positives', l.falsePositives],
      ['False negatives', l.falseNegatives],
    ] as const) {
      parts.push(`<h4>${title} (${cases.length})</h4>`);
      parts.push(cases.length === 0 ? '<p>None.</p>' : `<div class="cases">${cases.map(caseFigure).join('')}</div>`);
    }
  }
  return parts.join('\n');
}

/**
 * The HTML page for a report's markdown. `figures` maps a figure's file name as report.md links it
 * (e.g. roc-curves.svg) to its SVG text, which replaces the link with an embedded image.
 */
export function renderReportHtml(
  title: string,
  reportMarkdown: string,
  figures: Record<string, string>,
  gallery?: ErrorCaseGallery,
): string {
  let body = markdown.parse(reportMarkdown, { async: false });
  for (const [file, svg] of Object.entries(figures)) {
    const link = `src="${escapeHtml(file)}"`;
    body = body.split(link).join(`class="figure" src="${dataUri('image/svg+xml', svg)}"`);
  }
  return [
    '<!doctype html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head>',
    '<body>',
    body,
    gallery && gallery.labels.length > 0 ? gallerySection(gallery) : '',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
