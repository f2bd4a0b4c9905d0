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


# --- helpers for notebooks 00-06 (trim pass) ---------------------------------------------------
def plot_convergence_1d(grid, curve, iterates, optimum, *, xlabel=r"$\theta$", ylabel=r"$l(\theta)$"):
    """A 1-D log-likelihood with EM's iterates on it (left) and their error on a log scale (right).

    Parameters
    ----------
    grid : array of shape (G,), values of the one parameter
    curve : callable mapping an array of parameter values to the log-likelihood, same shape
        (used on ``grid`` and on ``iterates``)
    iterates : array of shape (T + 1,), theta^(0) .. theta^(T)
    optimum : float, the maximiser theta* (a dotted line; the error is |theta^(t) - theta*|)
    xlabel, ylabel : str, labels of the parameter and of the log-likelihood

    Returns
    -------
    matplotlib Figure with two Axes
    """
    grid, iterates = np.asarray(grid, dtype=float), np.asarray(iterates, dtype=float)
    if grid.ndim != 1 or iterates.ndim != 1 or iterates.size < 2:
        raise ValueError(f"grid must have shape (G,) and iterates shape (T + 1,) with T >= 1, "
                         f"got {grid.shape} and {iterates.shape}")
    if not callable(curve):
        raise TypeError(f"curve must be a function of the parameter, got {type(curve).__name__}")
    fig, (ax, ax_err) = plt.subplots(1, 2, figsize=(10, 3.8))
    ax.plot(grid, curve(grid), color="k", lw=1.5)
    ax.plot(iterates, curve(iterates), "o", color=PALETTE[1], ms=5, label="EM iterates")
    ax.axvline(optimum, color="0.4", ls=":", lw=1.5, label=r"closed-form $\theta^\ast$")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title("observed-data log-likelihood")
    ax.legend(loc="lower center")
    ax_err.semilogy(np.arange(iterates.size), np.abs(iterates - optimum), "o-", color=PALETTE[1], ms=4)
    ax_err.set_xlabel("step t")
    ax_err.xaxis.set_major_locator(plt.MaxNLocator(integer=True))
    ax_err.set_ylabel(r"$|\theta^{(t)} - \theta^\ast|$")
    ax_err.set_title("error: a straight line")
    fig.tight_layout()
    return fig


def surface_levels(L, n_levels: int = 22, *, closest: float = 0.5) -> np.ndarray:
    """Contour levels for a log-likelihood surface, dense near its top: ``L.max() - geomspace(closest, range)``.

    Parameters
    ----------
    L : array of any shape, the log-likelihood values (finite)
    n_levels : int, the number of levels
    closest : float > 0, how far below the maximum the highest level lies

    Returns
    -------
    array of shape (n_levels,), increasing
    """
    L = np.asarray(L, dtype=float)
    if L.size < 2 or not np.all(np.isfinite(L)) or np.ptp(L) <= closest:
        raise ValueError(f"L must hold finite values spanning more than closest = {closest}")
    return np.sort(L.max() - np.geomspace(closest, L.max() - L.min(), n_levels))


def plot_loglik_surface(ax, M1, M2, L, *, maximum=None, levels=None, colorbar=True, labels=True):
    """A log-likelihood over two means: filled contours, a star at the maximum and a hollow star at its twin.

    The twin is the maximum with the two means swapped (label switching).

    Parameters
    ----------
    ax : matplotlib Axes
    M1, M2 : arrays of shape (G2, G1), the grid (``np.meshgrid(axis1, axis2)``)
    L : array of shape (G2, G1), the log-likelihood on the grid
    maximum : array of shape (2,) or None, (mu_1, mu_2) at the maximum
    levels : array of shape (K,) or None; default ``surface_levels(L)``
    colorbar : bool, draw a colour bar labelled l(mu_1, mu_2)
    labels : bool, give the stars legend labels

    Returns
    -------
    array of shape (K,), the levels used (to draw the same surface again)
    """
    M1, M2, L = (np.asarray(a, dtype=float) for a in (M1, M2, L))
    if not (M1.shape == M2.shape == L.shape) or L.ndim != 2:
        raise ValueError(f"M1, M2 and L must be 2-D arrays of one shape, got {M1.shape}, {M2.shape}, {L.shape}")
    levels = surface_levels(L) if levels is None else np.asarray(levels, dtype=float)
    cs = ax.contourf(M1, M2, L, levels=levels, cmap="viridis", extend="min")
    ax.contour(M1, M2, L, levels=levels, colors="k", linewidths=0.3)
    if colorbar:
        ax.figure.colorbar(cs, ax=ax, shrink=0.8, label=r"$l(\mu_1, \mu_2)$")
    if maximum is not None:
        maximum = np.asarray(maximum, dtype=float)
        if maximum.shape != (2,):
            raise ValueError(f"maximum must have shape (2,), got {maximum.shape}")
        ax.plot(*maximum, marker="*", ms=16, color=PALETTE[3], markeredgecolor="k", ls="none",
                label=r"maximum $(\hat\mu_1, \hat\mu_2)$" if labels else None)
        ax.plot(*maximum[::-1], marker="*", ms=16, color="w", markeredgecolor=PALETTE[3], ls="none",
                label="its label-switched twin" if labels else None)
    ax.set_xlabel(r"$\mu_1$")
    ax.set_ylabel(r"$\mu_2$")
    ax.set_aspect("equal")
    return levels


PATH_STYLES = ((PALETTE[1], "o", "-"), ("k", "s", "--"), ("w", "^", ":"), (PALETTE[5], "D", "-."))
"""(colour, marker, line style) of successive paths drawn on a viridis surface."""


