// The cornerstone WASM codecs ship no usable TypeScript types. Each `wasmjs`
// export is an Emscripten factory; the classes below are what radlearn calls.
declare module '@cornerstonejs/codec-common' {
  export interface CodecFrameInfo {
    width: number;
    height: number;
    bitsPerSample: number;
    componentCount: number;
    isSigned?: boolean;
  }
  export interface CodecDecoder {
    getEncodedBuffer(length: number): Uint8Array;
    getDecodedBuffer(): Uint8Array;
    decode(): void;
    getFrameInfo(): CodecFrameInfo;
    delete(): void;
  }
  export interface CodecEncoder {
    getDecodedBuffer(frameInfo: CodecFrameInfo): Uint8Array;
    getEncodedBuffer(): Uint8Array;
    encode(): void;
    delete(): void;
  }
  export interface EmscriptenOptions {
    print(text: string): void;
    printErr(text: string): void;
  }
}

declare module '@cornerstonejs/codec-openjpeg/wasmjs' {
  import type { CodecDecoder, CodecEncoder, EmscriptenOptions } from '@cornerstonejs/codec-common';
  export interface J2KEncoder extends CodecEncoder {
    setDecompositions(n: number): void;
    setQuality(lossless: boolean, layers: number): void;
    setCompressionRatio(layer: number, ratio: number): void;
  }
  export interface OpenJpegModule {
    J2KDecoder: new () => CodecDecoder;
    J2KEncoder: new () => J2KEncoder;
  }
  const factory: (options?: EmscriptenOptions) => Promise<OpenJpegModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-charls/wasmjs' {
  import type { CodecDecoder, CodecEncoder, EmscriptenOptions } from '@cornerstonejs/codec-common';
  export interface JpegLSDecoder extends CodecDecoder {
    getInterleaveMode(): number;
    getNearLossless(): number;
  }
  export interface JpegLSEncoder extends CodecEncoder {
    setNearLossless(n: number): void;
    setInterleaveMode(m: number): void;
  }
  export interface CharlsModule {
    JpegLSDecoder: new () => JpegLSDecoder;
    JpegLSEncoder: new () => JpegLSEncoder;
  }
  const factory: (options?: EmscriptenOptions) => Promise<CharlsModule>;
  export default factory;
}

declare module '@cornerstonejs/codec-libjpeg-turbo-8bit/wasmjs' {
  import type { CodecDecoder, CodecEncoder, EmscriptenOptions } from '@cornerstonejs/codec-common';
  export interface JPEGEncoder extends CodecEncoder {
    setQuality(q: number): void;
    setProgressive(p: boolean): void;
  }
  export interface LibJpegTurboModule {
    JPEGDecoder: new () => CodecDecoder;
    JPEGEncoder: new () => JPEGEncoder;
  }
  const factory: (options?: EmscriptenOptions) => Promise<LibJpegTurboModule>;
  export default factory;
}
