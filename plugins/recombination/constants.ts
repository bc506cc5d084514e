/**
 * Physical and atomic constants of the recombination model, SI units.
 *
 * Fundamental constants are the CODATA 2006 values that RECFAST 1.5 and CLASS v3 use (so that n_H, the
 * Thomson rate and the radiation constant agree with CLASS to ~1e-9, see plugins/contracts/cosmology.ts
 * for the same choice in Omega_gamma). Atomic data are those quoted by Seager, Sasselov & Scott (1999,
 * ApJ 523, L1; 2000, ApJS 128, 407: "SSS") and Wong, Moss & Scott (2008, MNRAS 386, 1023: "WMS08"):
 * level energies as wavenumbers [1/m], two-photon and line rates [1/s], photoionisation cross sections
 * at the helium line frequencies [m^2].
 */

/** Speed of light [m/s] (exact). */
export const C_LIGHT = 2.99792458e8;
/** Boltzmann constant [J/K] (CODATA 2006). */
export const K_BOLTZMANN = 1.3806504e-23;
/** Planck constant [J s] (CODATA 2006). */
export const H_PLANCK = 6.62606896e-34;
/** Electron mass [kg] (CODATA 2006). */
export const M_ELECTRON = 9.10938215e-31;
/** Mass of the hydrogen atom [kg] (SSS, CLASS _m_H_). */
export const M_HYDROGEN = 1.673575e-27;
/** Helium-4 to hydrogen atom mass ratio (SSS "not4"). */
export const HE_TO_H_MASS = 3.9715;
/** Thomson cross section [m^2] (CODATA 2006). */
export const SIGMA_THOMSON = 6.6524616e-29;
/** Newton's constant [m^3 kg^-1 s^-2] (CODATA 2006). */
export const G_NEWTON = 6.67428e-11;
/** Megaparsec [m]. */
export const MPC_IN_M = 3.085677581282e22;
/** Stefan-Boltzmann constant 2 pi^5 k^4 / (15 h^3 c^2) [W m^-2 K^-4]. */
export const SIGMA_SB = (2 * Math.PI ** 5 * K_BOLTZMANN ** 4) / (15 * H_PLANCK ** 3 * C_LIGHT ** 2);
/** Radiation constant a_R = 4 sigma_SB / c [J m^-3 K^-4]. */
export const A_RAD = (4 * SIGMA_SB) / C_LIGHT;

// ---- hydrogen (SSS 1999, 2000) ----
/** Ionisation wavenumber of H 1s [1/m]. */
export const L_H_ION = 1.096787737e7;
/** Lyman-alpha wavenumber [1/m]. */
export const L_H_ALPHA = 8.225916453e6;
/** H 2s -> 1s two-photon decay rate [1/s] (SSS; Goldman 1989). */
export const LAMBDA_H_2S1S = 8.2245809;

// ---- helium (SSS 2000; WMS08) ----
/** Ionisation wavenumber of He I (1^1S) [1/m]. */
export const L_HE1_ION = 1.98310772e7;
/** Ionisation wavenumber of He II [1/m]. */
export const L_HE2_ION = 4.389088863e7;
/** He I 2^1S level [1/m]. */
export const L_HE_2S = 1.66277434e7;
/** He I 2^1P level [1/m]. */
export const L_HE_2P = 1.71134891e7;
/** He I 2^1S -> 1^1S two-photon rate [1/s] (SSS). */
export const LAMBDA_HE_2S1S = 51.3;
/** He I 2^1P -> 1^1S Einstein A [1/s] (WMS08). */
export const A2P_SINGLET = 1.798287e9;
/** He I 2^3P_1 -> 1^1S (intercombination) Einstein A [1/s] (WMS08). */
export const A2P_TRIPLET = 177.58;
/** He I 2^3P level [1/m]. */
export const L_HE_2PT = 1.690871466e7;
/** He I 2^3S level [1/m]. */
export const L_HE_2ST = 1.5985597526e7;
/** Ionisation wavenumber of He I 2^3S [1/m]. */
export const L_HE_2ST_ION = 3.8454693845e6;
/** H I photoionisation cross section at the He I 2^1P -> 1^1S line [m^2] (WMS08). */
export const SIGMA_H_AT_HE_2PS = 1.436289e-22;
/** H I photoionisation cross section at the He I 2^3P -> 1^1S line [m^2] (WMS08). */
export const SIGMA_H_AT_HE_2PT = 1.484872e-22;