def plot_ascent_paths(M1, M2, L, paths, values, *, maximum=None, best=None, levels=None, styles=PATH_STYLES):
    """Paths of an iterative method over a 2-parameter log-likelihood (left) and l along each (right).

    Parameters
    ----------
    M1, M2, L : arrays of shape (G2, G1), the grid and the log-likelihood on it (``plot_loglik_surface``)
    paths : dict mapping a label to an array of shape (T + 1, 2), the iterates; all start at the
        same point (a black square)
    values : dict with the same keys, arrays of shape (T + 1,), the log-likelihood at the iterates
    maximum : array of shape (2,) or None, the maximiser (stars, as in ``plot_loglik_surface``)
    best : float or None, the maximum value (a dotted line on the right)
    levels : array or None, the contour levels
    styles : sequence of (colour, marker, line style), one per path (white is drawn grey on the right)

    Returns
    -------
    matplotlib Figure with two Axes
    """
    if set(paths) != set(values) or not paths:
        raise ValueError("paths and values must be non-empty dicts with the same keys")
    if len(paths) > len(styles):
        raise ValueError(f"styles must give one style per path ({len(paths)}), got {len(styles)}")
    fig, (ax, ax_l) = plt.subplots(1, 2, figsize=(11.5, 4.8))
    plot_loglik_surface(ax, M1, M2, L, maximum=maximum, levels=levels, colorbar=False, labels=False)
    for (label, path), (col, mk, ls) in zip(paths.items(), styles):
        path, value = np.asarray(path, dtype=float), np.asarray(values[label], dtype=float)
        if path.ndim != 2 or path.shape[1] != 2 or value.shape != (path.shape[0],):
            raise ValueError(f"path {label!r} must have shape (T + 1, 2) and its values shape (T + 1,), "
                             f"got {path.shape} and {value.shape}")
        ax.plot(path[:, 0], path[:, 1], marker=mk, ls=ls, color=col, ms=4, lw=1.4, label=label)
        ax_l.plot(value, marker=mk, ls=ls, color=col if col != "w" else "0.45", ms=4, label=label)
    ax.plot(*np.asarray(path)[0], "ks", ms=8)
    ax.legend(loc="lower right", fontsize=10, facecolor="0.75")
    ax.set_title(f"{len(path) - 1} steps from the black square")
    if best is not None:
        ax_l.axhline(best, color=PALETTE[3], ls=":", lw=1.5, label="maximum")
        ax_l.set_ylim(best - 60, best + 5)
    ax_l.set_xlabel("step")
    ax_l.set_ylabel(r"$l(\mu_1, \mu_2)$")
    ax_l.legend(fontsize=10)
    fig.tight_layout()
    return fig


def plot_density_iterations(x, result, iterations=(0, 1, 3), grid=None, *, bins=40, size=4.5):
    """A 1-D mixture's density over the histogram at chosen EM iterations, one panel each.

    Parameters
    ----------
    x : array of shape (n,) or (n, 1), the data
    result : EMResult with ``history`` (kept) and ``loglik`` of shape (n_iter + 1,)
    iterations : sequence of int, the iterations t to draw (titles give l(theta^(t)))
    grid : array of shape (G,) or None, where to evaluate the densities
    bins : int, histogram bins
    size : float, the width of a panel in inches

    Returns
    -------
    matplotlib Figure with ``len(iterations)`` Axes
    """
    history = getattr(result, "history", None)
    if not history:
        raise ValueError("result must keep its history (emlib.em(..., keep_history=True))")
    bad = [t for t in iterations if not 0 <= t < len(history)]
    if bad:
        raise ValueError(f"iterations must lie in 0..{len(history) - 1}, got {bad}")
    fig, axes = plt.subplots(1, len(iterations), figsize=(size * len(iterations), 3.4), sharey=True, squeeze=False)
    for ax, t in zip(axes[0], iterations):
        plot_density_1d(history[t], grid, ax=ax, data=x, bins=bins)
        ax.set_title(f"t = {t}:  l = {result.loglik[t]:.1f}")
    axes[0, -1].legend(fontsize=10, loc="upper left", bbox_to_anchor=(1.02, 1.0))
    fig.tight_layout()
    return fig


def plot_simplex_scores(ax, weights, shortfall, best, *, label=r"$\rho_k = N_k / n$"):
    """Weight vectors on the simplex of 3 components, coloured (log scale) by how much worse they score.

    Drawn in the (rho_1, rho_2) plane (rho_3 = 1 - rho_1 - rho_2), with a colour bar and a star at ``best``.

    Parameters
    ----------
    ax : matplotlib Axes
    weights : array of shape (N, 3), rows on the simplex
    shortfall : array of shape (N,), > 0: score(best) - score(row)
    best : array of shape (3,), the best weight vector
    label : str, the star's legend label

    Returns
    -------
    the scatter's PathCollection
    """
    from matplotlib.colors import LogNorm

    weights, shortfall, best = (np.asarray(a, dtype=float) for a in (weights, shortfall, best))
    if weights.ndim != 2 or weights.shape[1] != 3 or shortfall.shape != (weights.shape[0],) or best.shape != (3,):
        raise ValueError(f"weights must have shape (N, 3), shortfall (N,) and best (3,), "
                         f"got {weights.shape}, {shortfall.shape} and {best.shape}")
    if not np.all(shortfall > 0):
        raise ValueError("shortfall must be positive (it is drawn on a log scale)")
    sc = ax.scatter(weights[:, 0], weights[:, 1], c=shortfall, s=6, cmap="viridis_r", norm=LogNorm())
    ax.plot(*best[:2], marker="*", color=PALETTE[1], markersize=16, markeredgecolor="k", ls="none", label=label)
    ax.figure.colorbar(sc, ax=ax, label=r"$Q(\rho^\ast) - Q(\rho)$ (log scale)")
    ax.set_xlabel(r"$\rho_1$")
    ax.set_ylabel(r"$\rho_2$  ($\rho_3 = 1 - \rho_1 - \rho_2$)")
    ax.legend(loc="upper right")
    return sc


def plot_assignment_curves(ax, grid, curves, loglik, *, highlight=None, highlight_label="Z = the true labels"):
    """The complete-data log-likelihoods ln p(X, Z | theta), one grey curve per assignment Z, under l(theta).

    Parameters
    ----------
    ax : matplotlib Axes
    grid : array of shape (G,), values of the one free parameter
    curves : array of shape (G, N), ln p(X, Z | theta) for N assignments
    loglik : array of shape (G,), l(theta) = ln sum_Z p(X, Z | theta)
    highlight : int or None, the column of ``curves`` to draw in colour
    highlight_label : str, its legend label

    Returns
    -------
    ax
    """
    grid, curves, loglik = (np.asarray(a, dtype=float) for a in (grid, curves, loglik))
    if grid.ndim != 1 or curves.ndim != 2 or curves.shape[0] != grid.size or loglik.shape != grid.shape:
        raise ValueError(f"curves must have shape ({grid.size}, N) and loglik ({grid.size},), "
                         f"got {curves.shape} and {loglik.shape}")
    ax.plot(grid, curves, color="0.8", lw=0.5)
    if highlight is not None:
        ax.plot(grid, curves[:, highlight], color=PALETTE[0], lw=2, label=highlight_label)
    ax.plot(grid, loglik, color="k", lw=2.2, label=r"$l(\mu_1)$ = log of the sum")
    ax.set_ylim(loglik.min() - 25, loglik.max() + 3)
    ax.set_xlabel(r"$\mu_1$")
    ax.set_ylabel("log-likelihood")
    ax.set_title(rf"{curves.shape[1]} curves $\ln p(X, Z \mid \mu_1)$, one per assignment")
    ax.legend(loc="lower left", fontsize=10)
    return ax


