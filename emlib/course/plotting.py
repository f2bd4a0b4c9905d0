"""Pictures of mixtures and of EM: ellipses, responsibility colours, curves, iteration grids.

Every function draws on a Matplotlib ``Axes`` it is given (or makes one) and
returns it, so notebooks can compose figures freely.
"""

from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import to_rgb
from matplotlib.patches import Ellipse

from ..mixture import Mixture

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
"""Okabe and Ito's colour-blind-safe palette (blue, vermillion, bluish green, orange, reddish purple,
sky blue, black, yellow), in an order whose first colours stay apart under every kind of colour blindness."""

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
"""A marker per component, so that components differ by shape as well as by colour."""

LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 3)), (0, (8, 3)))
"""A line style per component, for curves."""

DISPLAY_DPI = 80
"""Figures are laid out at this resolution and stored at twice it (sharp on a projector and a HiDPI screen)."""


def component_colors(m: int) -> np.ndarray:
    """m distinct RGB colours, shape (m, 3): the Okabe-Ito palette, then a colormap past 8."""
    if m <= len(PALETTE):
        return np.array([to_rgb(c) for c in PALETTE[:m]])
    return plt.get_cmap("hsv")(np.linspace(0, 1, m, endpoint=False))[:, :3]


def component_marker(k: int) -> str:
    """The marker of component k (cycles past 8)."""
    return MARKERS[k % len(MARKERS)]


def component_linestyle(k: int):
    """The line style of component k (cycles past 8)."""
    return LINESTYLES[k % len(LINESTYLES)]


def describe(fig, text: str):
    """Attach a one-sentence description to a figure; it is stored with the figure as its alt text.

    Every figure of the course says in words what it shows, for the site's
    alt text and for a reader who cannot see it. Returns ``fig``.
    """
    text = " ".join(str(text).split())
    if not text:
        raise ValueError("text must be a non-empty sentence describing the figure")
    fig.emlib_alt = text
    return fig


def responsibility_colors(resp: np.ndarray, colors: np.ndarray | None = None) -> np.ndarray:
    """Colour each point by the mix of its components' colours, weighted by E[z_i^(k)].

    Parameters
    ----------
    resp : array of shape (n, m), rows summing to 1
    colors : array of shape (m, 3) or None

    Returns
    -------
    array of shape (n, 3): a point certainly in component k gets k's colour;
    a point split half-half between two gets the blend.
    """
    resp = np.asarray(resp, dtype=float)
    colors = component_colors(resp.shape[1]) if colors is None else np.asarray(colors)[:, :3]
    return np.clip(resp @ colors, 0.0, 1.0)


def ellipse_axes(cov: np.ndarray) -> tuple[float, float, float]:
    """Width, height (one standard deviation each way, so 2 sqrt(eigenvalue)) and angle (degrees).

    The axes of the ellipse {x : (x - mu)^T Sigma^{-1} (x - mu) = 1} are the
    eigenvectors of Sigma, with half-lengths the square roots of the
    eigenvalues: standard deviations, not variances.
    """
    vals, vecs = np.linalg.eigh(cov)
    vals = np.maximum(vals, 0.0)
    angle = np.degrees(np.arctan2(vecs[1, 1], vecs[0, 1]))
    return 2 * np.sqrt(vals[1]), 2 * np.sqrt(vals[0]), angle


def plot_ellipses(ax, mixture: Mixture, *, n_std=(1, 2), colors=None, dims=(0, 1), alpha_by_weight=True,
                  linewidth=1.5, label_means=True):
    """Draw each component as ellipses at ``n_std`` standard deviations around its mean.

    The line opacity follows the weight rho_k when ``alpha_by_weight``.
    """
    m = mixture.n_components
    colors = component_colors(m) if colors is None else colors
    i, j = dims
    wmax = mixture.weights.max()
    for k in range(m):
        cov2 = mixture.covariances[k][np.ix_([i, j], [i, j])]
        width, height, angle = ellipse_axes(cov2)
        alpha = 0.35 + 0.65 * mixture.weights[k] / wmax if alpha_by_weight else 1.0
        for s in n_std:
            ax.add_patch(Ellipse(mixture.means[k, [i, j]], s * width, s * height, angle=angle, fill=False,
                                 edgecolor=colors[k], linewidth=linewidth, alpha=alpha / (1 + 0.5 * (s - 1))))
        if label_means:
            ax.plot(*mixture.means[k, [i, j]], marker=component_marker(k), color=colors[k], markersize=9,
                    markeredgecolor="white", mew=1.5, alpha=alpha)
    return ax


