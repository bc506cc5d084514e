/**
 * The transpose of the perturbation equations (equations.ts): f = A(x) y is linear in the state, and
 * transposeRhs writes A(x)^T lam without forming A — the statements of PerturbationRhs.evaluate in reverse
 * order, each linear statement v = sum c_j u_j turned into ubar_j += c_j vbar (reverse-mode differentiation with
 * respect to y of a function linear in y). One call costs about one evaluation of f; the n-column Jacobian it
 * replaces costs n. The background and thermal quantities of the point are those of f (no s, no nudge).
 *
 * Names follow equations.ts; a trailing `b` is the cotangent of the quantity (hPb = d(lam . f)/d h').
 *
 * With `reads` (a state y), the same sweep also gives the cotangents of the point's background and thermal
 * quantities, d(lam . f(y))/d(field) for the fields of equations.ts Point (point-transpose.ts PB_*): f is linear in
 * y, so the cotangent of every intermediate (h', eta', delta rho, the slip, ...) is the one the transpose already
 * forms, and each statement v = c(point) u adds (dc/d field) u vbar, u the forward value of the state-linear
 * intermediate (from one evaluation of f, equations.ts `derived`). The 1/aH of step 7 adds -lam . f / aH to aH's.
 * The 15 read scalars' cotangents then follow by point-transpose.ts: the exact replacement of the central
 * differences of adjoint-reads.ts (nudgeBars), at about the cost of two evaluations of f.
 */
import type { Derived, PerturbationRhs, Point } from './equations.js';
import {
  PB_AH, PB_AHP, PB_CB2, PB_CB2P, PB_KAP, PB_KP, PB_MA, PB_PNC, PB_RB, PB_RC, PB_RDE, PB_RG, PB_RN, PB_RNC, PB_RREL, PB_TAU, PB_W,
} from './point-transpose.js';

/**
 * The state and work of the point-field sweep: y (input), f = f(y) (length n), pb (output, PB_COUNT). With known,
 * p, d and f are already the point, the derived quantities and f(y) of an evaluation at (x, y) (kept from the
 * forward stage: no re-evaluation); else f is scratch and they are computed here.
 */
export interface ReadsSweep {
  y: Float64Array;
  f: Float64Array;
  pb: Float64Array;
  known: boolean;
  p: Point | null;
  d: Derived | null;
}

/**
 * out = A(x)^T lam (overwrite); eps: scratch of the massive-neutrino bins (length L.nq); with rd, also
 * rd.pb = d(lam . f(rd.y))/d(point fields) (overwrite; see the file comment). Returns the point (rhs.point(x, null),
 * valid until the next evaluation of rhs).
 */
