// dcmjs ships no usable TypeScript types; this covers the part radlearn uses.
declare module 'dcmjs' {
  interface DicomDictInstance {
    meta: Record<string, unknown>;
    dict: Record<string, unknown>;
    write(options?: { allowInvalidVRLength?: boolean; fragmentMultiframe?: boolean }): ArrayBuffer;
  }
  interface DcmjsData {
    DicomDict: new (meta: Record<string, unknown>) => DicomDictInstance;
    DicomMetaDictionary: {
      denaturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      naturalizeDataset(dataset: Record<string, unknown>): Record<string, unknown>;
      uid(): string;
    };
    DicomMessage: {
      readFile(buffer: ArrayBuffer, options?: Record<string, unknown>): DicomDictInstance;
    };
  }
  const dcmjs: { data: DcmjsData; log: { setLevel?(level: string): void } };
  export default dcmjs;
}
