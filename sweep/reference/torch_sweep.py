#!/usr/bin/python3
"""PyTorch peer of hetsweep: a whole sweep of multi-environment matrix sensing runs, batched over the runs.

Written as a researcher fluent in PyTorch would for a sweep: the runs that share their shapes (d, k, K, m, T)
advance together, one step of all of them at a time, with batched matrix products (`torch.bmm`) over the runs
and every sensing matrix drawn explicitly, as hetsweep's materialized sampler does. Same model and conventions
as hetsweep (README, "The model"), different random streams (torch's generator), so results agree in law,
not bit for bit:

- Gaussian sensing in packed form: a symmetric A is the vector v(A) of its diagonal and sqrt(2) times each
  entry above it, so <A, X> = v(A) . v(X), and A = (B + B^T)/2 with B iid N(0,1) is v(A) = z iid N(0,1) of
  length P = d(d+1)/2 (hetsweep's `SymmetricPacking`).
- Targets X_e = A* + s_e Q, A* = P the invariant projector, s_0..s_{K-1} evenly spaced over [mu - M, mu + M].
- Step t: residuals r_i = <A_i, U U^T - X_{e_i}> - sigma eps_i of the batch at U_t, loss |r|^2 / (2m),
  U <- U - eta (2/m) (sum_i r_i A_i) U. hetero: e_i = e_t for the whole batch (t mod K, or uniform);
  pooled: e_i uniform per sample. U_0 = alpha I (k = d), alpha G / sqrt(k) otherwise.
- The run ends after T updates with the metrics of U_T and the loss of step T's batch, or, when ||U||_F
  exceeds the divergence threshold (or is not finite) after an update, as `diverged` with the metrics of that
  U and the loss of the next step's batch at it.

Requires PyTorch: apt-get install python3-torch (Debian), run with /usr/bin/python3.
"""

import math
import time

import torch

DTYPES = {"float32": torch.float32, "float64": torch.float64}
SHAPE_KEYS = ("dim", "width", "invariant_rank", "spurious_rank", "environments", "batch_size", "steps")
METRICS = ("true_signal", "spurious_signal", "err_invariant", "err_pooled", "loss")


class UnsupportedRun(ValueError):
    """A run this peer does not model (rank-one sensing, the infinite-batch algorithms)."""


def check_supported(run):
    if run["sensing"] != "gaussian":
        raise UnsupportedRun(f"sensing = {run['sensing']}: the PyTorch peer models Gaussian sensing only")
    if run["algorithm"] not in ("hetero", "pooled"):
        raise UnsupportedRun(f"algorithm = {run['algorithm']}: the PyTorch peer models hetero and pooled only")


def shape_of(run):
    """What runs must share to be stepped together (k = 0 means k = d)."""
    return tuple(int(run[key]) if key != "width" else int(run["width"]) or int(run["dim"]) for key in SHAPE_KEYS)


class Packing:
    """v(A) = (diagonal, sqrt(2) * strict upper triangle) of symmetric d x d matrices, batched."""

    def __init__(self, d):
        self.d = d
        self.upper = torch.triu_indices(d, d, offset=1)

    def pack(self, a):
        upper = a[..., self.upper[0], self.upper[1]]
        return torch.cat([a.diagonal(dim1=-2, dim2=-1), math.sqrt(2.0) * upper], dim=-1)

    def unpack(self, v):
        a = v.new_zeros(v.shape[:-1] + (self.d, self.d))
        a.diagonal(dim1=-2, dim2=-1).copy_(v[..., : self.d])
        off = v[..., self.d :] * math.sqrt(0.5)
        a[..., self.upper[0], self.upper[1]] = off
        a[..., self.upper[1], self.upper[0]] = off
        return a


def haar_orthogonal(count, d, generator):
    """count Haar orthogonal matrices: QR of Gaussian matrices with R's diagonal made positive (Mezzadri 2007)."""
    q, r = torch.linalg.qr(torch.randn(count, d, d, generator=generator, dtype=torch.float64))
    return q * torch.sign(torch.diagonal(r, dim1=-2, dim2=-1)).unsqueeze(-2)


def per_run(runs, key, dtype=torch.float64):
    return torch.tensor([float(run[key]) for run in runs], dtype=dtype)


class Targets:
    """Per run: the basis, A*, Q and the environment targets X_e = A* + s_e Q (float64)."""

    def __init__(self, runs, shape, generator):
        d, _, r, rs, k_env = shape[:5]
        basis = torch.eye(d, dtype=torch.float64).repeat(len(runs), 1, 1)
        rotated = [i for i, run in enumerate(runs) if run["basis"] == "random"]
        if rotated:
            basis[rotated] = haar_orthogonal(len(rotated), d, generator)
        invariant, spurious = basis[:, :, :r], basis[:, :, r : r + rs]
        self.basis, self.rank, self.spurious_rank = basis, r, rs
        self.a_star = invariant @ invariant.transpose(1, 2)
        self.q = spurious @ spurious.transpose(1, 2)
        mu, m_het = per_run(runs, "spurious_mean"), per_run(runs, "heterogeneity")
        if k_env == 1:
            s = mu.unsqueeze(1)
        else:
            s = mu.unsqueeze(1) + m_het.unsqueeze(1) * torch.linspace(-1.0, 1.0, k_env, dtype=torch.float64)
        self.environments = self.a_star.unsqueeze(1) + s[:, :, None, None] * self.q.unsqueeze(1)
        self.pooled = self.a_star + s.mean(1)[:, None, None] * self.q

    def metrics(self, u):
        """The four matrix metrics of each run's U (float64)."""
        x = u @ u.transpose(1, 2)
        in_basis = self.basis.transpose(1, 2) @ x @ self.basis
        r, rs = self.rank, self.spurious_rank
        return {
            "true_signal": torch.linalg.matrix_norm(in_basis[:, :r, :r]),
            "spurious_signal": torch.linalg.matrix_norm(in_basis[:, r : r + rs, r : r + rs]),
            "err_invariant": torch.linalg.matrix_norm(x - self.a_star),
            "err_pooled": torch.linalg.matrix_norm(x - self.pooled),
        }


