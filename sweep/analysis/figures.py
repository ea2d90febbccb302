#!/usr/bin/python3
"""Figures from a hetsweep results file (read through the hetsweep package, python/hetsweep).

Usage: figures.py RESULTS.h5 --out DIR [--metric NAME ...] [--heterogeneity-values M ...] [--select NAME=VALUE ...]

Writes whichever of these the file's parameters allow, and prints the path of each PNG:
  trajectories.png            true/spurious signal and |X - A*| against step for a few M, per algorithm
  final_vs_heterogeneity.png  final signals against M (mean +- std over replicates), closed-form thresholds
  heatmap_<metric>_<alg>.png  final spurious signal over M x step size for hetero runs, closed-form curve
  pooled_errors.png           |X - A*| and |X - (A* + Abar)| against step for pooled runs
  final_vs_batch_size.png     final spurious signal and |X - (A* + Abar)| against batch size
  boundary.png                for a sweep with a refine block: the crossings refinement located (bracket and
                              estimate) against the other numeric axis, the closed-form thresholds, and the
                              runs refinement spent against a dense grid of the same resolution
--metric replaces every figure's own metrics. Rows are grouped by their parameter values in /runs, so any
set of axes works; a parameter that varies but is not part of a figure is held at its first value (say which
with --select, which also filters every figure but the boundary). Means use finished runs; diverged runs are
marked. Refinement runs (off the grid) appear in the boundary figure alone.
"""

import argparse
import sys
from pathlib import Path

import matplotlib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python"))  # the package, when not installed
from hetsweep import METRICS, PARAMETERS, STATUS_CODES  # noqa: E402
from hetsweep import theory  # noqa: E402
from hetsweep.theory import lower_threshold, upper_threshold  # noqa: E402

from figure_data import (ResultsError, format_value, open_boundary_results, open_results,  # noqa: E402
                         parse_selection)  # (beside this file)

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
from matplotlib.colors import LogNorm, Normalize  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import NullFormatter, ScalarFormatter  # noqa: E402

DONE, DIVERGED = STATUS_CODES["done"], STATUS_CODES["diverged"]

SYMBOLS = {"dim": "d", "invariant_rank": "r", "spurious_rank": "r_s", "width": "k", "environments": "K",
           "heterogeneity": "M", "spurious_mean": r"\mu", "noise": r"\sigma", "step_size": r"\eta",
           "batch_size": "m", "steps": "T", "init_scale": r"\alpha"}
METRIC_LABELS = {"true_signal": r"true signal $\|PXP\|_F$", "spurious_signal": r"spurious signal $\|QXQ\|_F$",
                 "err_invariant": r"$\|X - A^*\|_F$", "err_pooled": r"$\|X - (A^* + \bar{A})\|_F$",
                 "loss": "minibatch loss"}
ALGORITHM_STYLES = {"hetero": ("-", "o"), "pooled": ("--", "s"), "hetero_gd": ("-.", "^"), "pooled_gd": (":", "v")}
DPI = 110


def symbol(name):
    return f"${SYMBOLS[name]}$" if name in SYMBOLS else name


class Figure:
    """The rows one figure shows: the parameters it plots, every other one held at a single value."""

    def __init__(self, results, mask, shown, name):
        self.results = results
        self.mask = mask.copy()
        for param in PARAMETERS:
            values = results.values(param, self.mask) if np.any(self.mask) else []
            if param in shown or len(values) < 2:
                continue
            self.mask &= results.columns[param] == values[0]
            print(f"  {name}: {param} held at {format_value(values[0])} "
                  f"(of {', '.join(format_value(v) for v in values)}; choose with --select)")

    def values(self, name):
        return self.results.values(name, self.mask)

    def where(self, **conditions):
        mask = self.mask.copy()
        for name, value in conditions.items():
            mask &= self.results.columns[name] == value
        return mask

    def context(self, *exclude):
        """The parameters common to every row shown, e.g. "d=20, r=2, m=1000, 3 replicates"."""
        parts = []
        for name in ("dim", "invariant_rank", "spurious_rank", "environments", "heterogeneity", "spurious_mean",
                     "noise", "step_size", "batch_size", "steps", "sensing"):
            values = self.values(name)
            if name not in exclude and len(values) == 1:
                parts.append(f"{symbol(name)}={format_value(values[0])}" if name in SYMBOLS else values[0])
        replicates = len(np.unique(self.results.columns["replicate"][self.mask]))
        parts.append(f"{replicates} replicate{'s' if replicates > 1 else ''}")
        return ", ".join(parts)