def plot_mixture_2d(X, mixture: Mixture | None = None, *, resp=None, ax=None, n_std=(1, 2), colors=None,
                    title=None, s=8, dims=(0, 1)):
    """Points of X (coloured by responsibilities when given) with the mixture's ellipses.

    Parameters
    ----------
    X : array of shape (n, d), d >= 2
    mixture : Mixture or None
    resp : array of shape (n, m) or None; default: the mixture's posterior if a mixture is given
    """
    X = np.asarray(X, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4))
    if resp is None and mixture is not None:
        resp = mixture.posterior(X)
    m = mixture.n_components if mixture is not None else (resp.shape[1] if resp is not None else 1)
    colors = component_colors(m) if colors is None else colors
    if resp is None:
        ax.scatter(X[:, dims[0]], X[:, dims[1]], c="0.4", s=s, linewidths=0, alpha=0.8)
    else:                   # colour: the blend of the components' colours; marker: the MAP component
        c = responsibility_colors(resp, colors)
        owner = np.argmax(resp, axis=1)
        for k in range(m):
            mine = owner == k
            if mine.any():
                ax.scatter(X[mine, dims[0]], X[mine, dims[1]], c=c[mine], s=s, linewidths=0, alpha=0.8,
                           marker=component_marker(k))
    if mixture is not None:
        plot_ellipses(ax, mixture, n_std=n_std, colors=colors, dims=dims)
    if title:
        ax.set_title(title)
    return ax


def plot_density_1d(mixture: Mixture, x=None, *, ax=None, components=True, data=None, bins=40, colors=None,
                    total_label="mixture p(x)"):
    """A 1-D mixture density and (optionally) its weighted components rho_k N(x | mu_k, sigma_k^2)."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.2))
    if x is None:
        sd = np.sqrt(mixture.covariances[:, 0, 0])
        x = np.linspace((mixture.means[:, 0] - 4 * sd).min(), (mixture.means[:, 0] + 4 * sd).max(), 400)
    x = np.asarray(x, dtype=float)
    colors = component_colors(mixture.n_components) if colors is None else colors
    if data is not None:
        ax.hist(np.ravel(data), bins=bins, density=True, color="0.85", edgecolor="0.6", label="data")
    if components:
        comp = np.exp(mixture.component_logpdf(x[:, None])) * mixture.weights
        for k in range(mixture.n_components):
            ax.plot(x, comp[:, k], color=colors[k], lw=1.8, ls=component_linestyle(k + 1), label=f"component {k + 1}")
    ax.plot(x, mixture.pdf(x[:, None]), color="k", lw=2, label=total_label)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    return ax


def plot_loglik(loglik, *, ax=None, current=None, label="EM", per_sample=None, **kwargs):
    """The log-likelihood l(theta^(t)) against the iteration t; mark iteration ``current``."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    y = np.asarray(loglik, dtype=float)
    if per_sample:
        y = y / per_sample
    ax.plot(np.arange(y.size), y, marker="o", markersize=3, label=label, **kwargs)
    if current is not None:
        ax.plot([current], [y[current]], marker="o", markersize=9, color="k", fillstyle="none")
    ax.set_xlabel("iteration t")
    ax.set_ylabel("log-likelihood per sample" if per_sample else r"log-likelihood $l(\theta^{(t)})$")
    return ax


