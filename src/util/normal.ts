/**
 * The standard normal quantile Φ⁻¹(p), by Acklam's rational approximation (relative error < 1.2·10⁻⁹ over
 * (0, 1); P. J. Acklam, "An algorithm for computing the inverse normal cumulative distribution function",
 * 2003). `upper` gives the point with upper-tail probability `upper` instead, without the cancellation of
 * 1 − p near 1.
 */
export function normalQuantile(p: number, upper = 1 - p): number {
  if (!(p > 0) || !(upper > 0)) return p <= 0 ? -Infinity : Infinity;
  const lowTail = Math.min(p, upper);
  let z: number;
  if (lowTail < P_LOW) {
    const q = Math.sqrt(-2 * Math.log(lowTail));
    z = (((((C[0]! * q + C[1]!) * q + C[2]!) * q + C[3]!) * q + C[4]!) * q + C[5]!) / ((((D[0]! * q + D[1]!) * q + D[2]!) * q + D[3]!) * q + 1);
    return p < upper ? z : -z;
  }
  const q = p - 0.5;
  const r = q * q;
  z = ((((((A[0]! * r + A[1]!) * r + A[2]!) * r + A[3]!) * r + A[4]!) * r + A[5]!) * q) / (((((B[0]! * r + B[1]!) * r + B[2]!) * r + B[3]!) * r + B[4]!) * r + 1);
  return z;
}

/**
 * The maximum of `k` independent standard normals, drawn from `u` ~ U(0, 1) by its order statistic: the
 * maximum's CDF is Φ(z)^k, so z = Φ⁻¹(u^(1/k)) — one draw for any k, exact in distribution.
 */
export function maxOfNormals(k: number, u: number): number {
  const logP = Math.log(Math.max(u, Number.MIN_VALUE)) / k;
  return normalQuantile(Math.exp(logP), -Math.expm1(logP));
}

// Acklam's coefficients (ibid.).
const A = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const B = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const C = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const D = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];
const P_LOW = 0.02425;
