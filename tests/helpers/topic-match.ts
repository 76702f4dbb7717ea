/** Recovery of planted topics: mean cosine between true and fitted topics over the best one-to-one matching. */

function cosine(a: ArrayLike<number>, ao: number, b: ArrayLike<number>, bo: number, n: number): number {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += a[ao + i]! * b[bo + i]!;
    aa += a[ao + i]! ** 2;
    bb += b[bo + i]! ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** Both [K, V] row-major; exact maximum-weight matching by dynamic programming over subsets (K <= 16). */
export function matchedTopicCosine(truth: ArrayLike<number>, fitted: ArrayLike<number>, k: number): number {
  const V = truth.length / k;
  const cos = Array.from({ length: k }, (_, i) => Array.from({ length: k }, (_, j) => cosine(truth, i * V, fitted, j * V, V)));
  // best[mask]: the largest sum matching truth rows 0..popcount(mask)-1 to the fitted rows in mask
  const best = new Float64Array(1 << k).fill(-Infinity);
  best[0] = 0;
  for (let mask = 0; mask < 1 << k; mask++) {
    if (best[mask] === -Infinity) continue;
    let row = 0;
    for (let m = mask; m; m &= m - 1) row++;
    if (row === k) continue;
    for (let j = 0; j < k; j++) {
      if (mask & (1 << j)) continue;
      const next = mask | (1 << j);
      best[next] = Math.max(best[next]!, best[mask]! + cos[row]![j]!);
    }
  }
  return best[(1 << k) - 1]! / k;
}