def plot_lower_bounds(grid, loglik, bounds, thetas, loglik_at, *, entropies=None):
    """EM's lower bounds B_t on a 1-D log-likelihood (left) and the gaps ln p - B_t (right).

    Each B_t touches ln p at theta^(t) (a dot); the M-step jumps to the top of
    B_t (a star), and an arrow goes up to ln p at the new point.

    Parameters
    ----------
    grid : array of shape (G,), values of the one free parameter
    loglik : array of shape (G,), ln p(X | theta) on the grid
    bounds : array of shape (T, G), B_t(theta) = Q(theta | theta^(t)) + H_t on the grid
    thetas : array of shape (T + 1,), theta^(0) .. theta^(T)
    loglik_at : array of shape (T + 1,), ln p(X | theta^(t))
    entropies : array of shape (T,) or None; when given, Q(theta | theta^(0)) = B_0 - H_0
        is drawn too (dashed grey): below ln p already, and H_0 lower than B_0

    Returns
    -------
    matplotlib Figure with two Axes
    """
    grid, loglik = np.asarray(grid, dtype=float), np.asarray(loglik, dtype=float)
    bounds = np.atleast_2d(np.asarray(bounds, dtype=float))
    thetas, loglik_at = np.asarray(thetas, dtype=float), np.asarray(loglik_at, dtype=float)
    T = bounds.shape[0]
    if bounds.shape[1] != grid.size or loglik.shape != grid.shape:
        raise ValueError(f"bounds must have shape (T, {grid.size}) and loglik shape ({grid.size},), "
                         f"got {bounds.shape} and {loglik.shape}")
    if thetas.shape != (T + 1,) or loglik_at.shape != (T + 1,):
        raise ValueError(f"thetas and loglik_at must have shape ({T + 1},) for {T} bounds, "
                         f"got {thetas.shape} and {loglik_at.shape}")
    colors = component_colors(T)
    fig, (ax, ax_gap) = plt.subplots(1, 2, figsize=(11.5, 4.4), width_ratios=[1.6, 1])
    ax.plot(grid, loglik, color="k", lw=2.4, label=r"$l(\mu_1) = \ln p(X \mid \mu_1)$")
    if entropies is not None:
        ax.plot(grid, bounds[0] - float(np.asarray(entropies)[0]), color="0.45", lw=1.4, ls=(0, (4, 2)),
                label=r"$Q(\cdot \mid \theta^{(0)})$ alone")
    for t in range(T):
        ls = component_linestyle(t)
        ax.plot(grid, bounds[t], color=colors[t], lw=1.8, ls=ls, label=rf"$B_{t} = Q(\cdot \mid \theta^{{({t})}}) + H_{t}$")
        ax.plot(thetas[t], loglik_at[t], marker="o", color=colors[t], ms=8)
        top = np.interp(thetas[t + 1], grid, bounds[t])
        ax.plot(thetas[t + 1], top, marker="*", color=colors[t], ms=14)
        ax.annotate("", xy=(thetas[t + 1], loglik_at[t + 1]), xytext=(thetas[t + 1], top),
                    arrowprops=dict(arrowstyle="->", color=colors[t], lw=1.5))
        ax_gap.plot(grid, loglik - bounds[t], color=colors[t], lw=1.8, ls=ls, label=rf"$t = {t}$")
        ax_gap.plot(thetas[t], 0, marker="o", color=colors[t], ms=7)
    ax.set_ylim(loglik.min() - 15, loglik.max() + 8)
    ax.set_xlabel(r"$\mu_1$")
    ax.set_ylabel("log-likelihood")
    ax.set_title(r"touch at $\theta^{(t)}$ (dot), jump to the top (star)")
    ax.legend(loc="upper right", fontsize=10)
    ax_gap.set_ylim(-2, 60)
    ax_gap.set_xlabel(r"$\mu_1$")
    ax_gap.set_ylabel(r"gap $l - B_t$ (a KL divergence)")
    ax_gap.set_title("the gap: zero at the current point")
    ax_gap.legend(fontsize=10)
    fig.tight_layout()
    return fig


def plot_restarts(X, fits, *, top=None, tol=0.5):
    """Many EM runs from different starts: their climbs, where they stop, the best and the worst fit.

    Parameters
    ----------
    X : array of shape (n, 2), the data
    fits : sequence of EMResult (``loglik`` of shape (n_iter + 1,), ``mixture``), at least one
    top : float or None, the best log-likelihood known (default: the best of ``fits``)
    tol : float, a run whose final log-likelihood is within ``tol`` of ``top`` counts as reaching it
        (drawn in blue, the others in vermillion)

    Returns
    -------
    matplotlib Figure with four Axes
    """
    if len(fits) == 0:
        raise ValueError("fits must hold at least one EM result")
    final = np.array([f.loglik[-1] for f in fits], dtype=float)
    top = final.max() if top is None else float(top)
    at_top = np.abs(final - top) < tol
    good, bad = PALETTE[0], PALETTE[1]
    fig = plt.figure(figsize=(12, 3.6))
    ax0 = fig.add_subplot(1, 4, 1)
    for f in sorted(fits, key=lambda f: -f.loglik[-1]):          # the lower runs drawn last, on top
        reached = abs(f.loglik[-1] - top) < tol
        ax0.plot(f.loglik, color=good if reached else bad, lw=1.0, ls="-" if reached else "--")
    ax0.set_ylim(final.min() - 60, top + 15)
    ax0.set_xlabel("iteration t")
    ax0.set_ylabel(r"$l(\theta^{(t)})$")
    ax0.set_title(f"{len(fits)} runs: all climb")
    ax1 = fig.add_subplot(1, 4, 2)
    jitter = np.random.default_rng(0).uniform(-0.25, 0.25, len(fits))
    ax1.scatter(jitter[at_top], final[at_top], color=good, marker="o", s=22, label=f"top ({at_top.sum()})")
    ax1.scatter(jitter[~at_top], final[~at_top], color=bad, marker="s", s=22, label=f"lower ({(~at_top).sum()})")
    ax1.set_xlim(-1, 1)
    ax1.set_xticks([])
    ax1.set_ylabel("final log-likelihood")
    ax1.set_title("where they stop")
    ax1.legend(fontsize=10, loc="center")
    for j, (i, name) in enumerate(((int(np.argmax(final)), "best"), (int(np.argmin(final)), "worst"))):
        ax = fig.add_subplot(1, 4, 3 + j)
        plot_mixture_2d(X, fits[i].mixture, ax=ax, s=5)
        ax.set_title(f"{name}: run {i}, l = {final[i]:.1f}")
        ax.set_aspect("equal")
    fig.tight_layout()
    return fig