export function transposeRhs(
  rhs: PerturbationRhs, x: number, lam: Float64Array, out: Float64Array, eps: Float64Array, rd: ReadsSweep | null = null,
): Point {
  const known = rd !== null && rd.known;
  const L = rhs.L, S = rhs.setup, p = known ? rd.p! : rhs.point(x, null);
  const k = rhs.k, k2 = rhs.k2;
  const aH = p.aH, kap = p.kappa, tauC = 1 / kap;
  const R = (4 * p.rg) / (3 * p.rb);
  const { tca, ufa, rsa } = rhs.flags;
  out.fill(0);
  const inv = 1 / aH;
  // lam_i inv = mu_i, the cotangent of dy_i before the final 1/aH (equations.ts step 7)
  let hPb = 0, etaPb = 0, tbb = 0, dbb = 0, etab = 0, dgb = 0, dnb = 0, tnb = 0, tgb = 0;
  // the point-field sweep: the forward values (one evaluation of f at this point), the fields' cotangents
  const P = rd !== null;
  const y = P ? rd.y : lam;
  let aHb = 0;
  if (P) {
    if (!known) rhs.evaluate(p, y, rd.f);
    let lf = 0;
    const fv = rd.f;
    for (let i = 0; i < L.n; i++) lf += lam[i] * fv[i];
    aHb = -lf / aH;
  }
  const D = known ? rd.d! : rhs.derived;
  const hP = D.hPrime, etaP = D.etaPrime, tgF = D.thetaG;
  const tb = y[L.tb], db = y[L.db], eta = y[L.eta];
  let aHpb = 0, rbb = 0, rcb = 0, rgb = 0, rnb = 0, rdeb = 0, wb = 0, kapb = 0, kpb = 0, cb2b = 0, cb2pb = 0, taub = 0;
  let mab = 0, rrelb = 0, rncb = 0, pncb = 0, Rb = 0, tauCb = 0, c1b = 0, rpb = 0;
  const NC = S.ncdm;
  if (NC) {
    const ma2 = p.ma * p.ma;
    for (let i = 0; i < L.nq; i++) eps[i] = Math.sqrt(NC.q[i] * NC.q[i] + ma2);
  }

  // 6b. massive neutrinos
  if (NC) {
    const nc = L.nc;
    if (L.ncFluid) {
      const w = p.pnc / p.rnc;
      let s2 = 0, s4 = 0;
      for (let i = 0; i < L.nq; i++) {
        const q2 = NC.q[i] * NC.q[i], e = eps[i];
        s2 += (NC.w[i] * q2) / e;
        s4 += (NC.w[i] * q2 * q2) / (e * e * e);
      }
      const ppOverP = s4 / s2;
      const ca2 = (w / (3 * (1 + w))) * (5 - ppOverP);
      const cvis2 = 3 * w * ca2;
      const c8 = ((8 / 3) * cvis2) / (1 + w);
      const m0 = lam[nc] * inv, m1 = lam[nc + 1] * inv, m2 = lam[nc + 2] * inv;
      out[nc] += -3 * aH * (ca2 - w) * m0 + (ca2 / (1 + w)) * k2 * m1;
      out[nc + 1] += -(1 + w) * m0 - aH * (1 - 3 * ca2) * m1 + c8 * m2;
      out[nc + 2] += -k2 * m1 - 3 * (aH * (2 / 3 - ca2 - ppOverP / 3) + 1 / p.tau) * m2;
      hPb += -0.5 * (1 + w) * m0 + 0.5 * c8 * m2;
      if (P) {
        // equations.ts 6b (LT11 eqs. 3.5-3.7) at fixed (delta, theta, sigma): the cotangents of w = p/rho,
        // c_a^2 = w (5 - pp)/(3 (1 + w)), c8 = (8/3) c_vis^2/(1 + w) = 8 w c_a^2/(1 + w), pp = pseudo_p/p = s4/s2
        const d0 = y[nc], th = y[nc + 1], sg = y[nc + 2], thh = th + 0.5 * hP, w1 = 1 + w;
        let wnb = (-thh + 3 * aH * d0) * m0 - ((ca2 * k2 * d0) / (w1 * w1)) * m1;
        let ca2b = -3 * aH * d0 * m0 + (3 * aH * th + (k2 * d0) / w1) * m1 + 3 * aH * sg * m2;
        let ppb = aH * sg * m2;
        aHb += -3 * (ca2 - w) * d0 * m0 - (1 - 3 * ca2) * th * m1 - 3 * (2 / 3 - ca2 - ppOverP / 3) * sg * m2;
        taub += (3 * sg * m2) / (p.tau * p.tau);
        const c8b = thh * m2;
        ca2b += ((8 * w) / w1) * c8b;
        wnb += ((8 * ca2) / (w1 * w1)) * c8b;
        wnb += ((5 - ppOverP) / (3 * w1 * w1)) * ca2b;
        ppb += (-w / (3 * w1)) * ca2b;
        pncb += wnb / p.rnc;
        rncb += (-w / p.rnc) * wnb;
        // ds2/d(M0 a) = -ma sum w q^2/eps^3, ds4/d(M0 a) = -3 ma sum w q^4/eps^5
        let t2 = 0, t4 = 0;
        for (let i = 0; i < L.nq; i++) {
          const q2 = NC.q[i] * NC.q[i], e = eps[i], e3 = e * e * e;
          t2 += (NC.w[i] * q2) / e3;
          t4 += (NC.w[i] * q2 * q2) / (e3 * e * e);
        }
        mab += (ppb / s2) * (-3 * p.ma * t4) + ((-ppOverP / s2) * ppb) * (-p.ma * t2);
      }
    } else {
      const Lc = L.Lnc, stride = Lc + 1, itau = 1 / p.tau;
      let src2b = 0;
      for (let i = 0; i < L.nq; i++) {
        const o = nc + i * stride;
        const qk = (NC.q[i] * k) / eps[i], dl = NC.dlnf0[i];
        const m0 = lam[o] * inv, m1 = lam[o + 1] * inv, m2 = lam[o + 2] * inv;
        out[o + 1] += -qk * m0;
        hPb += (dl / 6) * m0;
        out[o] += (qk / 3) * m1;
        out[o + 2] += ((-2 * qk) / 3) * m1;
        out[o + 1] += ((2 * qk) / 5) * m2;
        out[o + 3] += ((-3 * qk) / 5) * m2;
        src2b += -dl * m2;
        for (let l = 3; l < Lc; l++) {
          const ml = lam[o + l] * inv;
          out[o + l - 1] += ((qk * l) / (2 * l + 1)) * ml;
          out[o + l + 1] += ((-qk * (l + 1)) / (2 * l + 1)) * ml;
        }
        const mL = lam[o + Lc] * inv;
        out[o + Lc - 1] += qk * mL;
        out[o + Lc] += -(Lc + 1) * itau * mL;
        if (P) {
          // qk = q k/eps(M0 a), d qk/d ma = -qk ma/eps^2; truncation -(L+1)/tau Psi_L
          let qkb = -y[o + 1] * m0 + ((y[o] - 2 * y[o + 2]) / 3) * m1 + ((2 * y[o + 1] - 3 * y[o + 3]) / 5) * m2 + y[o + Lc - 1] * mL;
          for (let l = 3; l < Lc; l++) qkb += ((l * y[o + l - 1] - (l + 1) * y[o + l + 1]) / (2 * l + 1)) * (lam[o + l] * inv);
          mab += (qkb * -qk * p.ma) / (eps[i] * eps[i]);
          taub += (Lc + 1) * itau * itau * y[o + Lc] * mL;
        }
      }
      // src2 = h'/15 + (2/5) eta'
      hPb += src2b / 15;
      etaPb += 0.4 * src2b;
    }
  }

  // 6. massless neutrinos
  if (!rsa) {
    const mdn = lam[L.dn] * inv, mtn = lam[L.tn] * inv;
    tnb += (-4 / 3) * mdn;
    hPb += (-2 / 3) * mdn;
    dnb += (k2 / 4) * mtn;
    if (ufa) {
      const msn = lam[L.sn] * inv;
      out[L.sn] += -k2 * mtn - (3 / p.tau) * msn;
      if (P) taub += (3 * y[L.sn] * msn) / (p.tau * p.tau);
      tnb += (2 / 3) * msn;
      hPb += msn / 3;
    } else {
      const fn = L.fn, Ln = L.Ln;
      out[fn] += -0.5 * k2 * mtn;
      const mf = lam[fn] * inv;
      tnb += (8 / 15) * mf;
      out[fn + 1] += (-3 / 5) * k * mf;
      hPb += (4 / 15) * mf;
      etaPb += (8 / 5) * mf;
      for (let l = 3; l < Ln; l++) {
        const i = fn + l - 2, mi = lam[i] * inv;
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
      }
      const i = fn + Ln - 2, mi = lam[i] * inv;
      out[i - 1] += k * mi;
      out[i] += (-(Ln + 1) / p.tau) * mi;
      if (P) taub += ((Ln + 1) * y[i] * mi) / (p.tau * p.tau);
    }
  }

  // 5. photons and baryons
  const mtb = lam[L.tb] * inv;
  // tight coupling: Q (step 1) enters the slip and its derivative; its cotangent is collected here and in step 1
  let Qb = 0;
  const c1 = tauC / (1 + R);
  if (tca) {
    const mdg = lam[L.dg] * inv;
    tgb += (-4 / 3) * mdg;
    hPb += (-2 / 3) * mdg;
    const v = mtb / (1 + R);
    tbb += -aH * v;
    dbb += p.cb2 * k2 * v;
    dgb += ((R * k2) / 4) * v;
    const sigmaGb = -R * k2 * v;
    const slipPb = R * v;
    // slip' = c1 (Q' + Q cQ)
    const cQ = -p.kappaPrime / kap - (aH * R) / (1 + R);
    const Qpb = c1 * slipPb;
    Qb += c1 * cQ * slipPb;
    // Q' = -aH' tb - aH tb0 + c_b^2' k^2 db + c_b^2 k^2 db0 - k^2 dg0 / 4
    tbb += -p.aHprime * Qpb;
    const tb0b = -aH * Qpb;
    dbb += p.cb2Prime * k2 * Qpb;
    const db0b = p.cb2 * k2 * Qpb;
    const dg0b = (-k2 / 4) * Qpb;
    // dg0 = -(4/3) tb - (2/3) h';  db0 = -tb - h'/2;  tb0 = (-aH tb + c_b^2 k^2 db + R k^2 dg / 4)/(1 + R)
    tbb += (-4 / 3) * dg0b - db0b;
    hPb += (-2 / 3) * dg0b - 0.5 * db0b;
    const w0 = tb0b / (1 + R);
    tbb += -aH * w0;
    dbb += p.cb2 * k2 * w0;
    dgb += ((R * k2) / 4) * w0;
    // sigma_g = (16/45) tau_c (theta_g + h'/2 + 3 eta')
    const c16 = (16 / 45) * tauC;
    tgb += c16 * sigmaGb;
    hPb += 0.5 * c16 * sigmaGb;
    etaPb += 3 * c16 * sigmaGb;
    if (P) {
      // the point fields in the statements above (forward values recomputed from y, h', eta' as equations.ts step 5)
      const dg = y[L.dg], R1 = 1 + R;
      const Q = -aH * tb + p.cb2 * k2 * db - (k2 * dg) / 4;
      const N0 = -aH * tb + p.cb2 * k2 * db + (R * k2 * dg) / 4, tb0 = N0 / R1;
      const db0 = -tb - 0.5 * hP, dg0 = -(4 / 3) * tb - (2 / 3) * hP;
      const Qp = -p.aHprime * tb - aH * tb0 + p.cb2Prime * k2 * db + p.cb2 * k2 * db0 - (k2 * dg0) / 4;
      const slipP = c1 * (Qp + Q * cQ);
      const N = -aH * tb + p.cb2 * k2 * db + R * k2 * (dg / 4 - D.sigmaG) + R * slipP;
      // theta_b' = N/(1+R)
      aHb += -tb * v;
      cb2b += k2 * db * v;
      Rb += (k2 * (dg / 4 - D.sigmaG) + slipP - N / R1) * v;
      // slip' = c1 (Q' + Q cQ), cQ = -kappa''/kappa' - aH R/(1+R)
      c1b += (Qp + Q * cQ) * slipPb;
      const cQb = c1 * Q * slipPb;
      kpb += -cQb / kap;
      kapb += (p.kappaPrime / (kap * kap)) * cQb;
      aHb += (-R / R1) * cQb;
      Rb += (-aH / (R1 * R1)) * cQb;
      // Q', and tb0 = N0/(1+R)
      aHpb += -tb * Qpb;
      aHb += -tb0 * Qpb - tb * w0;
      cb2pb += k2 * db * Qpb;
      cb2b += k2 * db0 * Qpb + k2 * db * w0;
      Rb += ((k2 * dg) / 4 - tb0) * w0;
      tauCb += (16 / 45) * (tgF + 0.5 * hP + 3 * etaP) * sigmaGb;
    }
  } else {
    tbb += (-aH - R * kap) * mtb;
    dbb += p.cb2 * k2 * mtb;
    tgb += R * kap * mtb;
    if (P) {
      // theta_b' = -aH theta_b + c_b^2 k^2 delta_b + R kappa' (theta_g - theta_b)
      aHb += -tb * mtb;
      cb2b += k2 * db * mtb;
      Rb += kap * (tgF - tb) * mtb;
      kapb += R * (tgF - tb) * mtb;
    }
    if (!rsa) {
      const fg = L.fg, gg = L.gg, Lg = L.Lg, Lp = L.Lp, itau = 1 / p.tau;
      const mdg = lam[L.dg] * inv, mtg = lam[L.tg] * inv;
      tgb += (-4 / 3) * mdg;
      hPb += (-2 / 3) * mdg;
      dgb += (k2 / 4) * mtg;
      out[fg] += -0.5 * k2 * mtg;
      tbb += kap * mtg;
      tgb += -kap * mtg;
      const mf = lam[fg] * inv;
      tgb += (8 / 15) * mf;
      out[fg + 1] += (-3 / 5) * k * mf;
      hPb += (4 / 15) * mf;
      etaPb += (8 / 5) * mf;
      out[fg] += (-9 / 10) * kap * mf;
      out[gg] += (kap / 10) * mf;
      out[gg + 2] += (kap / 10) * mf;
      // the kappa' and 1/tau terms, for the point fields: sum of their coefficients' state factors
      let kapS = 0;
      if (P) kapS += (tb - tgF) * mtg + (-(9 / 10) * y[fg] + (y[gg] + y[gg + 2]) / 10) * mf;
      for (let l = 3; l < Lg; l++) {
        const i = fg + l - 2, mi = lam[i] * inv;
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
        out[i] += -kap * mi;
        if (P) kapS -= y[i] * mi;
      }
      {
        const i = fg + Lg - 2, mi = lam[i] * inv;
        out[i - 1] += k * mi;
        out[i] += (-(Lg + 1) * itau - kap) * mi;
        if (P) {
          kapS -= y[i] * mi;
          taub += (Lg + 1) * itau * itau * y[i] * mi;
        }
      }
      // polarisation, Pi = F_2 + G_0 + G_2
      let Pib = 0;
      const m0 = lam[gg] * inv;
      out[gg + 1] += -k * m0;
      out[gg] += -kap * m0;
      Pib += 0.5 * kap * m0;
      const Pi = P ? y[fg] + y[gg] + y[gg + 2] : 0;
      if (P) kapS += (-y[gg] + 0.5 * Pi) * m0;
      for (let l = 1; l < Lp; l++) {
        const i = gg + l, mi = lam[i] * inv;
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
        out[i] += -kap * mi;
        if (l === 2) Pib += (kap / 10) * mi;
        if (P) kapS += (-y[i] + (l === 2 ? Pi / 10 : 0)) * mi;
      }
      {
        const i = gg + Lp, mi = lam[i] * inv;
        out[i - 1] += k * mi;
        out[i] += (-(Lp + 1) * itau - kap) * mi;
        if (P) {
          kapS -= y[i] * mi;
          taub += (Lp + 1) * itau * itau * y[i] * mi;
        }
      }
      kapb += kapS;
      out[fg] += Pib;
      out[gg] += Pib;
      out[gg + 2] += Pib;
    }
  }
  // dy[eta] = eta', dy[dc] = -h'/2, dy[db] = -tb - h'/2
  etaPb += lam[L.eta] * inv;
  hPb += -0.5 * (lam[L.dc] * inv) - 0.5 * (lam[L.db] * inv);
  tbb += -(lam[L.db] * inv);

  // 4. radiation streaming: the algebraic radiation from h' (equations.ts step 4, reversed)
  if (rsa) {
    // eta' += (1.5/k^2)(4/3)(rg tg + rn tn)
    tgb += (2 / k2) * p.rg * etaPb;
    tnb += (2 / k2) * p.rn * etaPb;
    if (P) {
      // the point fields of step 4 (BLT11 eqs. 5.4-5.7), tgb and dgb complete here
      const tbh = tb + 0.5 * hP;
      rgb += (2 / k2) * tgF * etaPb;
      rnb += (2 / k2) * D.thetaN * etaPb;
      kpb += (3 / k2) * tbh * tgb;
      kapb += (3 / k2) * (-aH * tb + p.cb2 * k2 * db - aH * hP + k2 * eta) * tgb - (4 / k2) * tbh * dgb;
      aHb += (3 / k2) * kap * (-tb - hP) * tgb + (4 / k2) * hP * (dnb + dgb);
      cb2b += 3 * kap * db * tgb;
    }
    // tg = -h'/2 + (3/k^2)[kappa'' tbh + kappa' (-aH tb + c_b^2 k^2 db - aH h' + k^2 eta)]
    hPb += -0.5 * tgb - (3 / k2) * kap * aH * tgb;
    let tbhb = (3 / k2) * p.kappaPrime * tgb;
    tbb += (-3 / k2) * kap * aH * tgb;
    dbb += 3 * kap * p.cb2 * tgb;
    etab += 3 * kap * tgb;
    // dg = dn - (4/k^2) kappa' tbh
    dnb += dgb;
    tbhb += (-4 / k2) * kap * dgb;
    // tbh = tb + h'/2; tn = -h'/2; dn = (4/k^2)(aH h' - k^2 eta)
    tbb += tbhb;
    hPb += 0.5 * tbhb - 0.5 * tnb + ((4 * aH) / k2) * dnb;
    etab += -4 * dnb;
    tgb = 0;
    dgb = 0;
    dnb = 0;
    tnb = 0;
  }

  // 3. metric: eta' = 1.5 rpTheta / k^2, h' = 2 (k^2 eta + 1.5 dRho) / aH
  let rpThetab = (1.5 / k2) * etaPb;
  let dRhob = (3 / aH) * hPb;
  etab += ((2 * k2) / aH) * hPb;
  if (P) aHb += (-hP / aH) * hPb;

  // 2. PPF dark energy (reversed)
  if (S.ppf) {
    const X = (S.ppfCGamma2 * k2) / (aH * aH);
    const active = X <= S.ppfXMax;
    let rp = p.rb + p.rc;
    if (NC) rp += p.rnc + p.pnc;
    if (!rsa) rp += (4 / 3) * (p.rg + p.rn);
    const rpDe = (1 + p.w) * p.rde;
    const cS = (rpDe * 1.5) / (k2 * aH);
    const cD = ((2 / 3) * k2 * aH) / (1 + (4.5 * rp) / k2);
    let gPb = lam[L.gam] * inv;
    // forward values of the PPF statements (equations.ts step 2), for the point fields
    let thetaT = 0, alpha = 0, SG = 0, gP = 0, gamma = 0, rpThetaDe = 0;
    if (P) {
      thetaT = D.rpThetaT / rp;
      gamma = active ? y[L.gam] : 0;
      alpha = (eta + (1.5 / k2) * (D.dRhoT + (3 * aH * D.rpThetaT) / k2) - gamma) / aH;
      SG = cS * (thetaT + k2 * alpha);
      gP = active ? aH * (SG / (1 + X) - (1 + X) * gamma) : 0;
      rpThetaDe = rpDe * thetaT - cD * (SG - gP / aH - gamma);
    }
    // rpTheta += rpThetaDe;  dRho += -(2/3) k^2 gamma - 3 aH rpThetaDe / k^2
    let rpThetaDeb = rpThetab;
    let gammab = (-2 / 3) * k2 * dRhob;
    rpThetaDeb += ((-3 * aH) / k2) * dRhob;
    if (P) aHb += ((-3 * rpThetaDe) / k2) * dRhob;
    // rpThetaDe = rpDe thetaT - cD (SG - gamma'/aH - gamma)
    let thetaTb = rpDe * rpThetaDeb;
    let SGb = -cD * rpThetaDeb;
    gPb += (cD / aH) * rpThetaDeb;
    gammab += cD * rpThetaDeb;
    let rpDeb = 0, Xb = 0;
    if (P) {
      // cD = (2/3) k^2 aH / (1 + 4.5 rp/k^2)
      const cDb = -(SG - gP / aH - gamma) * rpThetaDeb, den = 1 + (4.5 * rp) / k2;
      rpDeb += thetaT * rpThetaDeb;
      aHb += ((-cD * gP) / (aH * aH)) * rpThetaDeb + (cD / aH) * cDb;
      rpb += ((-cD * 4.5) / (k2 * den)) * cDb;
    }
    // gamma' = aH (SG/(1+X) - (1+X) gamma) while active
    if (active) {
      SGb += (aH / (1 + X)) * gPb;
      gammab += -aH * (1 + X) * gPb;
      if (P) {
        aHb += (gP / aH) * gPb;
        Xb += aH * (-SG / ((1 + X) * (1 + X)) - gamma) * gPb;
      }
    }
    // SG = cS (thetaT + k^2 alpha);  alpha = (eta + (1.5/k^2)(dRho + 3 aH rpTheta / k^2) - gamma) / aH
    thetaTb += cS * SGb;
    const alphab = cS * k2 * SGb;
    etab += alphab / aH;
    dRhob += (1.5 / k2 / aH) * alphab;
    rpThetab += ((1.5 / k2) * 3 * aH) / k2 / aH * alphab;
    gammab += -alphab / aH;
    // thetaT = rpTheta / rp
    rpThetab += thetaTb / rp;
    if (active) out[L.gam] += gammab;
    if (P) {
      // cS = 1.5 rpDe/(k^2 aH); alpha's explicit aH; thetaT's rp; rpDe = (1 + w) rho_de; X = c_Gamma^2 k^2/aH^2
      const cSb = (thetaT + k2 * alpha) * SGb;
      rpDeb += (1.5 / (k2 * aH)) * cSb;
      aHb += (-cS / aH) * cSb + (-alpha / aH + (4.5 * D.rpThetaT) / (k2 * k2 * aH)) * alphab - ((2 * X) / aH) * Xb;
      rpb += (-thetaT / rp) * thetaTb;
      wb += p.rde * rpDeb;
      rdeb += (1 + p.w) * rpDeb;
      rbb += rpb;
      rcb += rpb;
      if (NC) {
        rncb += rpb;
        pncb += rpb;
      }
      if (!rsa) {
        rgb += (4 / 3) * rpb;
        rnb += (4 / 3) * rpb;
      }
    }
  }

  // 1. sums over the non-dark-energy species, and the photon velocity
  if (!rsa) tgb += (4 / 3) * p.rg * rpThetab;
  if (tca) {
    // tg = tb - slip, slip = c1 Q, Q = -aH tb + c_b^2 k^2 db - k^2 dg / 4
    tbb += tgb;
    Qb += -c1 * tgb;
    tbb += -aH * Qb;
    dbb += p.cb2 * k2 * Qb;
    dgb += (-k2 / 4) * Qb;
    if (P) {
      c1b += -(-aH * tb + p.cb2 * k2 * db - (k2 * y[L.dg]) / 4) * tgb;
      aHb += -tb * Qb;
      cb2b += k2 * db * Qb;
    }
  } else if (!rsa) out[L.tg] += tgb;
  if (!rsa) {
    dgb += p.rg * dRhob;
    dnb += p.rn * dRhob;
    tnb += (4 / 3) * p.rn * rpThetab;
    out[L.dg] += dgb;
    out[L.dn] += dnb;
    out[L.tn] += tnb;
    if (P) {
      rgb += y[L.dg] * dRhob + (4 / 3) * tgF * rpThetab;
      rnb += y[L.dn] * dRhob + (4 / 3) * y[L.tn] * rpThetab;
    }
  }
  if (NC) {
    const nc = L.nc;
    if (L.ncFluid) {
      out[nc] += p.rnc * dRhob;
      out[nc + 1] += (p.rnc + p.pnc) * rpThetab;
      if (P) {
        rncb += y[nc] * dRhob + y[nc + 1] * rpThetab;
        pncb += y[nc + 1] * rpThetab;
      }
    } else {
      const stride = L.Lnc + 1;
      let sd = 0, st = 0, sm = 0;
      for (let i = 0; i < L.nq; i++) {
        const o = nc + i * stride;
        out[o] += p.rrel * NC.w[i] * eps[i] * dRhob;
        out[o + 1] += p.rrel * k * NC.w[i] * NC.q[i] * rpThetab;
        if (P) {
          sd += NC.w[i] * eps[i] * y[o];
          st += NC.w[i] * NC.q[i] * y[o + 1];
          sm += ((NC.w[i] * p.ma) / eps[i]) * y[o];
        }
      }
      // delta rho = rho_rel sum w eps Psi_0, (rho+p) theta = rho_rel k sum w q Psi_1 (MB95 eq. 55)
      rrelb += sd * dRhob + k * st * rpThetab;
      mab += p.rrel * sm * dRhob;
    }
  }
  out[L.dc] += p.rc * dRhob;
  out[L.db] += p.rb * dRhob + dbb;
  out[L.tb] += p.rb * rpThetab + tbb;
  out[L.eta] += etab;
  if (!P) return p;
  rcb += y[L.dc] * dRhob;
  rbb += db * dRhob + tb * rpThetab;
  // c1 = tau_c/(1+R), tau_c = 1/kappa', R = 4 rho_g/(3 rho_b)
  tauCb += c1b / (1 + R);
  Rb += (-c1 / (1 + R)) * c1b;
  kapb += -tauCb / (kap * kap);
  rgb += (4 / (3 * p.rb)) * Rb;
  rbb += (-R / p.rb) * Rb;
  const pb = rd.pb;
  pb[PB_AH] = aHb; pb[PB_AHP] = aHpb; pb[PB_RB] = rbb; pb[PB_RC] = rcb; pb[PB_RG] = rgb; pb[PB_RN] = rnb; pb[PB_RDE] = rdeb;
  pb[PB_W] = wb; pb[PB_KAP] = kapb; pb[PB_KP] = kpb; pb[PB_CB2] = cb2b; pb[PB_CB2P] = cb2pb; pb[PB_TAU] = taub; pb[PB_MA] = mab;
  pb[PB_RREL] = rrelb; pb[PB_RNC] = rncb; pb[PB_PNC] = pncb;
  return p;
}