def initial_factors(runs, shape, generator):
    d, k = shape[0], shape[1]
    alpha = per_run(runs, "init_scale")[:, None, None]
    if k == d:
        return alpha * torch.eye(d, dtype=torch.float64).repeat(len(runs), 1, 1)
    return alpha / math.sqrt(k) * torch.randn(len(runs), d, k, generator=generator, dtype=torch.float64)


def simulate_group(runs, shape, dtype, generator):
    """Steps runs of one shape together; one result dict per run (status, steps_done and METRICS)."""
    d, _, _, _, k_env, m, steps = shape
    count = len(runs)
    targets = Targets(runs, shape, generator)
    packing = Packing(d)
    packed_targets = packing.pack(targets.environments).to(dtype)  # (runs, K, P)
    u = initial_factors(runs, shape, generator).to(dtype)
    eta = per_run(runs, "step_size", dtype)[:, None, None]
    sigma = per_run(runs, "noise", dtype)[:, None]
    threshold = per_run(runs, "divergence_threshold", dtype)
    pooled = torch.tensor([run["algorithm"] == "pooled" for run in runs])
    random_schedule = torch.tensor([run["schedule"] == "random" for run in runs])
    noisy = bool((sigma != 0).any())

    z = torch.empty(count, m, packing.pack(torch.zeros(d, d)).numel(), dtype=dtype)
    running = torch.ones(count, dtype=torch.bool)
    ends_at = torch.full((count,), steps, dtype=torch.long)  # the step whose batch gives the final loss
    final_u = torch.empty(count, d, u.shape[2], dtype=torch.float64)
    final_loss = torch.full((count,), math.nan, dtype=torch.float64)
    for t in range(steps + 1):
        # v(X - X_e) for every environment: the residual of a sample of environment e is z_i . v(X - X_e).
        x = u @ u.transpose(1, 2)
        differences = packing.pack(x.unsqueeze(1)) - packed_targets  # (runs, K, P)
        z.normal_(generator=generator)
        per_environment = torch.bmm(z, differences.transpose(1, 2))  # (runs, m, K)
        if k_env == 1:
            residuals = per_environment[:, :, 0]
        else:
            step_environment = torch.where(random_schedule, torch.randint(k_env, (count,), generator=generator),
                                           torch.full((count,), t % k_env))
            environment = torch.where(pooled[:, None], torch.randint(k_env, (count, m), generator=generator),
                                      step_environment[:, None])
            residuals = per_environment.gather(2, environment.unsqueeze(2)).squeeze(2)
        if noisy:
            residuals = residuals - sigma * torch.randn(count, m, generator=generator, dtype=dtype)
        ending = ends_at == t
        if ending.any():
            final_loss[ending] = (residuals[ending].double().square().sum(1) / (2.0 * m))
            final_u[ending] = u[ending].double()
        if not (ends_at > t).any():  # every run has its final loss
            break
        # (2/m) sum_i r_i A_i U, with sum_i r_i v(A_i) = Z^T r.
        sensed_sum = packing.unpack(torch.bmm(residuals.unsqueeze(1), z).squeeze(1))
        updated = u - eta * (2.0 / m) * torch.bmm(sensed_sum, u)
        u = torch.where(running[:, None, None], updated, u)
        diverging = running & ~(torch.linalg.matrix_norm(u) <= threshold)  # NaN counts as diverged
        ends_at[diverging] = t + 1
        running &= ~diverging

    metrics = targets.metrics(final_u)
    results = []
    for i in range(count):
        result = {"status": "done" if ends_at[i] == steps and running[i] else "diverged",
                  "steps_done": int(ends_at[i])}
        result.update({name: float(metrics[name][i]) for name in METRICS if name != "loss"})
        result["loss"] = float(final_loss[i])
        results.append(result)
    return results


def simulate_sweep(runs, dtype="float32", seed=0, threads=2, max_sensing_bytes=512 << 20):
    """Results of every run (in order), and the wall and CPU seconds (all threads) the stepping took, without
    imports. Runs of one shape go together, in chunks whose sensing matrices fit max_sensing_bytes."""
    for run in runs:
        check_supported(run)
    torch.set_num_threads(threads)
    torch_dtype = DTYPES[dtype]
    generator = torch.Generator().manual_seed(seed)
    groups = {}
    for index, run in enumerate(runs):
        groups.setdefault(shape_of(run), []).append(index)
    results = [None] * len(runs)
    start, start_cpu = time.perf_counter(), time.process_time()
    for shape, indices in groups.items():
        d, _, _, _, _, m, _ = shape
        bytes_per_run = m * d * (d + 1) // 2 * torch.finfo(torch_dtype).bits // 8
        chunk = max(1, max_sensing_bytes // bytes_per_run)
        for first in range(0, len(indices), chunk):
            part = indices[first : first + chunk]
            for index, result in zip(part, simulate_group([runs[i] for i in part], shape, torch_dtype, generator)):
                results[index] = result
    return results, time.perf_counter() - start, time.process_time() - start_cpu