def plot_decision_regions(ax, mixture: Mixture, X, *, pad=1.0, resolution=300, colors=None, n_std=(1, 2)):
    """Shade the plane by the MAP class of ``mixture``, draw the boundaries and the components' ellipses.

    Parameters
    ----------
    ax : matplotlib Axes
    mixture : Mixture with m components in d = 2 dimensions
    X : array of shape (n, 2), the data: the shaded window is their range plus ``pad``
    resolution : int, grid points per axis
    colors : array of shape (m, 3) or None (the course palette)

    Returns
    -------
    array of shape (resolution, resolution): the MAP class at each grid point
    """
    from matplotlib.colors import ListedColormap

    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2 or mixture.n_features != 2:
        raise ValueError(f"X must have shape (n, 2) and the mixture 2 features, got X of shape {X.shape} "
                         f"and a mixture with {mixture.n_features} features")
    m = mixture.n_components
    colors = component_colors(m) if colors is None else colors
    g0, g1 = np.meshgrid(np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution),
                         np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution))
    regions = mixture.classify(np.column_stack([g0.ravel(), g1.ravel()])).reshape(g0.shape)
    ax.contourf(g0, g1, regions, levels=np.arange(m + 1) - 0.5, cmap=ListedColormap(colors[:m]), alpha=0.18)
    if m > 1:
        ax.contour(g0, g1, regions, levels=np.arange(m - 1) + 0.5, colors="k", linewidths=0.9)
    plot_ellipses(ax, mixture, colors=colors, n_std=n_std)
    return regions


def plot_iterations(X, result, iterations=(0, 1, 2, 3, 20), *, ncols=None, size=2.8, n_std=(1, 2)):
    """A grid of panels: the data coloured by responsibilities, and the ellipses, at chosen iterations.

    Parameters
    ----------
    X : array of shape (n, 2)
    result : EMResult with its ``history``
    iterations : the t to show (clipped to the run's length)

    Returns
    -------
    matplotlib Figure
    """
    its = [min(t, len(result.history) - 1) for t in iterations]
    ncols = ncols or len(its)
    nrows = int(np.ceil(len(its) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False,
                             sharex=True, sharey=True)
    for ax, t in zip(axes.ravel(), its):
        mix = result.history[t]
        plot_mixture_2d(X, mix, ax=ax, n_std=n_std, s=4)
        ax.set_title(f"t = {t}:  l = {result.loglik[t]:.1f}", fontsize=11)
    for ax in axes.ravel()[len(its):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_image_grid(images, shape, *, row_labels=None, col_labels=None, size=0.9, cmap="Greys", vmin=0.0,
                    vmax=1.0, colorbar=None):
    """Small images in a grid: one row per group (e.g. an iteration), one column per image (e.g. a prototype).

    Parameters
    ----------
    images : array-like of shape (rows, cols, h * w), the flattened images (e.g. p_kj of a Bernoulli mixture)
    shape : (h, w), how each image is reshaped
    row_labels, col_labels : sequences of str (rows and cols entries) or None
    size : float, inches per image
    cmap, vmin, vmax : the colour scale shared by all images
    colorbar : str or None, the label of a colour bar for that scale (None: no colour bar)

    Returns
    -------
    matplotlib Figure
    """
    images = np.asarray(images, dtype=float)
    if images.ndim != 3 or images.shape[2] != shape[0] * shape[1]:
        raise ValueError(f"images must have shape (rows, cols, {shape[0] * shape[1]}), got {images.shape}")
    rows, cols = images.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols + (1.2 if colorbar else 0.4), size * rows + 0.3),
                             squeeze=False)
    for r in range(rows):
        for c in range(cols):
            ax = axes[r, c]
            shown = ax.imshow(images[r, c].reshape(shape), cmap=cmap, vmin=vmin, vmax=vmax)
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():             # a thin frame around every image
                spine.set(visible=True, color="0.6", linewidth=0.6)
            if col_labels is not None and r == 0:
                ax.set_title(col_labels[c], fontsize=11)
        if row_labels is not None:
            axes[r, 0].set_ylabel(row_labels[r], rotation=0, ha="right", va="center", fontsize=11)
    if colorbar:
        fig.colorbar(shown, ax=axes, fraction=0.02, pad=0.02).set_label(colorbar)
    return fig




# --- filmstrips, race curves, mean paths and outlines (notebooks 06-10) -----------------------