def fraction_inside(samples, mean, cov, n_std: float, *, half_axes=None) -> float:
    """The fraction of samples inside the ellipse at ``n_std`` along the eigenvectors of ``cov``.

    Parameters
    ----------
    samples : array of shape (n, 2)
    mean : array of shape (2,)
    cov : array of shape (2, 2), symmetric positive definite
    n_std : float > 0
    half_axes : array of shape (2,) or None, the ellipse's half-axes per unit ``n_std`` along the
        eigenvectors in ``np.linalg.eigh`` order; default the standard deviations sqrt(eigenvalues)

    Returns
    -------
    float in [0, 1]; for Gaussian samples and the default it is close to 1 - exp(-n_std**2 / 2)
    """
    samples, mean, cov = (np.asarray(a, dtype=float) for a in (samples, mean, cov))
    if samples.ndim != 2 or samples.shape[1] != 2 or mean.shape != (2,) or cov.shape != (2, 2):
        raise ValueError(f"samples must have shape (n, 2), mean (2,) and cov (2, 2), "
                         f"got {samples.shape}, {mean.shape} and {cov.shape}")
    vals, vecs = np.linalg.eigh(cov)
    half = np.sqrt(np.maximum(vals, 0.0)) if half_axes is None else np.asarray(half_axes, dtype=float)
    rotated = (samples - mean) @ vecs
    return float(np.mean(np.sum((rotated / (n_std * half)) ** 2, axis=1) <= 1))


def plot_ellipse_check(samples, cov, *, mean=(0.0, 0.0), n_std=(1, 2)):
    """A covariance drawn as ellipses two ways: half-axes = standard deviations (correct) or variances (a bug).

    Each panel prints the fraction of the samples inside each ellipse and, for a 2-D Gaussian, the
    expected fraction 1 - exp(-s^2 / 2).

    Parameters
    ----------
    samples : array of shape (n, 2), draws from N(mean, cov)
    cov : array of shape (2, 2), symmetric positive definite
    mean : array of shape (2,)
    n_std : sequence of float, the sizes s of the ellipses (at most 8)

    Returns
    -------
    matplotlib Figure with two Axes (correct, bug)
    """
    samples, cov, mean = (np.asarray(a, dtype=float) for a in (samples, cov, mean))
    vals = np.linalg.eigh(cov)[0] if cov.shape == (2, 2) else None
    if vals is None or vals.min() <= 0 or not np.allclose(cov, cov.T):
        raise ValueError(f"cov must be a symmetric positive definite (2, 2) matrix, got shape {cov.shape}")
    angle = ellipse_axes(cov)[2]
    colors = (PALETTE[1], PALETTE[0]) + PALETTE[2:]
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharex=True, sharey=True)
    for ax, (name, half) in zip(axes, [("standard deviations (correct)", np.sqrt(vals)), ("variances (bug)", vals)]):
        ax.scatter(samples[:, 0], samples[:, 1], s=3, color="0.6", linewidths=0)
        lines = []
        for j, s in enumerate(n_std):
            inside = fraction_inside(samples, mean, cov, s, half_axes=half)
            ax.add_patch(Ellipse(tuple(mean), 2 * s * half[1], 2 * s * half[0], angle=angle, fill=False,
                                 edgecolor=colors[j % len(colors)], linestyle=component_linestyle(j),
                                 linewidth=2))
            lines.append(f"{s} sd: {inside:.0%} inside (expected {1 - np.exp(-s**2 / 2):.0%})")
        ax.set_title(f"half-axes = {name}")
        ax.text(0.02, 0.02, "\n".join(lines), transform=ax.transAxes, fontsize=11, va="bottom")
        ax.set_aspect("equal")
        ax.set_xlabel("$x_1$")
    axes[0].set_ylabel("$x_2$")
    reach = 2.2 * max(n_std) * np.sqrt(vals.max())
    axes[0].set_xlim(mean[0] - reach, mean[0] + reach)
    axes[0].set_ylim(mean[1] - reach * 2 / 3, mean[1] + reach * 2 / 3)
    return fig


