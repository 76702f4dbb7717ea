/** Learning rate at 0-based step `step` of `total`: linear warmup, then cosine decay to minRatio * lr. */
export function cosineLr(step: number, total: number, lr: number, warmup: number, minRatio: number): number {
  if (warmup > 0 && step < warmup) return (lr * (step + 1)) / warmup;
  const span = Math.max(1, total - warmup);
  const progress = Math.min(1, Math.max(0, (step - warmup) / span));
  return lr * (minRatio + (1 - minRatio) * 0.5 * (1 + Math.cos(Math.PI * progress)));
}
