/**
 * The transpose of the perturbation equations (equations.ts): f = A(x) y is linear in the state, and
 * transposeRhs writes A(x)^T lam without forming A — the statements of PerturbationRhs.evaluate in reverse
 * order, each linear statement v = sum c_j u_j turned into ubar_j += c_j vbar (reverse-mode differentiation with
 * respect to y of a function linear in y). One call costs about one evaluation of f; the n-column Jacobian it
 * replaces costs n. The background and thermal quantities of the point are those of f (no s, no nudge).
 *
 * Names follow equations.ts; a trailing `b` is the cotangent of the quantity (hPb = d(lam . f)/d h').
 */
import type { PerturbationRhs } from './equations.js';

/** out = A(x)^T lam (overwrite); eps: scratch of the massive-neutrino bins (length L.nq). */
export function transposeRhs(rhs: PerturbationRhs, x: number, lam: Float64Array, out: Float64Array, eps: Float64Array): void {
  const L = rhs.L, S = rhs.setup, p = rhs.point(x, null);
  const k = rhs.k, k2 = rhs.k2;
  const aH = p.aH, kap = p.kappa, tauC = 1 / kap;
  const R = (4 * p.rg) / (3 * p.rb);
  const { tca, ufa, rsa } = rhs.flags;
  out.fill(0);
  const inv = 1 / aH;
  // mu = the cotangent of dy before the final 1/aH (equations.ts step 7)
  const mu = (i: number) => lam[i] * inv;
  let hPb = 0, etaPb = 0, tbb = 0, dbb = 0, etab = 0, dgb = 0, dnb = 0, tnb = 0, tgb = 0;
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
      const m0 = mu(nc), m1 = mu(nc + 1), m2 = mu(nc + 2);
      out[nc] += -3 * aH * (ca2 - w) * m0 + (ca2 / (1 + w)) * k2 * m1;
      out[nc + 1] += -(1 + w) * m0 - aH * (1 - 3 * ca2) * m1 + c8 * m2;
      out[nc + 2] += -k2 * m1 - 3 * (aH * (2 / 3 - ca2 - ppOverP / 3) + 1 / p.tau) * m2;
      hPb += -0.5 * (1 + w) * m0 + 0.5 * c8 * m2;
    } else {
      const Lc = L.Lnc, stride = Lc + 1, itau = 1 / p.tau;
      let src2b = 0;
      for (let i = 0; i < L.nq; i++) {
        const o = nc + i * stride;
        const qk = (NC.q[i] * k) / eps[i], dl = NC.dlnf0[i];
        const m0 = mu(o), m1 = mu(o + 1), m2 = mu(o + 2);
        out[o + 1] += -qk * m0;
        hPb += (dl / 6) * m0;
        out[o] += (qk / 3) * m1;
        out[o + 2] += ((-2 * qk) / 3) * m1;
        out[o + 1] += ((2 * qk) / 5) * m2;
        out[o + 3] += ((-3 * qk) / 5) * m2;
        src2b += -dl * m2;
        for (let l = 3; l < Lc; l++) {
          const ml = mu(o + l);
          out[o + l - 1] += ((qk * l) / (2 * l + 1)) * ml;
          out[o + l + 1] += ((-qk * (l + 1)) / (2 * l + 1)) * ml;
        }
        const mL = mu(o + Lc);
        out[o + Lc - 1] += qk * mL;
        out[o + Lc] += -(Lc + 1) * itau * mL;
      }
      // src2 = h'/15 + (2/5) eta'
      hPb += src2b / 15;
      etaPb += 0.4 * src2b;
    }
  }

  // 6. massless neutrinos
  if (!rsa) {
    const mdn = mu(L.dn), mtn = mu(L.tn);
    tnb += (-4 / 3) * mdn;
    hPb += (-2 / 3) * mdn;
    dnb += (k2 / 4) * mtn;
    if (ufa) {
      const msn = mu(L.sn);
      out[L.sn] += -k2 * mtn - (3 / p.tau) * msn;
      tnb += (2 / 3) * msn;
      hPb += msn / 3;
    } else {
      const fn = L.fn, Ln = L.Ln;
      out[fn] += -0.5 * k2 * mtn;
      const mf = mu(fn);
      tnb += (8 / 15) * mf;
      out[fn + 1] += (-3 / 5) * k * mf;
      hPb += (4 / 15) * mf;
      etaPb += (8 / 5) * mf;
      for (let l = 3; l < Ln; l++) {
        const i = fn + l - 2, mi = mu(i);
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
      }
      const i = fn + Ln - 2, mi = mu(i);
      out[i - 1] += k * mi;
      out[i] += (-(Ln + 1) / p.tau) * mi;
    }
  }

  // 5. photons and baryons
  const mtb = mu(L.tb);
  // tight coupling: Q (step 1) enters the slip and its derivative; its cotangent is collected here and in step 1
  let Qb = 0;
  const c1 = tauC / (1 + R);
  if (tca) {
    const mdg = mu(L.dg);
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
  } else {
    tbb += (-aH - R * kap) * mtb;
    dbb += p.cb2 * k2 * mtb;
    tgb += R * kap * mtb;
    if (!rsa) {
      const fg = L.fg, gg = L.gg, Lg = L.Lg, Lp = L.Lp, itau = 1 / p.tau;
      const mdg = mu(L.dg), mtg = mu(L.tg);
      tgb += (-4 / 3) * mdg;
      hPb += (-2 / 3) * mdg;
      dgb += (k2 / 4) * mtg;
      out[fg] += -0.5 * k2 * mtg;
      tbb += kap * mtg;
      tgb += -kap * mtg;
      const mf = mu(fg);
      tgb += (8 / 15) * mf;
      out[fg + 1] += (-3 / 5) * k * mf;
      hPb += (4 / 15) * mf;
      etaPb += (8 / 5) * mf;
      out[fg] += (-9 / 10) * kap * mf;
      out[gg] += (kap / 10) * mf;
      out[gg + 2] += (kap / 10) * mf;
      for (let l = 3; l < Lg; l++) {
        const i = fg + l - 2, mi = mu(i);
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
        out[i] += -kap * mi;
      }
      {
        const i = fg + Lg - 2, mi = mu(i);
        out[i - 1] += k * mi;
        out[i] += (-(Lg + 1) * itau - kap) * mi;
      }
      // polarisation, Pi = F_2 + G_0 + G_2
      let Pib = 0;
      const m0 = mu(gg);
      out[gg + 1] += -k * m0;
      out[gg] += -kap * m0;
      Pib += 0.5 * kap * m0;
      for (let l = 1; l < Lp; l++) {
        const i = gg + l, mi = mu(i);
        out[i - 1] += ((k * l) / (2 * l + 1)) * mi;
        out[i + 1] += ((-k * (l + 1)) / (2 * l + 1)) * mi;
        out[i] += -kap * mi;
        if (l === 2) Pib += (kap / 10) * mi;
      }
      {
        const i = gg + Lp, mi = mu(i);
        out[i - 1] += k * mi;
        out[i] += (-(Lp + 1) * itau - kap) * mi;
      }
      out[fg] += Pib;
      out[gg] += Pib;
      out[gg + 2] += Pib;
    }
  }
  // dy[eta] = eta', dy[dc] = -h'/2, dy[db] = -tb - h'/2
  etaPb += mu(L.eta);
  hPb += -0.5 * mu(L.dc) - 0.5 * mu(L.db);
  tbb += -mu(L.db);

  // 4. radiation streaming: the algebraic radiation from h' (equations.ts step 4, reversed)
  if (rsa) {
    // eta' += (1.5/k^2)(4/3)(rg tg + rn tn)
    tgb += (2 / k2) * p.rg * etaPb;
    tnb += (2 / k2) * p.rn * etaPb;
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
    let gPb = mu(L.gam);
    // rpTheta += rpThetaDe;  dRho += -(2/3) k^2 gamma - 3 aH rpThetaDe / k^2
    let rpThetaDeb = rpThetab;
    let gammab = (-2 / 3) * k2 * dRhob;
    rpThetaDeb += ((-3 * aH) / k2) * dRhob;
    // rpThetaDe = rpDe thetaT - cD (SG - gamma'/aH - gamma)
    let thetaTb = rpDe * rpThetaDeb;
    let SGb = -cD * rpThetaDeb;
    gPb += (cD / aH) * rpThetaDeb;
    gammab += cD * rpThetaDeb;
    // gamma' = aH (SG/(1+X) - (1+X) gamma) while active
    if (active) {
      SGb += (aH / (1 + X)) * gPb;
      gammab += -aH * (1 + X) * gPb;
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
  } else if (!rsa) out[L.tg] += tgb;
  if (!rsa) {
    dgb += p.rg * dRhob;
    dnb += p.rn * dRhob;
    tnb += (4 / 3) * p.rn * rpThetab;
    out[L.dg] += dgb;
    out[L.dn] += dnb;
    out[L.tn] += tnb;
  }
  if (NC) {
    const nc = L.nc;
    if (L.ncFluid) {
      out[nc] += p.rnc * dRhob;
      out[nc + 1] += (p.rnc + p.pnc) * rpThetab;
    } else {
      const stride = L.Lnc + 1;
      for (let i = 0; i < L.nq; i++) {
        const o = nc + i * stride;
        out[o] += p.rrel * NC.w[i] * eps[i] * dRhob;
        out[o + 1] += p.rrel * k * NC.w[i] * NC.q[i] * rpThetab;
      }
    }
  }
  out[L.dc] += p.rc * dRhob;
  out[L.db] += p.rb * dRhob + dbb;
  out[L.tb] += p.rb * rpThetab + tbb;
  out[L.eta] += etab;
}
