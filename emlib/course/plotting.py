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