def mean_std(data):
    """Mean and standard deviation over axis 0, ignoring non-finite entries; NaN where none is finite."""
    finite = np.isfinite(data)
    count = finite.sum(axis=0)
    filled = np.where(finite, data, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = filled.sum(axis=0) / count
        var = np.where(finite, (filled - mean) ** 2, 0.0).sum(axis=0) / count
    return np.where(count > 0, mean, np.nan), np.where(count > 0, np.sqrt(var), np.nan)


def replicate_trajectory(figure, metric, mask):
    """Mean trajectory over the finished runs in mask, or over the diverged ones (up to their divergence) when
    none finished; and whether it is the diverged ones."""
    done = mask & (figure.results.status == DONE)
    diverged = not np.any(done)
    steps, data = figure.results.trajectory(metric, done if not diverged else mask)
    return steps, mean_std(data)[0], diverged


def chosen_heterogeneities(figure, requested):
    values = figure.values("heterogeneity")
    if requested:
        chosen = [v for v in values if np.any(np.isclose(v, requested))]
        missing = [r for r in requested if not np.any(np.isclose(r, values))]
        listed = f"(values: {', '.join(map(format_value, values))})"
        if not chosen:
            raise ResultsError(figure.results.path, f"--heterogeneity-values: none among the rows shown {listed}")
        if missing:
            print(f"  note: no M = {', '.join(map(format_value, missing))} among the rows shown {listed}")
        return chosen
    picks = np.unique(np.round(np.linspace(0, len(values) - 1, min(len(values), 4))).astype(int))
    return [values[i] for i in picks]


def legend_handles(colors, algorithms):
    handles = [Line2D([], [], color=c, lw=2, label=label) for label, c in colors]
    handles += [Line2D([], [], color="0.3", ls=ALGORITHM_STYLES.get(a, ("-", "o"))[0], label=a) for a in algorithms]
    return handles


def spans_decades(values):
    """Whether values are all positive and span enough to need a log axis (signals grow from alpha^2)."""
    finite = np.concatenate([np.ravel(v) for v in values]) if values else np.array([])
    finite = finite[np.isfinite(finite)]
    return finite.size > 0 and finite.min() > 0 and finite.max() / finite.min() > 30


def save(fig, out, name):
    path = out / name
    fig.savefig(path, dpi=DPI, bbox_inches="tight")  # keeps legends placed beside the axes
    plt.close(fig)
    print(f"wrote {path}")
    return path


def trajectory_figure(figure, metrics, heterogeneities, algorithms, title, out, name):
    """Metrics against step, one colour per M, one line style per algorithm."""
    fig, axes = plt.subplots(1, len(metrics), figsize=(3.9 * len(metrics), 3.6), squeeze=False)
    colors = [(f"$M$={format_value(h)}", plt.cm.viridis(i / max(1, len(heterogeneities) - 1) * 0.9))
              for i, h in enumerate(heterogeneities)]
    any_diverged = False
    for ax, metric in zip(axes[0], metrics):
        plotted = []
        for (_, color), h in zip(colors, heterogeneities):
            for algorithm in algorithms:
                mask = figure.where(heterogeneity=h, algorithm=algorithm)
                if not np.any(mask):
                    continue
                steps, mean, diverged = replicate_trajectory(figure, metric, mask)
                any_diverged |= diverged
                plotted.append(mean)
                ax.plot(steps, mean, color=color, ls=ALGORITHM_STYLES.get(algorithm, ("-",))[0], lw=1.6)
                reached = np.flatnonzero(np.isfinite(mean))
                if diverged and reached.size:
                    ax.plot(steps[reached[-1]], mean[reached[-1]], marker="x", color=color, ms=8, mew=2)
        ax.set_xlabel("step $t$")
        ax.set_ylabel(METRIC_LABELS[metric])
        if spans_decades(plotted):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    handles = legend_handles(colors, algorithms)
    if any_diverged:
        handles.append(Line2D([], [], color="0.3", marker="x", ls="none", label="all diverged (ends at ×)"))
    axes[0][-1].legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"{title}\n{figure.context('heterogeneity')}", fontsize=10)
    fig.tight_layout()
    return save(fig, out, name)