def plot_fits_grid(X, fits, *, ncols=2, size=4.4, s=4):
    """Fits of the same 2-D data side by side, titled by name, final log-likelihood and parameter count.

    Parameters
    ----------
    X : array of shape (n, 2), the data
    fits : dict mapping a name (e.g. the covariance kind) to an EMResult (``mixture``, ``loglik``)
    ncols : int, panels per row
    size : float, the width of a panel in inches
    s : float, marker size of the points

    Returns
    -------
    matplotlib Figure with ``len(fits)`` Axes
    """
    from ..selection import n_parameters

    if not fits:
        raise ValueError("fits must map at least one name to an EM result")
    nrows = -(-len(fits) // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 0.91), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (name, res) in zip(axes.ravel(), fits.items()):
        plot_mixture_2d(X, res.mixture, ax=ax, s=s)
        ax.set_title(f"{name}:  l = {res.loglik[-1]:.1f},  {n_parameters(res.mixture)} parameters")
    for ax in axes.ravel()[len(fits):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


def plot_fit_and_loglik(X, result, *, start=None, n_std=(1, 2, 3), labels=("$x_1$", "$x_2$"), s=8):
    """A 2-D fit with its ellipses and start means (left) and the log-likelihood per sample along the run (right).

    Parameters
    ----------
    X : array of shape (n, 2), the data
    result : EMResult (``mixture``, ``loglik`` of shape (n_iter + 1,))
    start : Mixture or None, the start; its means are drawn as black triangles
    n_std : sequence of float, ellipse sizes in standard deviations
    labels : (str, str), the axis labels of the data
    s : float, marker size of the points

    Returns
    -------
    matplotlib Figure with two Axes
    """
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"X must have shape (n, 2), got {X.shape}")
    fig, (ax, ax_l) = plt.subplots(1, 2, figsize=(10.5, 4))
    plot_mixture_2d(X, result.mixture, ax=ax, n_std=n_std, s=s)
    if start is not None:
        ax.plot(*start.means.T, "k^", markersize=7, ls="none", label="start means")
        ax.legend(loc="upper left", fontsize=10)
    ax.set_xlabel(labels[0])
    ax.set_ylabel(labels[1])
    m = result.mixture.n_components
    count = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine")[m - 1] if m <= 9 else str(m)
    ax.set_title(f"{count} {result.mixture.kind}-covariance component{'s' if m > 1 else ''}")
    plot_loglik(result.loglik, ax=ax_l, per_sample=len(X))
    ax_l.set_title("log-likelihood per sample along the run")
    fig.tight_layout()
    return fig


# --- helpers for notebooks 07-10b (trim pass) ------------------------------------------------

def plot_hardening(ax, X, means, sigmas):
    """How one E-step of the k-means-limit mixture hardens as sigma shrinks.

    For every sigma, one E-step with equal weights 1/m and covariance sigma^2 I
    at ``means``; drawn against sigma (log scale): the mean over the points of
    max_k E[z_i^(k)] (1 = hard, 1/m = no preference) and of the entropy
    -sum_k E[z_i^(k)] ln E[z_i^(k)] divided by ln m (0 = hard, 1 = uniform).

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, d)
    means : array of shape (m, d), m >= 2
    sigmas : array-like of shape (s,), positive

    Returns
    -------
    ax
    """
    from ..kmeans import kmeans_limit_mixture
    from ..steps import e_step

    means = np.asarray(means, dtype=float)
    sigmas = np.asarray(sigmas, dtype=float)
    if means.ndim != 2 or means.shape[0] < 2:
        raise ValueError(f"means must have shape (m, d) with m >= 2, got shape {means.shape}")
    if sigmas.ndim != 1 or sigmas.size == 0 or not np.all(np.isfinite(sigmas) & (sigmas > 0)):
        raise ValueError("sigmas must be a non-empty 1-D array of positive numbers")
    m = means.shape[0]
    max_resp, entropy = [], []
    for sigma in sigmas:
        resp, _ = e_step(X, kmeans_limit_mixture(means, sigma))
        max_resp.append(resp.max(axis=1).mean())
        with np.errstate(divide="ignore", invalid="ignore"):
            h = -np.sum(np.where(resp > 0, resp * np.log(resp), 0.0), axis=1) / np.log(m)
        entropy.append(h.mean())
    ax.semilogx(sigmas, max_resp, color=PALETTE[0], label=r"mean of $\max_k E[z_i^{(k)}]$")
    ax.semilogx(sigmas, entropy, color=PALETTE[1], ls="--", label=r"mean entropy / $\ln m$")
    ax.axhline(1 / m, color="0.6", ls=":", lw=1)
    ax.set_xlabel(r"$\sigma$")
    ax.set_ylim(-0.03, 1.03)
    ax.legend(fontsize=10)
    return ax


def plot_means_on_labels(ax, X, resp, means, *, true_means=None, title=None):
    """Points coloured by responsibilities (or 0/1 labels), the estimated means as black crosses.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, 2)
    resp : array of shape (n, m), E[z_i^(k)] or one-hot labels (``np.eye(m)[labels]``)
    means : array of shape (m, 2), the estimated means
    true_means : array of shape (m', 2) or None, drawn as yellow circles
    title : str or None

    Returns
    -------
    ax
    """
    means = np.asarray(means, dtype=float)
    if means.ndim != 2 or means.shape[1] != 2:
        raise ValueError(f"means must have shape (m, 2), got shape {means.shape}")
    plot_mixture_2d(X, resp=resp, ax=ax, s=6, title=title)
    ax.plot(*means.T, "kx", ms=10, mew=2, label="estimated means")
    if true_means is not None:
        ax.plot(*np.asarray(true_means, dtype=float).T, "o", color=PALETTE[7], mec="k", ms=9, label="true means")
    ax.set_aspect("equal")
    return ax


def plot_iteration_costs(per_iteration, runs, *, best=None, floor=None, positions=None, title=None):
    """The cost of one iteration (box plots) and a race redrawn against time.

    Left: a box plot per method of its measured seconds per iteration (in ms,
    outliers not drawn). Right: each run's l(theta^(t)) / n against t times the
    method's *median* time per iteration (:func:`plot_runs`).

    Parameters
    ----------
    per_iteration : dict {label: array of shape (k,)}, seconds per iteration, k >= 1
    runs : dict {label: result} with the same labels, each with ``mean_loglik`` of shape (T + 1,)
    best, floor, positions : as in :func:`plot_runs`
    title : str or None, the title of the box plot

    Returns
    -------
    matplotlib Figure
    """
    if list(per_iteration) != list(runs):
        raise ValueError(f"per_iteration and runs must have the same labels, got {list(per_iteration)} and {list(runs)}")
    times = {label: np.asarray(t, dtype=float).ravel() for label, t in per_iteration.items()}
    for label, t in times.items():
        if t.size == 0 or not np.all(np.isfinite(t) & (t >= 0)):
            raise ValueError(f"per_iteration[{label!r}] must be a non-empty array of non-negative seconds")
    fig, (ax_box, ax_time) = plt.subplots(1, 2, figsize=(11, 4.4), gridspec_kw={"width_ratios": [1, 2]})
    ax_box.boxplot([1e3 * t for t in times.values()], showfliers=False, widths=0.5)
    ax_box.set_xticks(np.arange(1, len(times) + 1), list(times))
    ax_box.set_ylabel("time per iteration (ms)")
    ax_box.set_ylim(bottom=0)
    if title:
        ax_box.set_title(title)
    plot_runs(ax_time, runs, best=best, floor=floor, positions=positions,
              seconds_per_iteration={label: float(np.median(t)) for label, t in times.items()})
    ax_time.set_xscale("symlog", linthresh=1)
    ax_time.set_xlabel("iterations x median time per iteration (ms)")
    ax_time.legend(fontsize=10, loc="lower right")
    fig.tight_layout()
    return fig


def plot_conditional_density(ax, x, resp, means, variances, *, imputed=None, label="conditional density"):
    """A 1-D conditional density as a mixture: its weighted components shaded, the total in black.

    The density of a missing feature given the observed ones is
    sum_k E[z^(k)] N(x | x_hat_k, C_k); components with responsibility
    below 0.001 are not shaded.

    Parameters
    ----------
    ax : Matplotlib Axes
    x : array of shape (g,), where to draw
    resp : array of shape (m,), the responsibilities (summing to 1)
    means : array of shape (m,), each component's conditional mean x_hat_k
    variances : array of shape (m,), each component's conditional variance C_k > 0
    imputed : float or None, drawn as a dashed vertical line (the conditional mean)
    label : str, the legend entry of the total

    Returns
    -------
    ax
    """
    x = np.asarray(x, dtype=float)
    resp, means, variances = (np.asarray(a, dtype=float).ravel() for a in (resp, means, variances))
    if not resp.shape == means.shape == variances.shape:
        raise ValueError(f"resp, means and variances must have the same shape (m,), got {resp.shape}, "
                         f"{means.shape}, {variances.shape}")
    if not np.all(variances > 0):
        raise ValueError("variances must be positive")
    colors = component_colors(resp.size)
    hatches = ("", "//", "..", "\\\\", "xx", "oo")
    total = np.zeros_like(x)
    for k in range(resp.size):
        part = resp[k] * np.exp(-0.5 * (x - means[k]) ** 2 / variances[k]) / np.sqrt(2 * np.pi * variances[k])
        total += part
        if resp[k] > 1e-3:
            ax.fill_between(x, part, color=colors[k], alpha=0.35, hatch=hatches[k % len(hatches)],
                            label=f"component {k + 1} (responsibility {resp[k]:.2f})")
    ax.plot(x, total, color="k", lw=1.5, label=label)
    if imputed is not None:
        ax.axvline(imputed, color="k", ls="--", lw=1.5, label="imputed value (conditional mean)")
    ax.set_ylabel("density")
    ax.legend(fontsize=10, loc="upper right")
    return ax


def plot_fit_and_truth(ax, X, fitted, truth, *, n_std=2, dims=(0, 1)):
    """The complete rows of X (grey), a fitted mixture's ellipses (solid) and the true ones (dotted).

    Component k of ``fitted`` should already be matched to component k of
    ``truth`` (:func:`emlib.scoring.match_components`): they share a colour.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, d), NaN where an entry is missing
    fitted, truth : Mixture with the same number of components, dimension d
    n_std : float, the ellipses' size in standard deviations
    dims : (int, int), the two features drawn

    Returns
    -------
    ax
    """
    X = np.asarray(X, dtype=float)
    if fitted.n_components != truth.n_components:
        raise ValueError(f"fitted and truth must have the same number of components, got "
                         f"{fitted.n_components} and {truth.n_components}")
    complete = ~np.isnan(X).any(axis=1)
    i, j = dims
    ax.scatter(X[complete, i], X[complete, j], s=5, color="0.65", label="complete rows")
    plot_ellipses(ax, fitted, n_std=(n_std,), dims=dims)
    before = len(ax.patches)
    plot_ellipses(ax, truth, n_std=(n_std,), dims=dims, label_means=False, alpha_by_weight=False)
    for patch in ax.patches[before:]:
        patch.set_linestyle(":")
    ax.set_xlabel(f"feature {i + 1}")
    ax.set_ylabel(f"feature {j + 1}")
    return ax


def plot_curve_panels(x, means, spreads, labels, titles, *, xlabel=None, ylabel=None, log_panels=()):
    """A row of panels, one per quantity, each with a curve and a band per method (:func:`plot_curves_with_spread`).

    Parameters
    ----------
    x : array of shape (p,)
    means, spreads : arrays of shape (p, L, P): at each x, for each of L methods, P quantities
    labels : L method names (one legend below the panels)
    titles : P panel titles
    xlabel, ylabel : str or None (ylabel on the first panel)
    log_panels : indices of the panels with a logarithmic y-axis

    Returns
    -------
    matplotlib Figure
    """
    x = np.asarray(x, dtype=float)
    means, spreads = np.asarray(means, dtype=float), np.asarray(spreads, dtype=float)
    if means.shape != spreads.shape or means.shape != (x.size, len(labels), len(titles)):
        raise ValueError(f"means and spreads must have shape (len(x), len(labels), len(titles)) = "
                         f"{(x.size, len(labels), len(titles))}, got {means.shape} and {spreads.shape}")
    fig, axes = plt.subplots(1, len(titles), figsize=(4.35 * len(titles), 4.2), squeeze=False)
    for p, ax in enumerate(axes[0]):
        plot_curves_with_spread(ax, x, {name: means[:, k, p] for k, name in enumerate(labels)},
                                spread={name: spreads[:, k, p] for k, name in enumerate(labels)})
        ax.set_title(titles[p])
        if xlabel:
            ax.set_xlabel(xlabel)
        if p in log_panels:
            ax.set_yscale("log")
    if ylabel:
        axes[0, 0].set_ylabel(ylabel)
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="lower center", ncol=len(labels), fontsize=11,
               frameon=False)
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return fig