def plot_half_steps(X, result, steps=((0, "E"), (0, "M"), (1, "E"), (1, "M")), *, ncols=None, size=3.4,
                    n_std=(1, 2)):
    """A filmstrip of EM's half-steps: what stepping :class:`emlib.course.widgets.EMExplorer` shows.

    After E-step t the points take the colours of E[z_i^(k)] at theta^(t) and the
    ellipses are theta^(t); after M-step t the colours stay and the ellipses are
    theta^(t+1) = argmax Q(theta | theta^(t)).

    Parameters
    ----------
    X : array of shape (n, 2)
    result : EMResult with its ``history`` (n_iter + 1 mixtures) and ``loglik``
    steps : sequence of (t, "E" or "M"), t clipped to the run's length
    ncols : int or None, panels per row (default: all in one row)
    size : float, the side of one panel in inches

    Returns
    -------
    matplotlib Figure
    """
    from ..steps import e_step

    if not getattr(result, "history", None):
        raise ValueError("result must carry its history: run emlib.em(..., keep_history=True)")
    X = np.asarray(X, dtype=float)
    last = len(result.history) - 1
    steps = [(min(int(t), last), half) for t, half in steps]
    for _, half in steps:
        if half not in ("E", "M"):
            raise ValueError(f"every step must be (t, 'E') or (t, 'M'), got half={half!r}")
    ncols = ncols or len(steps)
    nrows = int(np.ceil(len(steps) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False,
                             sharex=True, sharey=True)
    for ax, (t, half) in zip(axes.ravel(), steps):
        shown = min(t + (half == "M"), last)
        resp = e_step(X, result.history[t])[0]
        plot_mixture_2d(X, result.history[shown], resp=resp, ax=ax, n_std=n_std, s=5)
        ax.set_aspect("equal")
        what = f"after E-step {t}" if half == "E" else f"after M-step {t}"
        ax.set_title(f"{what}: colours θ$^{{({t})}}$, ellipses θ$^{{({shown})}}$\nl = {result.loglik[shown]:.1f}",
                     fontsize=11)
    for ax in axes.ravel()[len(steps):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_runs(ax, runs, *, seconds_per_iteration=None, best=None, floor=None, positions=None):
    """Per-sample log-likelihood curves l(theta^(t)) / n of several runs, a colour and a line style each.

    Parameters
    ----------
    ax : Matplotlib Axes
    runs : dict {label: result}, each with ``mean_loglik`` of shape (T + 1,) and, for
        gradient ascent, ``diverged`` (a diverged run ends in an X marker)
    seconds_per_iteration : dict {label: float} or None; when given, the x-axis is
        t times that (in ms) instead of the iteration t
    best : float or None, drawn as a dotted horizontal line (the maximum reached)
    floor : float or None, the lowest y shown (a diverged run's X is clipped to it)
    positions : dict {label: int} or None, the place of each run in a larger figure, so that a run
        keeps its colour and line style when it is drawn again with fewer others (default: the order of ``runs``)

    Returns
    -------
    ax
    """
    for k, (label, run) in enumerate(runs.items()):
        k = k if positions is None else positions[label]
        y = np.asarray(run.mean_loglik, dtype=float)
        x = np.arange(y.size, dtype=float)
        if seconds_per_iteration is not None:
            x = x * 1e3 * seconds_per_iteration[label]
        color = PALETTE[6] if k == 0 else PALETTE[(k - 1) % 6]
        ax.plot(x, y, color=color, ls=component_linestyle(k), lw=2.5 if k == 0 else 1.8, label=label,
                zorder=5 if k == 0 else 3)
        if getattr(run, "diverged", False):
            y_end = y[-1] if floor is None else max(y[-1], floor)
            ax.plot(x[-1], y_end, marker="X", ms=11, color=color, clip_on=False)
    if best is not None:
        ax.axhline(best, color="0.5", ls=":", lw=1.2)
    if floor is not None:
        top = best + 0.05 * (best - floor) if best is not None else None
        ax.set_ylim(floor, top)
    ax.set_xlim(left=0)
    ax.set_xlabel("iteration t" if seconds_per_iteration is None else "time (ms)")
    ax.set_ylabel(r"$l(\theta^{(t)})\,/\,n$")
    return ax


def plot_mean_paths(ax, X, result, *, n_marked=10):
    """The path of every mean mu_k^(t) over a run, on the data (grey).

    Open marker: the start; a dot per iteration for the first ``n_marked``;
    cross: the end; the final ellipses at 2 standard deviations.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, 2)
    result : EMResult (or GradientResult) with a ``history`` of mixtures

    Returns
    -------
    ax
    """
    X = np.asarray(X, dtype=float)
    ax.scatter(X[:, 0], X[:, 1], s=5, c="0.75", linewidths=0)
    paths = np.stack([mix.means for mix in result.history])          # (T + 1, m, 2)
    colors = component_colors(paths.shape[1])
    for k, color in enumerate(colors):
        ax.plot(paths[:, k, 0], paths[:, k, 1], color=color, lw=1.5, ls=component_linestyle(k))
        ax.plot(paths[1:n_marked + 1, k, 0], paths[1:n_marked + 1, k, 1], ".", color=color, ms=8)
        ax.plot(*paths[0, k], marker=component_marker(k), mfc="none", mec=color, ms=11, mew=1.8)
        ax.plot(*paths[-1, k], "x", color=color, ms=11, mew=2.5)
    plot_ellipses(ax, result.mixture, n_std=(2,), label_means=False)
    ax.set_aspect("equal")
    return ax


def plot_outlines(ax, X, mixture, *, color=PALETTE[0], mean_color=PALETTE[6], n_std=(1,), linewidth=1.2):
    """Many components at once: grey data, every component's ellipse in one colour, its mean as a dot.

    For mixtures with many components (e.g. 30 on a ring), where a colour per
    component would carry no information.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, 2)
    mixture : Mixture with 2-D components

    Returns
    -------
    ax
    """
    X = np.asarray(X, dtype=float)
    ax.scatter(X[:, 0], X[:, 1], s=3, c="0.7", linewidths=0)
    colors = np.tile(np.array([to_rgb(color)]), (mixture.n_components, 1))
    plot_ellipses(ax, mixture, n_std=n_std, colors=colors, label_means=False, linewidth=linewidth,
                  alpha_by_weight=False)
    ax.plot(mixture.means[:, 0], mixture.means[:, 1], "o", color=mean_color, ms=3.5)
    ax.set_aspect("equal")
    return ax


def plot_sigma_circles(ax, X, resp, means, sigma, *, reference_means=None):
    """Points coloured by their responsibilities, each mean a cross inside a circle of radius sigma.

    The picture of the k-means limit (equal weights, covariance sigma^2 I):
    the circle shows how far a component "sees".

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, 2)
    resp : array of shape (n, m), E[z_i^(k)]
    means : array of shape (m, 2)
    sigma : float > 0, the shared standard deviation
    reference_means : array of shape (m', 2) or None, drawn as black plus signs (e.g. k-means' means)

    Returns
    -------
    ax
    """
    from matplotlib.patches import Circle

    means = np.asarray(means, dtype=float)
    if not np.isfinite(sigma) or sigma <= 0:
        raise ValueError(f"sigma must be a positive number, got {sigma}")
    plot_mixture_2d(X, resp=resp, ax=ax, s=8)
    colors = component_colors(means.shape[0])
    for k, mean in enumerate(means):
        ax.add_patch(Circle(mean, sigma, fill=False, color=colors[k], lw=1.5, ls=component_linestyle(k)))
        ax.plot(*mean, "x", color=colors[k], ms=10, mew=2.5)
    if reference_means is not None:
        ax.plot(*np.asarray(reference_means, dtype=float).T, "k+", ms=12, mew=2)
    ax.set_aspect("equal")
    return ax


def plot_imputations(ax, X, X_full, filled, *, dims=(0, 1), sd=None):
    """Deleted values against their imputations, in the plane of two features.

    Grey dots: the rows with nothing missing in ``dims``; open circles: the true
    values of the rows with a hole in ``dims``; squares: where they were filled in;
    error bars (when ``sd`` is given): one conditional standard deviation of the
    second feature.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, d), NaN where an entry is missing
    X_full : array of shape (n, d), the data before deletion
    filled : array of shape (n, d), X with its holes filled
    dims : (int, int), the two features drawn
    sd : array of shape (n, d) or None, the conditional standard deviations of the filled entries

    Returns
    -------
    ax
    """
    X, X_full, filled = (np.asarray(a, dtype=float) for a in (X, X_full, filled))
    if not X.shape == X_full.shape == filled.shape:
        raise ValueError(f"X, X_full and filled must have the same shape, got {X.shape}, {X_full.shape}, {filled.shape}")
    i, j = dims
    holed = np.isnan(X[:, [i, j]]).any(axis=1)
    ax.scatter(X[~holed, i], X[~holed, j], s=8, color="0.6", label="complete samples")
    ax.scatter(X_full[holed, i], X_full[holed, j], s=14, facecolors="none", edgecolors=PALETTE[0], linewidths=0.8,
               label="deleted value (truth)")
    ax.scatter(filled[holed, i], filled[holed, j], s=14, marker="s", color=PALETTE[1], label="filled-in value")
    if sd is not None:
        sd = np.asarray(sd, dtype=float)
        ax.errorbar(filled[holed, i], filled[holed, j], yerr=sd[holed, j], fmt="none", ecolor=PALETTE[1],
                    alpha=0.25, lw=0.8)
    return ax


def plot_curves_with_spread(ax, x, curves, *, spread=None):
    """One curve per method, a colour, marker and line style each, with a shaded band of +- its spread.

    Parameters
    ----------
    ax : Matplotlib Axes
    x : array-like of shape (p,), e.g. the fraction of missing entries
    curves : dict {label: array-like of shape (p,)}, e.g. the mean over replicates
    spread : dict {label: array-like of shape (p,)} or None, e.g. the standard deviation
        over replicates; the band is curve - spread to curve + spread

    Returns
    -------
    ax
    """
    x = np.asarray(x, dtype=float)
    for k, (label, y) in enumerate(curves.items()):
        y = np.asarray(y, dtype=float)
        if y.shape != x.shape:
            raise ValueError(f"curve {label!r} must have the shape of x, {x.shape}; got {y.shape}")
        color = PALETTE[k % len(PALETTE)]
        ax.plot(x, y, color=color, marker=component_marker(k), ls=component_linestyle(k), ms=6, label=label)
        if spread is not None and label in spread:
            s = np.asarray(spread[label], dtype=float)
            ax.fill_between(x, y - s, y + s, color=color, alpha=0.2, linewidth=0)
    return ax


def palette_png(fig, scale: int = 2) -> tuple[bytes, dict]:
    """The figure as a 256-colour PNG at ``scale`` times its display resolution, with display metadata.

    Plots use a handful of flat colours, so the palette loses nothing visible
    and notebooks that store their figures stay small. The metadata gives
    the display size (``width``, ``height`` in CSS pixels: the image is
    ``scale`` times sharper) and the figure's description (``alt``, from
    :func:`describe`).
    """
    from PIL import Image

    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", dpi=scale * DISPLAY_DPI)
    buf.seek(0)
    image = Image.open(buf).convert("RGB")
    out = io.BytesIO()
    image.quantize(256, method=Image.Quantize.FASTOCTREE).save(out, format="png", optimize=True)
    meta = {"width": image.width // scale, "height": image.height // scale}
    alt = getattr(fig, "emlib_alt", None)
    if alt:
        meta["alt"] = alt
    return out.getvalue(), meta


def use_course_style() -> None:
    """Figure style for the course: lecture-hall font sizes, the Okabe-Ito colours, stored at 2x as palette PNGs.

    Call it in a notebook's first code cell; outside IPython it only sets rcParams.
    """
    plt.rcParams.update({"figure.dpi": DISPLAY_DPI, "savefig.dpi": 2 * DISPLAY_DPI, "figure.figsize": (5.5, 3.6),
                         "axes.spines.top": False, "axes.spines.right": False, "font.size": 12,
                         "axes.titlesize": 12, "axes.labelsize": 12, "legend.fontsize": 11,
                         "xtick.labelsize": 11, "ytick.labelsize": 11, "lines.linewidth": 2.0,
                         "axes.prop_cycle": plt.cycler(color=list(PALETTE))})
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return
    shell = get_ipython()
    if shell is None or "inline" not in plt.get_backend():
        return
    # The inline backend installs its own PNG formatter when the first figure is
    # made; make (and close) one now so that ours, registered after it, wins.
    plt.close(plt.figure())
    from matplotlib.figure import Figure

    shell.display_formatter.formatters["image/png"].for_type(Figure, palette_png)


# --- label images and volumes (segmentation notebooks 12-15) ----------------------------------
def label_colormap(n_labels: int, *, outside: str | None = None):
    """A ``ListedColormap`` of the Okabe-Ito palette for label images, one colour per label 0..n_labels-1.

    Parameters
    ----------
    n_labels : int, the number of labels (at most 8, the palette's length)
    outside : colour or None; if given, it is the first colour of the map, for the value -1
        (pixels or voxels outside the region of interest)

    Returns
    -------
    ListedColormap with ``n_labels`` colours (``n_labels + 1`` with ``outside``). Draw a label image with
    ``label_imshow`` or ``ax.imshow(labels, cmap=cmap, vmin=lo - 0.5, vmax=hi + 0.5)``, so that each
    integer sits in the middle of its colour's interval.
    """
    from matplotlib.colors import ListedColormap

    if isinstance(n_labels, bool) or not isinstance(n_labels, (int, np.integer)):
        raise TypeError(f"n_labels must be an int, got {type(n_labels).__name__}")
    if not 1 <= n_labels <= len(PALETTE):
        raise ValueError(f"n_labels must be between 1 and {len(PALETTE)} (the palette's length), got {n_labels}")
    colors = list(PALETTE[:n_labels])
    return ListedColormap(([outside] if outside is not None else []) + colors)


def label_imshow(ax, labels, n_labels: int, *, names=None, outside: str | None = None, legend_loc="best"):
    """Draw an integer label image (shape (h, w), values 0..n_labels-1, or -1 outside) in the palette.

    With ``names`` (a sequence of ``n_labels`` strings) a legend names each colour. Returns the AxesImage.
    """
    from matplotlib.patches import Patch

    labels = np.asarray(labels)
    if labels.ndim != 2 or labels.dtype.kind not in "iu":
        raise ValueError(f"labels must be a 2-D array of ints, got shape {labels.shape} and dtype {labels.dtype}")
    if names is not None and len(names) != n_labels:
        raise ValueError(f"names must give one name per label ({n_labels}), got {len(names)}")
    cmap = label_colormap(n_labels, outside=outside)
    low = -1 if outside is not None else 0
    image = ax.imshow(labels, cmap=cmap, vmin=low - 0.5, vmax=n_labels - 0.5, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if names is not None:
        ax.legend(handles=[Patch(color=PALETTE[k], label=str(name)) for k, name in enumerate(names)],
                  loc=legend_loc, frameon=True, framealpha=0.9)
    return image


def map_imshow(ax, image, title=None, *, cmap="viridis", vmin=None, vmax=None, label=None, unknown="0.6"):
    """Draw a map whose colour carries a value (a disparity, an error), without ticks; returns the AxesImage.

    Pixels that are NaN or infinite (unknown) are drawn in the colour ``unknown``. With ``label`` a colour
    bar beside ``ax`` names the value; without it, draw one shared bar with ``fig.colorbar(image, ax=axes)``.

    Parameters
    ----------
    ax : Matplotlib Axes
    image : array-like of shape (h, w), real numbers (NaN or inf where unknown)
    title : str or None
    cmap : a perceptually uniform colour map name (default "viridis") or Colormap
    vmin, vmax : float or None, the value range of the colour map
    label : str or None, the colour bar's label (with the unit)
    unknown : a Matplotlib colour for unknown pixels
    """
    values = np.asarray(image, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"image must be a 2-D array (h, w), got shape {values.shape}")
    colours = plt.get_cmap(cmap).with_extremes(bad=unknown)
    shown = ax.imshow(np.where(np.isfinite(values), values, np.nan), cmap=colours, vmin=vmin, vmax=vmax,
                      interpolation="nearest")
    if title is not None:
        ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    if label is not None:
        ax.figure.colorbar(shown, ax=ax, label=label)
    return shown


def three_views(volume, centre) -> list:
    """Axial, coronal and sagittal slices of a 3-D volume through ``centre``, oriented for display.

    Parameters
    ----------
    volume : array of shape (X, Y, Z), indexed (left-right, back-front, bottom-top) as the MNI152 template
    centre : three ints, the voxel the three slices pass through

    Returns
    -------
    list of three 2-D arrays: the axial slice (front up), the coronal and the sagittal one (top of the head up)
    """
    volume = np.asarray(volume)
    if volume.ndim != 3:
        raise ValueError(f"volume must be 3-D, got shape {volume.shape}")
    i, j, k = (int(c) for c in centre)
    if not all(0 <= c < s for c, s in zip((i, j, k), volume.shape)):
        raise ValueError(f"centre must lie inside the volume of shape {volume.shape}, got {tuple(centre)}")
    return [np.rot90(volume[:, :, k]), np.rot90(volume[:, j, :]), np.rot90(volume[i, :, :])]


def plot_volume_rows(volumes, titles, centre, *, n_labels: int = 3, names=None, cmaps=None, size: float = 2.6):
    """One row of three views (axial, coronal, sagittal) per volume: a figure of a segmentation.

    Parameters
    ----------
    volumes : sequence of arrays of shape (X, Y, Z); an integer volume is a label volume (values -1 for
        outside, 0..n_labels-1) drawn in the palette; a float volume is an image in [0, 1], drawn in grey
    titles : sequence of str, one per volume (the row's label)
    centre : three ints, the voxel all slices pass through
    n_labels : int, the number of labels of the label volumes
    names : sequence of n_labels str or None; if given, a legend under the figure names each label's colour
    cmaps : sequence (one per volume) of a colormap or None (None: the palette, or grey for an image)
    size : float, the width of one view in inches

    Returns
    -------
    Figure with ``len(volumes)`` rows of 3 axes.
    """
    from matplotlib.patches import Patch

    if len(volumes) != len(titles):
        raise ValueError(f"titles must give one title per volume ({len(volumes)}), got {len(titles)}")
    cmaps = list(cmaps) if cmaps is not None else [None] * len(volumes)
    if len(cmaps) != len(volumes):
        raise ValueError(f"cmaps must give one colormap (or None) per volume ({len(volumes)}), got {len(cmaps)}")
    fig, axes = plt.subplots(len(volumes), 3, figsize=(3 * size, len(volumes) * size * 1.05), squeeze=False)
    labels_cmap = label_colormap(n_labels, outside="black")
    for r, (volume, title, cmap) in enumerate(zip(volumes, titles, cmaps)):
        volume = np.asarray(volume)
        for c, (view, name) in enumerate(zip(three_views(volume, centre), ("axial", "coronal", "sagittal"))):
            ax = axes[r, c]
            if volume.dtype.kind in "iu":
                cm = cmap or labels_cmap
                ax.imshow(view, cmap=cm, vmin=-1.5, vmax=cm.N - 1.5, interpolation="nearest")
            else:
                ax.imshow(view, cmap=cmap or "gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(False)
            if r == 0:
                ax.set_title(name)
        axes[r, 0].set_ylabel(title)
    fig.tight_layout(pad=0.3)
    if names is not None:
        if len(names) != n_labels:
            raise ValueError(f"names must give one name per label ({n_labels}), got {len(names)}")
        fig.legend(handles=[Patch(color=PALETTE[k], label=str(n)) for k, n in enumerate(names)],
                   loc="lower center", ncol=n_labels, frameon=False, bbox_to_anchor=(0.5, -0.06))
    return fig