def closed_form_applies(figure):
    """Whether every row shown is of the model python/hetsweep/theory.py describes."""
    environments, schedules = figure.values("environments"), figure.values("schedule")
    return len(environments) == 1 and len(schedules) == 1 and theory.closed_form_applies(environments[0], schedules[0])


def final_vs_heterogeneity(figure, metrics, out):
    algorithms = figure.values("algorithm")
    step_sizes = figure.values("step_size")
    heterogeneities = np.array(figure.values("heterogeneity"), dtype=float)
    by_step = len(step_sizes) > 1
    step_colors = {eta: plt.cm.plasma(i / max(1, len(step_sizes) - 1) * 0.85) for i, eta in enumerate(step_sizes)}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), squeeze=False)
    columns = figure.results.columns
    for ax, metric in zip(axes[0], metrics):
        plotted = []
        series = 0
        for a_index, algorithm in enumerate(algorithms):
            ls, marker = ALGORITHM_STYLES.get(algorithm, ("-", "o"))
            for eta in step_sizes:
                color = step_colors[eta] if by_step else f"C{a_index}"
                means, stds, diverged_at = [], [], []
                for h in heterogeneities:
                    mask = figure.where(heterogeneity=h, algorithm=algorithm, step_size=eta)
                    done = mask & (figure.results.status == DONE)
                    mean, std = mean_std(columns[f"final_{metric}"][done][:, None])
                    means.append(mean[0])
                    stds.append(std[0])
                    if np.any(mask & (figure.results.status == DIVERGED)):
                        diverged_at.append(h)
                label = algorithm + (f", $\\eta$={format_value(eta)}" if by_step else "")
                ax.errorbar(heterogeneities, means, yerr=stds, color=color, ls=ls, marker=marker, ms=4, capsize=2,
                            lw=1.4, label=label)
                plotted.append(means)
                if diverged_at:  # a row of crosses along the top, one row per series
                    ax.plot(diverged_at, np.full(len(diverged_at), 0.97 - 0.04 * series), ls="none", marker=marker,
                            mfc="none", color=color, ms=6, transform=ax.get_xaxis_transform())
                series += 1
        if closed_form_applies(figure):
            mu = float(figure.values("spurious_mean")[0])
            low, high = heterogeneities.min(), heterogeneities.max()
            for eta in step_sizes:
                color = step_colors[eta] if by_step else "0.35"
                for name, value in ((r"M_-", lower_threshold(eta, mu)), (r"M_+", upper_threshold(eta, mu))):
                    if np.isfinite(value) and low <= value <= high:
                        ax.axvline(value, color=color, ls=":", lw=1.3,
                                   label=f"${name}$={value:.2f} ($\\eta$={format_value(eta)})")
        ax.set_xlabel("heterogeneity $M$")
        ax.set_ylabel(f"final {METRIC_LABELS[metric]}")
        if spans_decades(plotted):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    handles, _ = axes[0][0].get_legend_handles_labels()
    if np.any(figure.results.status[figure.mask] == DIVERGED):
        handles.append(Line2D([], [], color="0.3", marker="o", mfc="none", ls="none",
                              label="open marker at top: diverged\n(≥1 replicate, not in mean)"))
    axes[0][-1].legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.02, 1))
    shown = ("heterogeneity", "step_size") if by_step else ("heterogeneity",)
    threshold_note = "; dotted: closed-form contraction thresholds" if closed_form_applies(figure) else ""
    fig.suptitle(f"Final signals vs heterogeneity (mean ± std over finished replicates{threshold_note})\n"
                 f"{figure.context(*shown)}", fontsize=10)
    fig.tight_layout()
    return save(fig, out, "final_vs_heterogeneity.png")


def cell_edges(values, log):
    v = np.log(values) if log else np.asarray(values, dtype=float)
    mid = (v[1:] + v[:-1]) / 2
    edges = np.concatenate([[v[0] - (mid[0] - v[0])], mid, [v[-1] + (v[-1] - mid[-1])]])
    return np.exp(edges) if log else edges