def plot_trim_history(result, *, linthresh=20):
    """A trimmed EM run: components left after each M-step (left), l / n with each trim marked (right).

    Parameters
    ----------
    result : EMResult with its ``history`` (T + 1 mixtures) and ``mean_loglik`` of shape (T + 1,)
    linthresh : float, the x-axes are linear up to this iteration, logarithmic after

    Returns
    -------
    matplotlib Figure
    """
    if not getattr(result, "history", None):
        raise ValueError("result must carry its history: run emlib.em(..., keep_history=True)")
    counts = np.array([mix.n_components for mix in result.history])
    fig, (ax_m, ax_l) = plt.subplots(1, 2, figsize=(11, 4))
    ax_m.step(np.arange(counts.size), counts, where="post", color="k")
    ax_m.set_ylabel("components m")
    ax_m.set_title("components left after each M-step")
    ax_m.set_ylim(0, counts.max() + 2)
    plot_loglik(result.mean_loglik, ax=ax_l, label="with trimming")
    ax_l.set_ylabel("log-likelihood per sample")
    for t in np.flatnonzero(np.diff(counts)) + 1:
        ax_l.axvline(t, color=PALETTE[1], lw=0.8, alpha=0.6)
    ax_l.set_title("log-likelihood (vermillion lines: a trim)")
    for ax in (ax_m, ax_l):
        ax.set_xscale("symlog", linthresh=linthresh)
        ax.set_xlim(0, counts.size)
        ax.set_xlabel(f"iteration t (log scale after {linthresh:g})")
    fig.tight_layout()
    return fig


def narrowest_sd(mixture) -> np.ndarray:
    """Each component's narrowest standard deviation, sqrt of the smallest eigenvalue of Sigma_k, shape (m,)."""
    return np.sqrt(np.linalg.eigvalsh(mixture.covariances)[:, 0])


