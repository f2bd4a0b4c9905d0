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


def plot_half_steps(X, result, iterations=(0, 1, 2, 3), *, size=2.8):
    """A filmstrip of EM's half-steps, as the explorer shows them: E-steps above, M-steps below.

    Column t shows, on top, the state after E-step t (colours: E[z_i^(k)] at
    theta^(t); ellipses: theta^(t)) and, below, the state after M-step t (the
    same colours, used as weights; ellipses: theta^(t+1)).

    Parameters
    ----------
    X : array of shape (n, 2)
    result : EMResult with its ``history`` (keep_history=True) and ``loglik``
    iterations : the t to show, each < the run's number of iterations

    Returns
    -------
    matplotlib Figure with a 2 x len(iterations) grid of Axes
    """
    history = getattr(result, "history", None)
    if not history:
        raise ValueError("result must carry its history: run emlib.em(..., keep_history=True)")
    its = [int(t) for t in iterations]
    if not its or min(its) < 0 or max(its) >= len(history) - 1:
        raise ValueError(f"iterations must lie in [0, {len(history) - 2}] (the run has {len(history) - 1} "
                         f"M-steps), got {list(iterations)}")
    X = np.asarray(X, dtype=float)
    fig, axes = plt.subplots(2, len(its), figsize=(size * len(its), 2 * size + 0.3), squeeze=False,
                             sharex=True, sharey=True)
    for j, t in enumerate(its):
        resp = history[t].posterior(X)
        plot_mixture_2d(X, history[t], resp=resp, ax=axes[0, j], s=4)
        axes[0, j].set_title(f"E-step {t}: l = {result.loglik[t]:.0f}", fontsize=11)
        plot_mixture_2d(X, history[t + 1], resp=resp, ax=axes[1, j], s=4)
        axes[1, j].set_title(f"M-step {t}: l = {result.loglik[t + 1]:.0f}", fontsize=11)
    axes[0, 0].set_ylabel("after the E-step")
    axes[1, 0].set_ylabel("after the M-step")
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
        ax.set_title(f"t = {t}:  l = {result.loglik[t]:.1f}", fontsize=9)
    for ax in axes.ravel()[len(its):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


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