def heatmap(figure, metric, algorithm, out):
    heterogeneities = np.array(figure.values("heterogeneity"), dtype=float)
    step_sizes = np.array(figure.values("step_size"), dtype=float)
    h_order, s_order = np.argsort(heterogeneities), np.argsort(step_sizes)
    heterogeneities, step_sizes = heterogeneities[h_order], step_sizes[s_order]
    columns, status = figure.results.columns, figure.results.status
    mean = np.full((len(step_sizes), len(heterogeneities)), np.nan)
    all_diverged = np.zeros_like(mean, dtype=bool)
    some_diverged = np.zeros_like(mean, dtype=bool)
    for i, eta in enumerate(step_sizes):
        for j, h in enumerate(heterogeneities):
            mask = figure.where(heterogeneity=h, step_size=eta, algorithm=algorithm)
            done = mask & (status == DONE)
            mean[i, j] = mean_std(columns[f"final_{metric}"][done][:, None])[0][0]
            some_diverged[i, j] = np.any(mask & (status == DIVERGED))
            all_diverged[i, j] = some_diverged[i, j] and not np.any(done)
    log_eta = step_sizes.min() > 0 and step_sizes.max() / step_sizes.min() >= 10
    x_edges, y_edges = cell_edges(heterogeneities, False), cell_edges(step_sizes, log_eta)
    finite = mean[np.isfinite(mean)]
    if spans_decades([finite]):
        norm = LogNorm(finite.min(), finite.max())
    else:
        norm = Normalize(finite.min(), finite.max()) if finite.size else Normalize(0, 1)

    fig, ax = plt.subplots(figsize=(6.2, 4.4))
    image = ax.pcolormesh(x_edges, y_edges, np.ma.masked_invalid(mean), norm=norm, cmap="viridis", shading="flat")
    fig.colorbar(image, ax=ax, label=f"final {METRIC_LABELS[metric]}")
    handles = []
    if np.any(all_diverged):
        ax.pcolor(x_edges, y_edges, np.ma.masked_where(~all_diverged, np.ones_like(mean)), cmap="Greys", vmin=0,
                  vmax=3, hatch="///", edgecolor="0.5", shading="flat")
        handles.append(Patch(facecolor="0.8", hatch="///", edgecolor="0.5", label="all replicates diverged"))
    partial = some_diverged & ~all_diverged
    if np.any(partial):
        rows, cols = np.nonzero(partial)
        ax.plot(heterogeneities[cols], step_sizes[rows], ls="none", marker="x", color="red", ms=6)
        handles.append(Line2D([], [], ls="none", marker="x", color="red", label="some replicates diverged"))
    if closed_form_applies(figure):
        mu = float(figure.values("spurious_mean")[0])
        eta = np.geomspace(y_edges[0], y_edges[-1], 400) if log_eta else np.linspace(y_edges[0], y_edges[-1], 400)
        eta = eta[eta > 0]
        lower, upper = lower_threshold(eta, mu), upper_threshold(eta, mu)
        ax.plot(lower, eta, color="white", lw=2, ls="--")
        handles.append(Line2D([], [], color="white", lw=2, ls="--", label=r"$M=\sqrt{\mu/\eta+\mu^2}$"))
        if np.any(upper <= x_edges[-1]):
            ax.plot(upper, eta, color="orange", lw=2, ls=":")
            handles.append(Line2D([], [], color="orange", lw=2, ls=":",
                                  label=r"$M=\sqrt{(1+2\eta\mu)^2+1}\,/\,2\eta$"))
    ax.set_xlim(x_edges[0], x_edges[-1])
    ax.set_ylim(y_edges[0], y_edges[-1])
    if log_eta:
        ax.set_yscale("log")
    if len(heterogeneities) <= 12:  # label the cells themselves on a non-uniform grid
        ax.set_xticks(heterogeneities, [format_value(h) for h in heterogeneities])
    if len(step_sizes) <= 12:
        ax.set_yticks(step_sizes, [format_value(eta) for eta in step_sizes])
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("heterogeneity $M$")
    ax.set_ylabel(r"step size $\eta$")
    if handles:
        ax.legend(handles=handles, fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2,
                  facecolor="0.7")
    ax.set_title(f"Final {metric.replace('_', ' ')}, {algorithm} (mean over finished replicates)\n"
                 f"{figure.context('heterogeneity', 'step_size')}", fontsize=9)
    fig.tight_layout()
    return save(fig, out, f"heatmap_{metric}_{algorithm}.png")