def plot_highlighted(ax, X, mixture, highlight, *, color=PALETTE[1], n_std=(1,), linewidth=3.0):
    """Many components as outlines (:func:`plot_outlines`), the ones in ``highlight`` thick and coloured.

    For pointing at a few components of many, e.g. the needle-thin ones on a ring.

    Parameters
    ----------
    ax : Matplotlib Axes
    X : array of shape (n, 2)
    mixture : Mixture with 2-D components
    highlight : array of component indices, or a boolean array of shape (m,)
    color : the highlighted components' colour

    Returns
    -------
    ax
    """
    highlight = np.asarray(highlight)
    if highlight.dtype == bool:
        if highlight.shape != (mixture.n_components,):
            raise ValueError(f"a boolean highlight must have shape ({mixture.n_components},), got {highlight.shape}")
        highlight = np.flatnonzero(highlight)
    plot_outlines(ax, X, mixture)
    if highlight.size:
        part = Mixture(np.full(highlight.size, 1.0 / highlight.size), mixture.means[highlight],
                       mixture.covariances[highlight])
        plot_ellipses(ax, part, n_std=n_std, colors=[color] * highlight.size, label_means=False,
                      linewidth=linewidth, alpha_by_weight=False)
    return ax


def plot_weight_and_width(ax, mixtures, n, *, threshold=None):
    """Each component as a marker: points it owns, n rho_k, against its narrowest standard deviation.

    Parameters
    ----------
    ax : Matplotlib Axes
    mixtures : dict {label: Mixture}, a colour and marker each (blue circles, vermillion squares, ...)
    n : int, the number of training points
    threshold : float or None, a trimming threshold on rho_k, drawn at n * threshold

    Returns
    -------
    ax
    """
    for k, (label, mix) in enumerate(mixtures.items()):
        ax.scatter(n * mix.weights, narrowest_sd(mix), color=PALETTE[k % len(PALETTE)], marker=component_marker(k),
                   s=32, alpha=0.8, label=label)
    if threshold is not None:
        ax.axvline(n * threshold, color="0.4", ls="--", lw=1)
        ax.text(n * threshold, 0.03, "  trimming\n  threshold", fontsize=11, va="bottom",
                transform=ax.get_xaxis_transform())
    ax.set_yscale("log")
    ax.set_xlabel(r"points owned, $n\rho_k$")
    ax.set_ylabel("narrowest standard deviation")
    ax.legend(fontsize=10, loc="lower right")
    return ax


def plot_spread_sweep(ax, sigmas, spreads, *, sigma_c=None, reference=None):
    """The largest distance between EM's means against sigma, on the k-means-limit mixture.

    Parameters
    ----------
    ax : Matplotlib Axes
    sigmas : array-like of shape (s,)
    spreads : array-like of shape (s,), max_{j,k} ||mu_j - mu_k|| at the end of EM for each sigma
    sigma_c : float or None, drawn as a dashed vertical line (sqrt of the largest eigenvalue of the data covariance)
    reference : float or None, drawn as a dotted horizontal line (k-means' spread)

    Returns
    -------
    ax
    """
    sigmas, spreads = np.asarray(sigmas, dtype=float), np.asarray(spreads, dtype=float)
    if sigmas.shape != spreads.shape or sigmas.ndim != 1:
        raise ValueError(f"sigmas and spreads must be 1-D of the same length, got shapes {sigmas.shape} and {spreads.shape}")
    ax.plot(sigmas, spreads, marker="o", ms=3, color=PALETTE[0])
    if sigma_c is not None:
        ax.axvline(sigma_c, color="k", ls="--", lw=1, label=r"$\sqrt{\lambda_{\max}}$ of the data covariance")
    if reference is not None:
        ax.axhline(reference, color=PALETTE[1], ls=":", lw=1.5, label="k-means")
    ax.set_xlabel(r"$\sigma$")
    ax.set_ylabel("largest distance between EM means")
    if sigma_c is not None or reference is not None:
        ax.legend(fontsize=10)
    return ax


