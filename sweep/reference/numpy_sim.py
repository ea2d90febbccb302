#!/usr/bin/python3
"""NumPy reference for one hetsweep run: multi-environment matrix sensing trained by HeteroSGD or PooledSGD.

Written the way a researcher would: every step draws all m sensing matrices with numpy's default_rng and
contracts them with matmul, without a Python loop over samples. It is the speed baseline for hetsweep and a
check of the science, not a bit-exact twin (the random streams differ).

Usage: numpy_sim.py --dim 20 --heterogeneity 6 --step-size 0.05 --batch-size 1000 --steps 1000 \
           --algorithm hetero --seed 1
prints the final metrics as one JSON object (keys as `hetsweep simulate --json`); `wall_seconds` times the
training loop alone, without interpreter start-up and imports.
"""

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass, field

import numpy as np

METRICS = ("true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss")


@dataclass
class Params:
    dim: int = 20
    invariant_rank: int = 2
    spurious_rank: int = 2
    width: int = 0  # columns of U; 0 means width = dim
    environments: int = 2
    heterogeneity: float = 0.0
    spurious_mean: float = 1.0
    noise: float = 0.0
    sensing: str = "gaussian"  # gaussian: A = (B + B^T)/2; rank_one: A = x x^T
    basis: str = "axis"  # axis, or a Haar-random rotation of the subspaces
    algorithm: str = "hetero"  # hetero: one environment per batch; pooled: one per sample
    schedule: str = "cyclic"  # hetero environment order: cyclic (t mod K) or random
    step_size: float = 0.05
    batch_size: int = 1000
    steps: int = 1000
    init_scale: float = 1e-3
    record_every: int = 10
    divergence_threshold: float = 1e6


@dataclass
class Result:
    status: str  # "done" or "diverged"
    steps_done: int
    wall_seconds: float  # the training loop alone
    steps: list = field(default_factory=list)  # the recorded steps
    records: list = field(default_factory=list)  # one dict of METRICS per recorded step

    def final(self):
        return self.records[-1]


def spurious_values(p):
    """s_0..s_{K-1}, evenly spaced over [mu - M, mu + M]; mu alone when K = 1."""
    if p.environments == 1:
        return np.array([p.spurious_mean])
    return np.linspace(p.spurious_mean - p.heterogeneity, p.spurious_mean + p.heterogeneity, p.environments)