def final_vs_batch_size(figure, metrics, heterogeneities, out):
    algorithms = figure.values("algorithm")
    batch_sizes = np.array(figure.values("batch_size"))
    batch_sizes.sort()
    colors = {h: plt.cm.viridis(i / max(1, len(heterogeneities) - 1) * 0.9) for i, h in enumerate(heterogeneities)}
    fig, axes = plt.subplots(1, len(metrics), figsize=(4.6 * len(metrics), 3.8), squeeze=False)
    columns, status = figure.results.columns, figure.results.status
    for ax, metric in zip(axes[0], metrics):
        plotted = []
        for h in heterogeneities:
            for algorithm in algorithms:
                ls, marker = ALGORITHM_STYLES.get(algorithm, ("-", "o"))
                means, stds = [], []
                for m in batch_sizes:
                    done = figure.where(heterogeneity=h, algorithm=algorithm, batch_size=m) & (status == DONE)
                    mean, std = mean_std(columns[f"final_{metric}"][done][:, None])
                    means.append(mean[0])
                    stds.append(std[0])
                ax.errorbar(batch_sizes, means, yerr=stds, color=colors[h], ls=ls, marker=marker, ms=4, capsize=2,
                            lw=1.4)
                plotted.append(means)
        ax.set_xscale("log")
        ax.set_xticks(batch_sizes)
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.xaxis.set_minor_formatter(NullFormatter())
        if spans_decades(plotted):
            ax.set_yscale("log")
        ax.set_xlabel("batch size $m$")
        ax.set_ylabel(f"final {METRIC_LABELS[metric]}")
        ax.grid(alpha=0.3)
    axes[0][-1].legend(handles=legend_handles([(f"$M$={format_value(h)}", colors[h]) for h in heterogeneities],
                                              algorithms), fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1))
    fig.suptitle(f"Final metrics vs batch size (mean ± std over finished replicates)\n"
                 f"{figure.context('heterogeneity', 'batch_size')}", fontsize=10)
    fig.tight_layout()
    return save(fig, out, "final_vs_batch_size.png")


def threshold_curves(across_values, mu):
    """The closed-form thresholds over the step sizes shown: eta, M_-(eta) and M_+(eta)."""
    eta = np.linspace(min(across_values) * 0.9, max(across_values) * 1.05, 300)
    return eta, lower_threshold(eta, mu), upper_threshold(eta, mu)


