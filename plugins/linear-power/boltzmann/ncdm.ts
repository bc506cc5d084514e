/**
 * Momentum sampling of the massive-neutrino (ncdm) phase-space perturbations (Ma & Bertschinger 1995, "MB95",
 * sec. 3.3; Lesgourgues & Tram 2011, JCAP 09 032, "LT11", sec. 2).
 *
 * The perturbation Psi(q) of the relativistic Fermi-Dirac distribution f0(q) = 1/(e^q + 1) is followed on a few
 * comoving momenta q_i (in units of k_B T_ncdm), and every momentum integral of the hierarchy is the quadrature
 *
 *   Integral_0^inf q^2 f0(q) g(q) dq / I_3  ~=  sum_i w_i g(q_i),     I_3 = Integral q^3 f0 dq = 7 pi^4 / 120,
 *
 * here Gauss-Laguerre (weight e^-q) on h(q) = q^2 g(q) / (1 + e^-q): the nodes sit where f0 q^2 lives and the
 * rule is exact for g polynomial of degree < 2n - 2 in the e^-q-tempered sense. The weights are normalised by
 * the rule's own I_3 (sum_i w_i q_i = 1 exactly), so that the massless limit of every density is exact and
 * delta_ncdm = sum w eps Psi_0 / sum w eps is the rule's own ratio.
 *
 * dln f0 / dln q = -q / (1 + e^-q)  (MB95 eq. 56's source factor).
 */

/**
 * Gauss-Laguerre nodes and weights (weight e^-x on [0, inf)) by Golub & Welsch (1969): the nodes are the eigenvalues
 * of the symmetric tridiagonal Jacobi matrix of the Laguerre recurrence (diagonal 2i + 1, off-diagonal i), the
 * weights mu_0 v_0^2 from the first components of its unit eigenvectors (mu_0 = Integral e^-x dx = 1). The
 * eigenproblem (n of order 10) by cyclic Jacobi rotations (Golub & Van Loan, sec. 8.5), here rather than through a
 * matrix package because the Boltzmann worker threads load this module from a bare copy of the compiled plugins.
 */
export function gaussLaguerre(n: number): { x: Float64Array; w: Float64Array } {
  const A = new Float64Array(n * n), V = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    A[i * n + i] = 2 * i + 1;
    if (i > 0) A[i * n + i - 1] = A[(i - 1) * n + i] = i;
    V[i * n + i] = 1;
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += A[p * n + q] ** 2;
    if (off < 1e-30) break;
    for (let p = 0; p < n; p++)
      for (let q = p + 1; q < n; q++) {
        const apq = A[p * n + q];
        if (apq === 0) continue;
        // the rotation that zeroes A[p, q]: t = tan(theta), the smaller root of t^2 + 2 tau t - 1 = 0
        const tau = (A[q * n + q] - A[p * n + p]) / (2 * apq);
        const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
        const c = 1 / Math.sqrt(1 + t * t), sn = t * c;
        for (let k = 0; k < n; k++) { // A <- A J (columns p, q)
          const akp = A[k * n + p], akq = A[k * n + q];
          A[k * n + p] = c * akp - sn * akq;
          A[k * n + q] = sn * akp + c * akq;
        }
        for (let k = 0; k < n; k++) { // A <- J^T A (rows p, q)
          const apk = A[p * n + k], aqk = A[q * n + k];
          A[p * n + k] = c * apk - sn * aqk;
          A[q * n + k] = sn * apk + c * aqk;
        }
        for (let k = 0; k < n; k++) { // V <- V J
          const vkp = V[k * n + p], vkq = V[k * n + q];
          V[k * n + p] = c * vkp - sn * vkq;
          V[k * n + q] = sn * vkp + c * vkq;
        }
      }
  }
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => A[a * n + a] - A[b * n + b]);
  const x = new Float64Array(n), w = new Float64Array(n);
  order.forEach((col, i) => {
    x[i] = A[col * n + col];
    w[i] = V[col] ** 2; // V's columns are orthonormal: v_0^2 = V[0, col]^2
  });
  return { x, w };
}

/** The momentum bins of the ncdm hierarchy. */
export interface NcdmMomenta {
  /** q_i [k_B T_ncdm] */
  q: Float64Array;
  /** w_i: quadrature weights of q^2 f0 / I_3 (sum w q = 1) */
  w: Float64Array;
  /** dln f0 / dln q at q_i */
  dlnf0: Float64Array;
}

export function ncdmMomenta(n: number): NcdmMomenta {
  const { x, w: W } = gaussLaguerre(n);
  const q = Float64Array.from(x);
  const w = new Float64Array(n), dlnf0 = new Float64Array(n);
  let I3 = 0;
  for (let i = 0; i < n; i++) {
    const t = 1 / (1 + Math.exp(-q[i])); // e^q f0
    w[i] = W[i] * q[i] * q[i] * t;
    I3 += w[i] * q[i];
    dlnf0[i] = -q[i] * t;
  }
  for (let i = 0; i < n; i++) w[i] /= I3;
  return { q, w, dlnf0 };
}
