"""scipy's side of the stiff work-precision table: Radau, BDF and LSODA on the problems of stiffproblems.json.

Usage: python3 scipy_work_precision.py STIFFPROBLEMS_JSON RTOL[,RTOL...] REPEATS
Prints one JSON object per line: problem, method, rtol, error in tolerance units (atol = 1e-4 rtol), nfev, njev, nlu,
steps, median wall seconds, max abs error. The Jacobians are analytic (scipy's best case); work = nfev + dim * njev.
"""
import json
import sys
import time

import numpy as np
from scipy.integrate import solve_ivp


def rober(t, y):
    return [-0.04 * y[0] + 1e4 * y[1] * y[2], 0.04 * y[0] - 1e4 * y[1] * y[2] - 3e7 * y[1] ** 2, 3e7 * y[1] ** 2]


def rober_jac(t, y):
    return [[-0.04, 1e4 * y[2], 1e4 * y[1]], [0.04, -1e4 * y[2] - 6e7 * y[1], -1e4 * y[1]], [0, 6e7 * y[1], 0]]


K = dict(k1=1.71, k2=0.43, k3=8.32, k4=0.69, k5=0.035, k6=8.32, k7=280.0, k8=0.69, k9=0.69, oks=0.0007)


def hires(t, y):
    k = K
    d7 = k["k7"] * y[5] * y[7] - (k["k2"] + k["k8"] + k["k9"]) * y[6]
    return [
        -k["k1"] * y[0] + k["k2"] * y[1] + k["k6"] * y[2] + k["oks"],
        k["k1"] * y[0] - (k["k2"] + k["k3"]) * y[1],
        -(k["k6"] + k["k1"]) * y[2] + k["k2"] * y[3] + k["k5"] * y[4],
        k["k3"] * y[1] + k["k1"] * y[2] - (k["k4"] + k["k2"]) * y[3],
        -(k["k5"] + k["k1"]) * y[4] + k["k2"] * (y[5] + y[6]),
        -k["k7"] * y[5] * y[7] + k["k8"] * y[3] + k["k1"] * y[4] - k["k2"] * y[5] + k["k8"] * y[6],
        d7,
        -d7,
    ]


def hires_jac(t, y):
    k = K
    j = np.zeros((8, 8))
    j[0, 0], j[0, 1], j[0, 2] = -k["k1"], k["k2"], k["k6"]
    j[1, 0], j[1, 1] = k["k1"], -(k["k2"] + k["k3"])
    j[2, 2], j[2, 3], j[2, 4] = -(k["k6"] + k["k1"]), k["k2"], k["k5"]
    j[3, 1], j[3, 2], j[3, 3] = k["k3"], k["k1"], -(k["k4"] + k["k2"])
    j[4, 4], j[4, 5], j[4, 6] = -(k["k5"] + k["k1"]), k["k2"], k["k2"]
    j[5, 3], j[5, 4], j[5, 5], j[5, 6], j[5, 7] = k["k8"], k["k1"], -k["k7"] * y[7] - k["k2"], k["k8"], -k["k7"] * y[5]
    j[6, 5], j[6, 6], j[6, 7] = k["k7"] * y[7], -(k["k2"] + k["k8"] + k["k9"]), k["k7"] * y[5]
    j[7] = -j[6]
    return j


def vdpolm(t, y):
    return [y[1], 1000 * (1 - y[0] ** 2) * y[1] - y[0]]


def vdpolm_jac(t, y):
    return [[0, 1], [-2000 * y[0] * y[1] - 1, 1000 * (1 - y[0] ** 2)]]


A4 = np.array([[-252525.25, 247524.75, 252474.75, -247475.25], [247524.75, -252525.25, -247475.25, 252474.75],
               [252474.75, -247475.25, -252525.25, 247524.75], [-247475.25, 252474.75, 247524.75, -252525.25]])


def pr(t, y):
    return [-1e6 * (y[0] - np.sin(t)) + np.cos(t)]


PROBLEMS = {
    "rober": (rober, rober_jac),
    "hires": (hires, hires_jac),
    "vdpolm": (vdpolm, vdpolm_jac),
    "stiff_linear4": (lambda t, y: A4 @ y, lambda t, y: A4),
    "prothero_robinson": (pr, lambda t, y: [[-1e6]]),
}


def main():
    problems = {p["name"]: p for p in json.load(open(sys.argv[1]))["problems"]}
    rtols = [float(r) for r in sys.argv[2].split(",")]
    repeats = int(sys.argv[3])
    for name, (f, jac) in PROBLEMS.items():
        p = problems[name]
        ref = np.array(p["y_ref"])
        for method in ("Radau", "BDF", "LSODA"):
            for rtol in rtols:
                atol = 1e-4 * rtol
                seconds = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    sol = solve_ivp(f, (p["t0"], p["t1"]), p["y0"], method=method, rtol=rtol, atol=atol, jac=jac)
                    seconds.append(time.perf_counter() - start)
                y = sol.y[:, -1]
                units = float(np.max(np.abs(y - ref) / (atol + rtol * np.abs(ref)))) if sol.success else None
                abs_error = float(np.max(np.abs(y - ref))) if sol.success else None
                print(json.dumps(dict(problem=name, method=method, rtol=rtol, units=units, abs_error=abs_error, nfev=int(sol.nfev),
                                      njev=int(sol.njev), nlu=int(sol.nlu), steps=len(sol.t) - 1, dim=len(p["y0"]),
                                      seconds=float(np.median(seconds)), success=bool(sol.success))), flush=True)


if __name__ == "__main__":
    main()
