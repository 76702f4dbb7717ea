/**
 * Report text from one or more columns. Several columns are joined as titled sections
 * ("FINDINGS: ...\n\nIMPRESSION: ...", the title being the column name in capitals) so the report
 * parser sees which part is which: a `history` or `indication` column is then skipped by the
 * labeler like the indication section of a full report. One column is taken as it is.
 */

/** The section title a column's text is written under: `clinical_notes` → `CLINICAL NOTES`. */
export function sectionTitle(column: string): string {
  return column
    .replace(/[_.\-\s]+/g, ' ')
    .trim()
    .toUpperCase();
}

/** The report of one row: one column's text as is, several as titled sections (blank ones left out). */
export function joinReportColumns(parts: ReadonlyArray<{ column: string; text: string }>): string {
  if (parts.length === 1) return (parts[0] as { text: string }).text;
  return parts
    .map(({ column, text }) => (text.trim() === '' ? '' : `${sectionTitle(column)}: ${text.trim()}`))
    .filter(Boolean)
    .join('\n\n');
}