def plot_partitions(X, panels, *, ncols=None, size=(4.5, 4.0)):
    """Several partitions of the same 2-D points side by side, with the same axes.

    Parameters
    ----------
    X : array of shape (n, 2)
    panels : dict {title: labels or Mixture}; labels of shape (n,) (ints in 0..m-1) colour the
        points by label; a Mixture colours them by its responsibilities and draws its ellipses
    ncols : int or None, panels per row (default: all in one row)
    size : (float, float), the width and height of one panel in inches

    Returns
    -------
    matplotlib Figure
    """
    X = np.asarray(X, dtype=float)
    ncols = ncols or len(panels)
    nrows = int(np.ceil(len(panels) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size[0] * ncols, size[1] * nrows), sharex=True, sharey=True,
                             squeeze=False)
    for ax, (title, what) in zip(axes.ravel(), panels.items()):
        if isinstance(what, Mixture):
            plot_mixture_2d(X, what, ax=ax, s=6, title=title)
        else:
            labels = np.asarray(what)
            if labels.shape != (X.shape[0],) or labels.dtype.kind not in "iu" or labels.min() < 0:
                raise ValueError(f"panel {title!r} must be a Mixture or labels of shape ({X.shape[0]},) "
                                 f"(non-negative ints), got shape {labels.shape}")
            plot_mixture_2d(X, resp=np.eye(labels.max() + 1)[labels], ax=ax, s=6, title=title)
        ax.set_aspect("equal")
    for ax in axes.ravel()[len(panels):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


# --- helpers for notebooks 11-16 (trim pass)


def plot_against_m(ax, ms, curves, *, best="min", ylabel=None, title=None, xlabel="number of components m"):
    """Curves against the number of components m (a criterion, a log-likelihood), the chosen m circled.

    Parameters
    ----------
    ax : Matplotlib Axes
    ms : array-like of shape (p,), the numbers of components
    curves : dict {label: array-like of shape (p,)}; each curve gets a colour, marker and line style
        (as in :func:`plot_curves_with_spread`); a legend is drawn when there are two or more
    best : "min", "max" or None, or a dict {label: "min" | "max" | None}: which value of each curve
        is circled (None, or a label missing from the dict: none)
    ylabel, title, xlabel : str or None

    Returns
    -------
    ax
    """
    ms = np.asarray(ms, dtype=float)
    plot_curves_with_spread(ax, ms, curves)
    for label, y in curves.items():
        rule = best.get(label) if isinstance(best, dict) else best
        if rule is None:
            continue
        if rule not in ("min", "max"):
            raise ValueError(f"best must be 'min', 'max' or None for every curve, got {rule!r} for {label!r}")
        y = np.asarray(y, dtype=float)
        k = int(np.argmin(y) if rule == "min" else np.argmax(y))
        ax.plot(ms[k], y[k], "o", ms=14, mfc="none", mec="k")
    ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if len(curves) > 1:
        ax.legend()
    return ax


def plot_restart_values(ax, finals, *, gap=False, jitter=0.12, seed=0):
    """The final values of several EM restarts for each m: a column of dots per m, the best circled.

    Parameters
    ----------
    ax : Matplotlib Axes
    finals : dict {m: array-like of shape (r,)}, e.g. the final log-likelihood per sample of r >= 1 restarts
    gap : bool; if True, draw each value minus the best of its column (the best run sits at 0)
    jitter : float, the dots of a column are spread at random over m +- jitter (so that equal values show)
    seed : int, the seed of that spread

    Returns
    -------
    ax
    """
    rng = np.random.default_rng(seed)
    for m, values in finals.items():
        v = np.asarray(values, dtype=float)
        if v.ndim != 1 or v.size == 0:
            raise ValueError(f"finals[{m!r}] must be a non-empty 1-D array of final values, got shape {v.shape}")
        y = v - v.max() if gap else v
        ax.scatter(m + rng.uniform(-jitter, jitter, v.size), y, s=22, color=PALETTE[0], alpha=0.7)
        ax.plot(m, y.max(), "o", ms=11, mfc="none", mec="k")
    ax.set_xticks(list(finals))
    ax.set_xlabel("number of components m")
    return ax


def outline_segments(image, labels, color=(1.0, 1.0, 0.0)):
    """A copy of an RGB image with the borders between segments painted in one colour.

    A pixel is on a border when its right or lower neighbour has another label, so every border
    is one pixel wide.

    Parameters
    ----------
    image : array of shape (h, w, 3), RGB in [0, 1]
    labels : int array of shape (h, w), a segment number per pixel
    color : three floats in [0, 1]

    Returns
    -------
    array of shape (h, w, 3)
    """
    image = np.asarray(image, dtype=float)
    labels = np.asarray(labels)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must be an RGB array of shape (h, w, 3), got shape {image.shape}")
    if labels.shape != image.shape[:2]:
        raise ValueError(f"labels must have the image's shape {image.shape[:2]}, got {labels.shape}")
    border = np.zeros(labels.shape, dtype=bool)
    border[:-1] |= labels[:-1] != labels[1:]
    border[:, :-1] |= labels[:, :-1] != labels[:, 1:]
    out = image.copy()
    out[border] = color
    return out


def plot_stacked_histogram(ax, values, heights, names):
    """A histogram of discrete values stacked by true class, with the total as a black line.

    Parameters
    ----------
    ax : Matplotlib Axes
    values : array-like of shape (u,) or (u, 1), the distinct values, increasing
    heights : array-like of shape (u, c): the height of class j at value v (a count, or a density)
    names : sequence of c str, the classes (a colour each, in the legend)

    Returns
    -------
    ax
    """
    values = np.asarray(values, dtype=float).reshape(-1)
    heights = np.asarray(heights, dtype=float)
    if heights.ndim != 2 or heights.shape != (values.size, len(names)):
        raise ValueError(f"heights must have shape (len(values), len(names)) = ({values.size}, {len(names)}), "
                         f"got {heights.shape}")
    ax.stackplot(values, heights.T, colors=PALETTE[:len(names)], labels=list(names), alpha=0.85)
    ax.plot(values, heights.sum(axis=1), color="k", lw=1, label="all")
    ax.legend(frameon=False)
    return ax


def plot_weighted_components(ax, mixture: Mixture, x, *, histogram=None, names=None):
    """The weighted components rho_k N(x | mu_k, sigma_k^2) of a 1-D mixture, and where the MAP label changes.

    Parameters
    ----------
    ax : Matplotlib Axes
    mixture : Mixture with d = 1 and m components
    x : array-like of shape (g,), the grid the curves are drawn on (increasing)
    histogram : pair (values of shape (u,), heights of shape (u,)) or None: drawn as grey steps behind
    names : sequence of m str or None (default "component 1", ...)

    Returns
    -------
    ax ; the MAP boundaries on the grid are dotted vertical lines
    """
    if mixture.n_features != 1:
        raise ValueError(f"mixture must be 1-D, got d = {mixture.n_features}")
    m = mixture.n_components
    names = [f"component {k + 1}" for k in range(m)] if names is None else list(names)
    if len(names) != m:
        raise ValueError(f"names must give one name per component ({m}), got {len(names)}")
    x = np.asarray(x, dtype=float).reshape(-1)
    if histogram is not None:
        ax.fill_between(np.ravel(histogram[0]), np.ravel(histogram[1]), step="mid", color="0.85", label="histogram")
    weighted = np.exp(mixture.weighted_logpdf(x[:, None]))
    for k in range(m):
        ax.plot(x, weighted[:, k], color=PALETTE[k % len(PALETTE)], ls=component_linestyle(k), label=names[k])
    labels = mixture.classify(x[:, None])
    for b in x[1:][np.diff(labels) != 0]:
        ax.axvline(b, color="0.3", lw=1, ls=":")
    return ax


def plot_two_scales(ax, x, left, right, *, left_label, right_label, xlabel=None, logx=False):
    """Two curves over the same x, each on its own y axis (left and right), with one legend above.

    Parameters
    ----------
    ax : Matplotlib Axes (the left axis)
    x : array-like of shape (p,)
    left, right : array-like of shape (p,), drawn solid in blue (left axis) and dashed in vermillion (right axis)
    left_label, right_label : str, each axis's label (the legend adds "(left)" and "(right)")
    xlabel : str or None
    logx : bool, a logarithmic x axis

    Returns
    -------
    (ax, ax_right)
    """
    x = np.asarray(x, dtype=float)
    for name, y in (("left", left), ("right", right)):
        if np.shape(y) != x.shape:
            raise ValueError(f"{name} must have the shape of x, {x.shape}; got {np.shape(y)}")
    ax_right = ax.twinx()
    ax.plot(x, left, color=PALETTE[0], label=f"{left_label} (left)")
    ax_right.plot(x, right, color=PALETTE[1], ls="--", label=f"{right_label} (right)")
    if logx:
        ax.set_xscale("log")
    ax.set_ylabel(left_label)
    ax_right.set_ylabel(right_label)
    ax_right.spines["right"].set_visible(True)
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    ax.legend(handles=ax.get_lines() + ax_right.get_lines(), loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=2,
              frameon=False)
    return ax, ax_right


def plot_map_rows(rows, *, row_labels, col_titles=None, cmaps="viridis", limits=None, colorbar_labels=None,
                  figsize=None):
    """A grid of images: one row per kind of map (an image, a feature), one column per subject.

    Parameters
    ----------
    rows : sequence of r sequences of c arrays of shape (h, w), the maps (row j, column i)
    row_labels : sequence of r str, each row's y label ("" for none)
    col_titles : sequence of c str or None, the column titles above the first row
    cmaps : a colormap (name), or a sequence of r of them, one per row
    limits : None, or a sequence of r pairs (vmin, vmax), one colour range per row (None: each map's own range)
    colorbar_labels : None, or a sequence of r str or None: a row whose label is a str gets one colour bar
        (shared by its maps) with that label
    figsize : pair of floats or None (default: 2.9 inches per column, 2.5 per row)

    Returns
    -------
    Figure with r x c axes, without ticks
    """
    rows = [list(row) for row in rows]
    r, c = len(rows), len(rows[0]) if rows else 0
    if r == 0 or c == 0 or any(len(row) != c for row in rows):
        raise ValueError(f"rows must be a non-empty list of rows of equal length, got lengths {[len(x) for x in rows]}")
    cmaps = [cmaps] * r if isinstance(cmaps, str) or cmaps is None else list(cmaps)
    limits = [None] * r if limits is None else list(limits)
    colorbar_labels = [None] * r if colorbar_labels is None else list(colorbar_labels)
    for name, given in (("row_labels", row_labels), ("cmaps", cmaps), ("limits", limits),
                        ("colorbar_labels", colorbar_labels)):
        if len(given) != r:
            raise ValueError(f"{name} must give one entry per row ({r}), got {len(given)}")
    if col_titles is not None and len(col_titles) != c:
        raise ValueError(f"col_titles must give one title per column ({c}), got {len(col_titles)}")
    fig, axes = plt.subplots(r, c, figsize=figsize or (2.9 * c, 2.5 * r), squeeze=False)
    for j, row in enumerate(rows):
        vmin, vmax = limits[j] if limits[j] is not None else (None, None)
        for i, image in enumerate(row):
            shown = axes[j, i].imshow(image, cmap=cmaps[j], vmin=vmin, vmax=vmax)
        axes[j, 0].set_ylabel(row_labels[j])
        if colorbar_labels[j] is not None:
            fig.colorbar(shown, ax=axes[j, :], shrink=0.9, label=colorbar_labels[j])
    for i, title in enumerate(col_titles or []):
        axes[0, i].set_title(title)
    plt.setp(axes, xticks=[], yticks=[])
    return fig


def plot_density_map(ax, mixture: Mixture, limits, *, resolution: int = 200, levels: int = 10):
    """Filled contours (grey, darker = denser) of a 2-D mixture's density p(x) over a square, with a colour bar.

    Parameters
    ----------
    ax : Matplotlib Axes
    mixture : Mixture with d = 2
    limits : pair (lo, hi), the square [lo, hi] x [lo, hi] that is drawn
    resolution : int, grid points per side
    levels : int, the number of contour levels

    Returns
    -------
    the ContourSet
    """
    if mixture.n_features != 2:
        raise ValueError(f"mixture must be 2-D, got d = {mixture.n_features}")
    lo, hi = (float(v) for v in limits)
    if not lo < hi:
        raise ValueError(f"limits must be a pair (lo, hi) with lo < hi, got {tuple(limits)}")
    g = np.linspace(lo, hi, resolution)
    G0, G1 = np.meshgrid(g, g)
    density = mixture.pdf(np.column_stack([G0.ravel(), G1.ravel()])).reshape(G0.shape)
    shown = ax.contourf(G0, G1, density, levels=levels, cmap="Greys")
    ax.figure.colorbar(shown, ax=ax, shrink=0.8, label="p(x)")
    ax.set_aspect("equal")
    return shown


def component_table(mixtures, names=None, *, extra=None) -> str:
    """The weight, mean and standard deviation of every component of 1-D mixtures, side by side.

    Parameters
    ----------
    mixtures : dict {title: Mixture with d = 1}, all with the same number m of components
    names : sequence of m str (the row labels) or None ("1", ..., "m")
    extra : dict {title: sequence of m str} or None, more columns after the mixtures' (e.g. the share of
        each component's samples in every true class)

    Returns
    -------
    str : a header line, then one line per component k: its name, then rho_k, mu_k and sigma_k of each
        mixture (3 decimals), the mixtures separated by "|", then the extra columns
    """
    mixtures = dict(mixtures)
    if not mixtures:
        raise ValueError("mixtures must hold at least one mixture")
    sizes = {title: (mix.n_components, mix.n_features) for title, mix in mixtures.items()}
    m = next(iter(sizes.values()))[0]
    if any(d != 1 or k != m for k, d in sizes.values()):
        raise ValueError(f"mixtures must all be 1-D with the same number of components, got (m, d) = {sizes}")
    names = [str(k + 1) for k in range(m)] if names is None else [str(s) for s in names]
    if len(names) != m:
        raise ValueError(f"names must give one name per component ({m}), got {len(names)}")
    extra = {} if extra is None else {str(title): [str(v) for v in column] for title, column in extra.items()}
    for title, column in extra.items():
        if len(column) != m:
            raise ValueError(f"extra[{title!r}] must give one entry per component ({m}), got {len(column)}")
    width = max(len(s) for s in names) + 1
    blocks = [f"{title + ': rho':>{max(len(title) + 5, 7)}}{'mu':>7}{'sigma':>7}" for title in mixtures]
    widths = [max(len(title), *(len(v) for v in column)) + 2 for title, column in extra.items()]
    lines = [" " * width + "  | ".join(blocks) + "".join(f"{t:>{w}}" for t, w in zip(extra, widths))]
    for k, name in enumerate(names):
        cells = [f"{mix.weights[k]:>{len(block) - 14}.3f}{mix.means[k, 0]:7.3f}{np.sqrt(mix.covariances[k, 0, 0]):7.3f}"
                 for block, mix in zip(blocks, mixtures.values())]
        more = "".join(f"{column[k]:>{w}}" for column, w in zip(extra.values(), widths))
        lines.append(f"{name:>{width}}" + "  | ".join(cells) + more)
    return "\n".join(lines)
