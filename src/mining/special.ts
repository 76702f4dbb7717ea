/**
 * The digamma and log-gamma functions variational LDA needs (E[log θ] = ψ(γ_k) − ψ(Σγ), and the
 * Dirichlet normalisers of the bound), for positive arguments, to about 1e-13 relative.
 */

/** ψ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x up to x >= 6, then the asymptotic series. */
export function digamma(x: number): number {
  let shift = 0;
  while (x < 6) {
    shift -= 1 / x;
    x += 1;
  }
  const f = 1 / (x * x);
  // ln x − 1/(2x) − Σ B_2n / (2n x^2n)
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12))))));
  return shift + Math.log(x) - 0.5 / x - series;
}

const HALF_LOG_TWO_PI = 0.5 * Math.log(2 * Math.PI);

/** ln Γ(x) for x > 0: Stirling's series at x >= 10, shifted down by ln Γ(x) = ln Γ(x + n) − ln(x (x+1) ... (x+n−1)). */
export function logGamma(x: number): number {
  let product = 1;
  while (x < 10) {
    product *= x;
    x += 1;
  }
  const inv = 1 / x;
  const inv2 = inv * inv;
  const series = inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))));
  return (x - 0.5) * Math.log(x) - x + HALF_LOG_TWO_PI + series - Math.log(product);
}

/**
 * exp(ψ(x)) for x > 0 with one exp and one division, the E-step's hot path:
 * exp(ψ(x)) = y · exp(−1/(2y) − series(y) − Σ_{i<n} 1/(x+i)) with y = x + n >= 6, the sum of
 * reciprocals accumulated as one fraction.
 */
export function expDigamma(x: number): number {
  let num = 0;
  let den = 1;
  while (x < 6) {
    // num/den + 1/x = (num·x + den) / (den·x)
    num = num * x + den;
    den *= x;
    x += 1;
  }
  const f = 1 / (x * x);
  const series = f * (1 / 12 - f * (1 / 120 - f * (1 / 252 - f * (1 / 240 - f * (1 / 132 - f * (691 / 32760 - f / 12))))));
  return x * Math.exp(-0.5 / x - series - num / den);
}