def haar_orthogonal(d, rng):
    """QR of a Gaussian matrix with R's diagonal made positive (Mezzadri 2007)."""
    q, r = np.linalg.qr(rng.standard_normal((d, d)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


class Model:
    """Targets and metrics. P and Q project on the invariant and the spurious subspace."""

    def __init__(self, p, rng):
        d, r, rs = p.dim, p.invariant_rank, p.spurious_rank
        basis = np.eye(d) if p.basis == "axis" else haar_orthogonal(d, rng)
        invariant, spurious = basis[:, :r], basis[:, r : r + rs]
        self.P = invariant @ invariant.T
        self.Q = spurious @ spurious.T
        self.s = spurious_values(p)
        self.a_star = self.P  # A* has eigenvalue 1 on the invariant subspace
        self.pooled_target = self.a_star + self.s.mean() * self.Q

    def metrics(self, u, loss):
        x = u @ u.T
        return {
            "true_signal": np.linalg.norm(self.P @ x @ self.P),
            "spurious_signal": np.linalg.norm(self.Q @ x @ self.Q),
            "err_invariant": np.linalg.norm(x - self.a_star),
            "err_pooled": np.linalg.norm(x - self.pooled_target),
            "loss": loss,
        }


def sensing_matrices(p, rng):
    """All m sensing matrices of one batch, shape (m, d, d)."""
    m, d = p.batch_size, p.dim
    if p.sensing == "gaussian":
        b = rng.standard_normal((m, d, d))
        return 0.5 * (b + b.transpose(0, 2, 1))
    x = rng.standard_normal((m, d))
    return x[:, :, None] * x[:, None, :]


def batch_environments(p, t, rng):
    """The environment of each sample at step t."""
    if p.algorithm == "pooled":
        return rng.integers(p.environments, size=p.batch_size)
    e = t % p.environments if p.schedule == "cyclic" else rng.integers(p.environments)
    return np.full(p.batch_size, e)


def labels(a, s, model, p, rng):
    """y_i = <A_i, A* + s_i Q> + sigma eps_i for the flattened sensing matrices a, shape (m, d*d)."""
    targets = a @ np.stack([model.a_star.ravel(), model.Q.ravel()], axis=1)
    return targets[:, 0] + s * targets[:, 1] + p.noise * rng.standard_normal(len(s))


def loss_and_gradient(a, y, u):
    """The minibatch loss 1/(2m) sum_i r_i^2 and its gradient (2/m) sum_i r_i A_i U, r_i = <A_i, UU^T> - y_i."""
    m, d = a.shape[0], u.shape[0]
    residual = a @ (u @ u.T).ravel() - y
    return 0.5 * np.mean(residual**2), (2.0 / m) * (residual @ a).reshape(d, d) @ u


def simulate(p, seed):
    rng = np.random.default_rng(seed)
    model = Model(p, rng)
    d, m = p.dim, p.batch_size
    k = p.width or d
    u = p.init_scale * np.eye(d) if k == d else p.init_scale / math.sqrt(k) * rng.standard_normal((d, k))

    result = Result(status="done", steps_done=p.steps, wall_seconds=0.0)
    start = time.perf_counter()
    # Step t evaluates the loss of its batch at U_t, then updates; the batch drawn at t = steps only
    # measures the final loss, so every record's metrics belong to one iterate.
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(p.steps + 1):
            a = sensing_matrices(p, rng).reshape(m, d * d)
            y = labels(a, model.s[batch_environments(p, t, rng)], model, p, rng)
            loss, gradient = loss_and_gradient(a, y, u)
            norm = np.linalg.norm(u)
            diverged = not (norm <= p.divergence_threshold)  # NaN counts as diverged
            if t % p.record_every == 0 or t == p.steps or diverged:
                result.steps.append(t)
                result.records.append(model.metrics(u, loss))
            if diverged:
                result.status, result.steps_done = "diverged", t
                break
            if t == p.steps:
                break
            u = u - p.step_size * gradient
    result.wall_seconds = time.perf_counter() - start
    return result


def check(p):
    """Why p is not a valid run, or None."""
    if p.invariant_rank + p.spurious_rank > p.dim:
        return f"invariant_rank + spurious_rank = {p.invariant_rank + p.spurious_rank} exceeds dim = {p.dim}"
    if p.width > p.dim:
        return f"width = {p.width} exceeds dim = {p.dim}"
    for name, low in (("dim", 1), ("invariant_rank", 1), ("spurious_rank", 0), ("width", 0),
                      ("environments", 1), ("batch_size", 1), ("steps", 0), ("record_every", 1)):
        if getattr(p, name) < low:
            return f"{name} = {getattr(p, name)} is below {low}"
    for name in ("step_size", "init_scale", "divergence_threshold"):
        if not getattr(p, name) > 0:
            return f"{name} = {getattr(p, name)} must be positive"
    if p.heterogeneity < 0 or p.noise < 0:
        return "heterogeneity and noise must be non-negative"
    return None


CHOICES = {
    "sensing": ("gaussian", "rank_one"),
    "basis": ("axis", "random"),
    "algorithm": ("hetero", "pooled"),
    "schedule": ("cyclic", "random"),
}


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for name, default in vars(Params()).items():
        flag = "--" + name.replace("_", "-")
        if name in CHOICES:
            parser.add_argument(flag, choices=CHOICES[name], default=default)
        else:
            parser.add_argument(flag, type=type(default), default=default)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    params = Params(**{name: getattr(args, name) for name in vars(Params())})
    problem = check(params)
    if problem:
        parser.error(problem)
    return params, args.seed


def finite_or_none(x):
    return float(x) if math.isfinite(x) else None  # JSON has no NaN or infinity


def main(argv):
    params, seed = parse_args(argv)
    result = simulate(params, seed)
    report = {"status": result.status, "steps_done": result.steps_done}
    report.update({name: finite_or_none(value) for name, value in result.final().items()})
    report["wall_seconds"] = result.wall_seconds
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
