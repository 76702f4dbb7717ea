/**
 * splitmix32: a stream of well-mixed 32-bit words from one 32-bit state (the golden-ratio
 * counter through the murmur3 finaliser). It seeds the other generators' state words, so
 * nearby seeds give unrelated streams.
 */
export function splitmix32(state: number): () => number {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}
