/**
 * Report texts shaped to find superlinear paths in the text pipeline: one clause with a huge
 * comma list, runs of cue words, runs of the words a regex repeats, terminator runs with no
 * space after, enumerations, headers, text with no spaces at all. Each builder returns a
 * text of about n characters.
 */
const FINDINGS = [
  'effusion',
  'pneumothorax',
  'atelectasis',
  'consolidation',
  'nodule',
  'edema',
  'pneumonia',
  'opacity',
  'fracture',
  'cardiomegaly',
  'pacemaker',
];
const FILLER = ['spine', 'clavicle', 'rib', 'diaphragm', 'trachea', 'aorta', 'hilum', 'carina'];
const NORMAL_SENTENCES = [
  'No pleural effusion or pneumothorax.',
  'The heart is mildly enlarged.',
  'Possible small left lower lobe opacity.',
  'ET tube terminates 4 cm above the carina.',
  'No focal consolidation to suggest pneumonia.',
  'The lungs are clear.',
];

/** Repeats unit(i) until the text is n characters long. */
function repeat(n: number, unit: (i: number) => string, prefix = '', suffix = ''): string {
  const parts = [prefix];
  let length = prefix.length + suffix.length;
  for (let i = 0; length < n; i++) {
    const part = unit(i);
    parts.push(part);
    length += part.length;
  }
  parts.push(suffix);
  return parts.join('');
}

const listWord = (i: number): string => (i % 3 === 2 ? FILLER[i % FILLER.length] : FINDINGS[i % FINDINGS.length]) as string;

/** Ordinary report prose: the per-character cost every hostile shape is compared with. */
export const normalReport = (n: number): string => repeat(n, (i) => `${NORMAL_SENTENCES[i % NORMAL_SENTENCES.length]} `, 'FINDINGS: ');

export const HOSTILE_SHAPES: Record<string, (n: number) => string> = {
  'one negated comma list': (n) => repeat(n, (i) => `${listWord(i)}, `, 'No ', 'or effusion.'),
  'one hedged comma list': (n) => repeat(n, (i) => `${listWord(i)}, `, 'Possible ', 'effusion.'),
  'comma list without spaces': (n) => repeat(n, (i) => `no,${listWord(i)},`),
  'mentions in one clause, far from the negation': (n) => repeat(n, (i) => `${listWord(i)} `, 'no '),
  'mentions joined by zero-width spaces': (n) => repeat(n, (i) => `${listWord(i)}\u200b`, 'no '),
  'mentions then a run of "with"': (n) => repeat(n, (i) => (i * 12 < n ? 'effusion ' : 'with '), '', 'absent'),
  'mentions then a run of "to suggest"': (n) => repeat(n, (i) => (i * 20 < n ? 'effusion ' : 'to suggest '), '', 'absent'),
  'run of laterality words': (n) => repeat(n, (i) => (i % 2 ? 'right ' : 'the ')),
  'organ then a run of linking words': (n) => repeat(n, () => ' is', 'The heart', ' enlarged.'),
  'run of negations': (n) => repeat(n, () => 'no ', '', 'effusion'),
  'semicolon clauses': (n) => repeat(n, (i) => `${listWord(i)}; `, 'no '),
  'periods with no space after': (n) => `${'.'.repeat(n)}x`,
  'exclamation marks with no space after': (n) => `${'!'.repeat(n)}x`,
  'terminators then closers': (n) => `${'.'.repeat(n / 2)}${'"'.repeat(n / 2)}x`,
  abbreviations: (n) => repeat(n, () => 'Dr. ', 'X '),
  'inline enumeration': (n) => repeat(n, (i) => `${(i % 99) + 1}. Effusion `),
  'enumeration lines': (n) => repeat(n, () => '1.\n'),
  'repeated headers': (n) => repeat(n, (i) => `${['FINDINGS', 'IMPRESSION', 'WET READ'][i % 3]}: effusion\n`),
  'inline capital headers': (n) => repeat(n, (i) => `${['FINDINGS', 'IMPRESSION', 'INDICATION'][i % 3]}: effusion. `),
  'all-caps lines': (n) => repeat(n, () => 'ABCD EFGH IJKL\n'),
  'one long word': (n) => 'a'.repeat(n),
  'CRLF only': (n) => '\r\n'.repeat(n / 2),
};