def draw_boundary(boundary):
    """The boundary figure: left, each crossing's bracket [lo, hi] on the refine axis and its estimate (filled
    marker: down, the metric falls below the threshold as the axis grows; open: up) against the other numeric
    axis, one colour per series, with the closed-form thresholds where they apply; right, per series, the runs
    the sweep spent (grid and refinement) against a dense grid of the same resolution. Returns the Figure;
    artists carry a gid ("estimate SERIES DIRECTION", "bracket SERIES", "lower_threshold", "upper_threshold")."""
    fig, (ax, bars) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1.7, 1]})
    series = list(boundary.runs.index)
    spacing = np.min(np.diff(boundary.across_values)) if len(boundary.across_values) > 1 else 1.0
    crossings = boundary.crossings
    for i, name in enumerate(series):
        color, offset = f"C{i}", (i - (len(series) - 1) / 2) * 0.12 * spacing
        rows = crossings[crossings.series == name]
        x = rows[boundary.across].to_numpy(dtype=float) + offset
        ax.vlines(x, rows.lo, rows.hi, color=color, lw=2, gid=f"bracket {name}")
        for direction, fill in (("down", color), ("up", "white")):
            chosen = (rows.direction == direction).to_numpy()
            ax.plot(x[chosen], rows.estimate[chosen], ls="none", marker="o", ms=5, color=color, mfc=fill,
                    gid=f"estimate {name} {direction}")
        ax.plot([], [], ls="none", marker="o", color=color, label=f"{name}: {len(rows)} crossings")
    ax.plot([], [], ls="none", marker="o", color="0.3", label="filled: lower (down), open: upper (up)")
    if boundary.spurious_mean is not None:
        eta, lower, upper = threshold_curves(boundary.across_values, boundary.spurious_mean)
        ax.fill_between(eta, lower, upper, color="0.85", zorder=0, label="closed form: contracts")
        ax.plot(eta, lower, color="0.25", ls="--", lw=1.2, gid="lower_threshold",
                label=r"$M_-=\sqrt{\mu/\eta+\mu^2}$")
        ax.plot(eta, upper, color="0.25", ls=":", lw=1.5, gid="upper_threshold",
                label=r"$M_+=\sqrt{(1+2\eta\mu)^2+1}\,/\,2\eta$")
    if spans_decades([crossings.lo.to_numpy(), crossings.hi.to_numpy()]) or (
            len(crossings) and crossings.lo.min() > 0 and crossings.hi.max() / crossings.lo.min() > 5):
        ax.set_yscale("log")
        low, high = crossings.lo.min(), crossings.hi.max()
        ticks = [t for t in (1, 1.5, 2, 3, 4, 5, 7, 10, 15, 20, 30, 40, 50, 70, 100) if low / 1.2 <= t <= high * 1.2]
        ax.set_yticks(ticks, [format_value(float(t)) for t in ticks])
        ax.yaxis.set_minor_formatter(NullFormatter())
    if len(boundary.across_values) <= 12:  # the crossings sit at the grid's values
        ax.set_xticks(boundary.across_values, [format_value(v) for v in boundary.across_values])
    if not len(crossings):
        ax.text(0.5, 0.5, "no crossing located yet", transform=ax.transAxes, ha="center", color="0.4")
    ax.set_xlabel(f"{boundary.across.replace('_', ' ')} {symbol(boundary.across)}")
    ax.set_ylabel(f"{boundary.axis} {symbol(boundary.axis)}")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="upper right")
    ax.set_title(f"Where final {boundary.metric.replace('_', ' ')} crosses {format_value(boundary.threshold)} "
                 f"(mean over replicates)\nbracket ≤ {format_value(boundary.tolerance)} wide, marker: estimate",
                 fontsize=9)

    # Log scale: a dense grid can need orders of magnitude more runs. The grey part of a bar is the grid's runs, the
    # coloured part above it the refinement's.
    position = np.arange(len(series))
    counts = boundary.runs
    spent = counts.grid + counts.refine
    colors = [f"C{i}" for i in range(len(series))]
    bars.bar(position - 0.2, spent, width=0.38, bottom=0, color=colors, label="grid + refinement runs")
    bars.bar(position - 0.2, counts.grid, width=0.38, bottom=0, color="0.65", label="of which grid runs")
    bars.bar(position + 0.2, counts.dense, width=0.38, color="white", edgecolor="0.3", hatch="//",
             label=f"dense grid, spacing {format_value(boundary.tolerance)}")
    for p, grid, refine, dense in zip(position, counts.grid, counts.refine, counts.dense):
        bars.text(p - 0.2, grid + refine, f"{grid:,} grid\n+ {refine:,} refine", ha="center", va="bottom",
                  fontsize=7)
        ratio = f"\n({dense / (grid + refine):.0f}×)" if grid + refine else ""
        bars.text(p + 0.2, dense, f"{dense:,}{ratio}", ha="center", va="bottom", fontsize=7)
    bars.set_yscale("log")
    bars.set_ylim(1, max(10, counts.dense.max() * 10) if len(counts) else 10)
    bars.set_xticks(position, series)
    bars.set_ylabel("runs")
    bars.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2)
    bars.set_title("runs spent vs a dense grid of the same resolution", fontsize=9)
    fig.tight_layout()
    return fig


def boundary_figure(boundary, out):
    by_crossings = boundary.crossings.groupby("series").runs.sum()
    for name, row in boundary.runs.iterrows():
        spent = row.grid + row.refine
        print(f"  boundary: {name}: {row.grid} grid + {row.refine} refinement runs = {spent}; a dense grid at "
              f"spacing {format_value(boundary.tolerance)} would need {row.dense}; /boundary: "
              f"{(boundary.crossings.series == name).sum()} crossings, {by_crossings.get(name, 0)} runs")
    return save(draw_boundary(boundary), out, "boundary.png")