// ---- recombination coefficients ----
/** Case-B H recombination fit, Pequignot, Petitjean & Boisson (1991), as in SSS eq. (4): 1e-19 a t^b/(1 + c t^d) m^3/s, t = T/1e4 K. */
export const PPB = { a: 4.309, b: -0.6166, c: 0.6703, d: 0.53 } as const;
/** He I singlet recombination fit, Hummer & Storey (1998) as in SSS: q / [sqrt(T/T2) (1+sqrt(T/T2))^(1-p) (1+sqrt(T/T1))^(1+p)] m^3/s. */
export const HS_SINGLET = { q: Math.pow(10, -16.744), p: 0.711, T1: Math.pow(10, 5.114), T2: 3 } as const;
/** He I triplet recombination fit (WMS08, same form, Hummer & Storey 1998). */
export const HS_TRIPLET = { q: Math.pow(10, -16.306), p: 0.761, T1: Math.pow(10, 5.114), T2: 3 } as const;

// ---- RECFAST 1.5 corrections (Rubino-Martin, Chluba, Fendt & Wandelt 2010; RECFAST 1.5.2) ----
/**
 * Hydrogen fudge factor. SSS's F = 1.14 reproduces their multi-level atom; RECFAST 1.5 adds a Gaussian
 * correction in ln(1+z) to the Sobolev K factor and lowers F by 0.015 (F = 1.125) so that the result follows
 * the modern multi-level codes (CosmoRec, HyRec) to ~0.1% (Rubino-Martin et al. 2010, sec. 3).
 */
export const FUDGE_H = 1.14 - 0.015;
/** The two Gaussians of RECFAST 1.5.2 in ln(1+z): K_H -> K_H [1 + sum_i A_i exp(-((ln(1+z) - z_i)/w_i)^2)]. */
export const K_H_GAUSSIANS = [
  { A: -0.14, z: 7.28, w: 0.18 },
  { A: 0.079, z: 6.73, w: 0.33 },
] as const;
/** Exponents of the He I continuum-opacity fits of WMS08 (after Kholupenko, Ivanchik & Varshalovich 2007). */
export const HE_CONTINUUM = { singlet: { p: 0.36, q: 0.86 }, triplet: { p: 0.66, q: 0.9 } } as const;

// ---- derived combinations ----
/** 2 pi m_e k_B / h^2 [1/(m^2 K)]: the Saha factor is (CR T)^(3/2). */
export const CR = (2 * Math.PI * M_ELECTRON * K_BOLTZMANN) / (H_PLANCK * H_PLANCK);
/** h c / k_B [m K]: an energy given as a wavenumber L [1/m] is L * HC_OVER_K kelvin. */
export const HC_OVER_K = (H_PLANCK * C_LIGHT) / K_BOLTZMANN;
/** Compton coupling 8 sigma_T a_R / (3 m_e c) [1/(s K^4)]: Gamma_C = CT T_R^4 x_e / (1 + f_He + x_e) (SSS eq. 3). */
export const CT = (8 * SIGMA_THOMSON * A_RAD) / (3 * M_ELECTRON * C_LIGHT);
/** Hydrogen mass m_H c^2 / k_B [K]: c_b^2 = (T_b / M_H_K) / mu. */
export const M_H_KELVIN = (M_HYDROGEN * C_LIGHT * C_LIGHT) / K_BOLTZMANN;
