"""The stiff problems of test/core/numerics/ode/problems.ts solved by scipy's BDF, Radau and LSODA, for
`npm run bench:ode` (which runs this script when python3 with scipy is present and compares in the same run).

Reads JSON on stdin: {"repeat": N, "cases": [{"problem": name, "rtol": r, "atol": a (number or list)}]}.
Writes JSON on stdout: [{"problem", "method", "rtol", "ms" (best of N), "err" (max relative error per component
against the IVP test set reference, as the TypeScript bench computes it), "note"}].
The right-hand sides and Jacobians are the same equations as problems.ts (IVP test set, Mazzia & Magherini 2008).
"""
import json
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp


def rober():
    k1, k2, k3 = 0.04, 3e7, 1e4

    def f(_t, y):
        return [-k1 * y[0] + k3 * y[1] * y[2], k1 * y[0] - k3 * y[1] * y[2] - k2 * y[1] ** 2, k2 * y[1] ** 2]

    def jac(_t, y):
        return [[-k1, k3 * y[2], k3 * y[1]], [k1, -k3 * y[2] - 2 * k2 * y[1], -k3 * y[1]], [0, 2 * k2 * y[1], 0]]

    return f, jac, [1.0, 0.0, 0.0], 1e11, [0.2083340149701255e-7, 0.8333360770334713e-13, 0.9999999791665050]


def hires():
    k6, k7 = 280.0, 1.81

    def f(_t, y):
        return [
            -1.71 * y[0] + 0.43 * y[1] + 8.32 * y[2] + 0.0007,
            1.71 * y[0] - 8.75 * y[1],
            -10.03 * y[2] + 0.43 * y[3] + 0.035 * y[4],
            8.32 * y[1] + 1.71 * y[2] - 1.12 * y[3],
            -1.745 * y[4] + 0.43 * y[5] + 0.43 * y[6],
            -k6 * y[5] * y[7] + 0.69 * y[3] + 1.71 * y[4] - 0.43 * y[5] + 0.69 * y[6],
            k6 * y[5] * y[7] - k7 * y[6],
            -k6 * y[5] * y[7] + k7 * y[6],
        ]

    def jac(_t, y):
        J = np.zeros((8, 8))
        J[0, :3] = [-1.71, 0.43, 8.32]
        J[1, :2] = [1.71, -8.75]
        J[2, 2:5] = [-10.03, 0.43, 0.035]
        J[3, 1:4] = [8.32, 1.71, -1.12]
        J[4, 4:7] = [-1.745, 0.43, 0.43]
        J[5, 3:8] = [0.69, 1.71, -k6 * y[7] - 0.43, 0.69, -k6 * y[5]]
        J[6, 5:8] = [k6 * y[7], -k7, k6 * y[5]]
        J[7, 5:8] = [-k6 * y[7], k7, -k6 * y[5]]
        return J

    y_end = [0.7371312573325668e-3, 0.1442485726316185e-3, 0.5888729740967575e-4, 0.1175651343283149e-2,
             0.2386356198831331e-2, 0.6238968252742796e-2, 0.2849998395185769e-2, 0.2850001604814231e-2]
    return f, jac, [1.0, 0, 0, 0, 0, 0, 0, 0.0057], 321.8122, y_end


def vdp(mu=1000.0):
    def f(_t, y):
        return [y[1], mu * (1 - y[0] ** 2) * y[1] - y[0]]

    def jac(_t, y):
        return [[0.0, 1.0], [-2 * mu * y[0] * y[1] - 1, mu * (1 - y[0] ** 2)]]

    return f, jac, [2.0, 0.0], 2 * mu, [1.706167732170469, -0.8928097010248125e-3]


def orego():
    s, w, q = 77.27, 0.161, 8.375e-6

    def f(_t, y):
        return [s * (y[1] - y[0] * y[1] + y[0] - q * y[0] ** 2), (-y[1] - y[0] * y[1] + y[2]) / s, w * (y[0] - y[2])]

    def jac(_t, y):
        return [[s * (-y[1] + 1 - 2 * q * y[0]), s * (1 - y[0]), 0.0], [-y[1] / s, (-1 - y[0]) / s, 1 / s], [w, 0.0, -w]]

    return f, jac, [1.0, 2.0, 3.0], 360.0, [0.1000814870318523e1, 0.1228178521549917e4, 0.1320554942846706e3]


PROBLEMS = {'ROBER': rober, 'HIRES': hires, 'VDP(mu=1e3)': vdp, 'OREGO': orego}


def main():
    req = json.load(sys.stdin)
    out = []
    for case in req['cases']:
        f, jac, y0, t_end, y_ref = PROBLEMS[case['problem']]()
        atol = np.asarray(case['atol']) if isinstance(case['atol'], list) else case['atol']
        for method in ('BDF', 'Radau', 'LSODA'):
            best, err, note = float('inf'), float('nan'), ''
            try:
                for _ in range(max(1, req['repeat'])):
                    t0 = time.perf_counter()
                    sol = solve_ivp(f, (0.0, t_end), y0, method=method, jac=jac, rtol=case['rtol'], atol=atol, t_eval=[t_end])
                    best = min(best, (time.perf_counter() - t0) * 1e3)
                if not sol.success:
                    note = sol.message[:60]
                y = sol.y[:, -1]
                err = max(abs(y[i] - y_ref[i]) / abs(y_ref[i]) for i in range(len(y_ref)))
            except Exception as e:  # a failure is a row, not a crash of the bench
                note = str(e)[:60]
            out.append({'problem': case['problem'], 'method': method, 'rtol': case['rtol'], 'ms': best, 'err': err, 'note': note})
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