def write_figures(results, out, metrics, requested_heterogeneities, selection):
    """Every figure the file's parameters allow; returns the paths written."""
    written = []
    if not np.any(selection):
        raise ResultsError(results.path, "no finished (done or diverged) runs to plot")
    has_trajectories = results.trajectories is not None
    algorithms = results.values("algorithm", selection)

    if has_trajectories:
        figure = Figure(results, selection, ("heterogeneity", "algorithm"), "trajectories.png")
        written.append(trajectory_figure(
            figure, metrics or ["true_signal", "spurious_signal", "err_invariant"],
            chosen_heterogeneities(figure, requested_heterogeneities), figure.values("algorithm"),
            "Mean trajectories over finished replicates", out, "trajectories.png"))

    if len(results.values("heterogeneity", selection)) > 1:
        figure = Figure(results, selection, ("heterogeneity", "algorithm", "step_size"), "final_vs_heterogeneity.png")
        written.append(final_vs_heterogeneity(figure, metrics or ["spurious_signal", "true_signal"], out))

    if len(results.values("heterogeneity", selection)) > 1 and len(results.values("step_size", selection)) > 1:
        for algorithm in (a for a in algorithms if a.startswith("hetero")):
            mask = selection & (results.columns["algorithm"] == algorithm)
            figure = Figure(results, mask, ("heterogeneity", "step_size"), f"heatmap ({algorithm})")
            for metric in metrics or ["spurious_signal"]:
                written.append(heatmap(figure, metric, algorithm, out))

    pooled = np.isin(results.columns["algorithm"], [a for a in algorithms if a.startswith("pooled")])
    if has_trajectories and np.any(selection & pooled):
        figure = Figure(results, selection & pooled, ("heterogeneity", "algorithm"), "pooled_errors.png")
        written.append(trajectory_figure(
            figure, metrics or ["err_invariant", "err_pooled"],
            chosen_heterogeneities(figure, requested_heterogeneities), figure.values("algorithm"),
            "Pooled runs: distance to the invariant and to the pooled target", out, "pooled_errors.png"))

    if len(results.values("batch_size", selection)) > 1:
        figure = Figure(results, selection, ("batch_size", "algorithm", "heterogeneity"), "final_vs_batch_size.png")
        written.append(final_vs_batch_size(figure, metrics or ["spurious_signal", "err_pooled"],
                                           chosen_heterogeneities(figure, requested_heterogeneities), out))
    return written


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", type=Path, help="a hetsweep results file (.h5)")
    parser.add_argument("--out", type=Path, required=True, help="directory for the PNGs (created if missing)")
    parser.add_argument("--metric", nargs="+", choices=METRICS, help="metrics to plot instead of each figure's own")
    parser.add_argument("--heterogeneity-values", nargs="+", type=float, metavar="M",
                        help="M values for the trajectory and batch-size figures (default: up to 4 spread out)")
    parser.add_argument("--select", nargs="+", default=[], metavar="NAME=VALUE",
                        help="only runs with these parameter values, e.g. step_size=0.05")
    return parser.parse_args(argv)


def main(argv):
    args = parse_args(argv)
    try:
        results = open_results(args.results)
    except (OSError, ValueError) as error:  # the package names the file in a ValueError
        print(f"figures: {error}", file=sys.stderr)
        return 1
    try:
        selection = parse_selection(results, args.select)
        try:
            boundary = open_boundary_results(args.results)
        except ResultsError as error:  # a refined sweep whose axes this figure cannot lay out
            print(f"  note: {error}: no boundary figure")
            boundary = None
        args.out.mkdir(parents=True, exist_ok=True)
        written = write_figures(results, args.out, args.metric, args.heterogeneity_values, selection)
        if boundary is not None:
            written.append(boundary_figure(boundary, args.out))
    except ResultsError as error:
        print(f"figures: {error}", file=sys.stderr)
        return 1
    finally:
        results.close()
    if not written:
        print("figures: nothing to plot", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
