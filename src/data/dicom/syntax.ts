/** Transfer syntax UIDs radlearn knows (PS3.6 Annex A). */
export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLossless: '1.2.840.10008.1.2.4.57',
  JpegLosslessSV1: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsNearLossless: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  RleLossless: '1.2.840.10008.1.2.5',
} as const;

export type TransferSyntaxUID = (typeof TransferSyntax)[keyof typeof TransferSyntax];

export const TRANSFER_SYNTAX_NAMES: Record<string, string> = {
  [TransferSyntax.ImplicitVRLittleEndian]: 'Implicit VR Little Endian',
  [TransferSyntax.ExplicitVRLittleEndian]: 'Explicit VR Little Endian',
  [TransferSyntax.DeflatedExplicitVRLittleEndian]: 'Deflated Explicit VR Little Endian',
  [TransferSyntax.ExplicitVRBigEndian]: 'Explicit VR Big Endian',
  [TransferSyntax.JpegBaseline]: 'JPEG Baseline (Process 1)',
  [TransferSyntax.JpegExtended]: 'JPEG Extended (Process 2 & 4)',
  [TransferSyntax.JpegLossless]: 'JPEG Lossless, Non-Hierarchical (Process 14)',
  [TransferSyntax.JpegLosslessSV1]: 'JPEG Lossless, Process 14, Selection Value 1',
  [TransferSyntax.JpegLsLossless]: 'JPEG-LS Lossless',
  [TransferSyntax.JpegLsNearLossless]: 'JPEG-LS Near-Lossless',
  [TransferSyntax.Jpeg2000Lossless]: 'JPEG 2000 Lossless',
  [TransferSyntax.Jpeg2000]: 'JPEG 2000',
  [TransferSyntax.RleLossless]: 'RLE Lossless',
};

export function transferSyntaxName(uid: string): string {
  return TRANSFER_SYNTAX_NAMES[uid] ?? `unknown transfer syntax ${uid}`;
}

export function isEncapsulatedSyntax(uid: string): boolean {
  return (
    uid !== TransferSyntax.ImplicitVRLittleEndian &&
    uid !== TransferSyntax.ExplicitVRLittleEndian &&
    uid !== TransferSyntax.DeflatedExplicitVRLittleEndian &&
    uid !== TransferSyntax.ExplicitVRBigEndian
  );
}
