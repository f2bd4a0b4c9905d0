"""The interactive explorer: step through EM one half-step at a time.

:class:`EMExplorer` runs :func:`emlib.em` once for each setting (data set,
number of components m, covariance kind, initialisation and its seed) with
``keep_history=True``, caches the run, and then lets the learner walk through
it, E-step, M-step, E-step, ..., forwards and backwards.

The picture is a plain Matplotlib :class:`~matplotlib.figure.Figure` that is
never shown through pyplot. On every step only its artists change (the
scatter's colours, the component ellipses, the current point of the
log-likelihood trace); the figure is then rendered to PNG bytes and handed
to an ``ipywidgets.Image``. This needs no interactive Matplotlib backend
(ipympl is not required) and works the same in JupyterLab, in classic
Notebook, and in a test without a browser.

What each half-step shows (the slides' notation)::

    after E-step t : colours E[z_i^(k)] computed at theta^(t); ellipses theta^(t);
                     log-likelihood l(theta^(t))
    after M-step t : the same colours (the M-step used them as weights);
                     ellipses theta^(t+1) = argmax Q(theta | theta^(t));
                     log-likelihood l(theta^(t+1))

A run with ``n_iter`` M-steps has the half-steps "after E-step 0",
"after M-step 0", "after E-step 1", ..., "after E-step n_iter": 2 n_iter + 1
states in all.
"""

from __future__ import annotations

import io
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image as PILImage

from .._validation import (
    describe_value,
    check_covariance_kind,
    check_data,
    check_float,
    check_int,
)
from ..datasets import annulus, old_faithful, three_gaussians
from ..em import EMResult, em
from ..init import init_from_data, init_kmeans_pp
from ..mixture import Mixture
from .plotting import component_colors, plot_ellipses, responsibility_colors
from ..steps import ESTIMATED_KINDS, e_step

DATA_SEED = 0
"""The seed of the generated data sets (the initialisation seed is separate)."""

BUILTIN_DATASETS = OrderedDict([
    ("three_gaussians", "three Gaussians (demo)"),
    ("old_faithful", "Old Faithful (standardised)"),
    ("annulus", "annulus"),
])
"""Names of the data sets the explorer knows, and their labels in the menu."""

INITS = OrderedDict([
    ("data", "random samples, broad covariances"),
    ("kmeans++", "k-means++"),
])
"""Initialisations: ``init_from_data`` (the annulus slide's recipe) or ``init_kmeans_pp``."""

EM_KINDS = ESTIMATED_KINDS          # the explorer fits every kind whose covariances EM estimates
MAX_COMPONENTS = 30
CACHE_SIZE = 32


def load_dataset(name: str) -> np.ndarray:
    """One of the explorer's built-in data sets, seeded with :data:`DATA_SEED`.

    Parameters
    ----------
    name : {"three_gaussians", "old_faithful", "annulus"}

    Returns
    -------
    array of shape (n, 2): 500 samples of ``emlib.datasets.three_gaussians``,
    the 272 Old Faithful eruptions with each column standardised to mean 0
    and standard deviation 1, or 900 samples of ``emlib.datasets.annulus``.
    """
    if name == "three_gaussians":
        return three_gaussians(500, rng=DATA_SEED)[0]
    if name == "old_faithful":
        X = old_faithful()
        return (X - X.mean(axis=0)) / X.std(axis=0)
    if name == "annulus":
        return annulus(900, rng=DATA_SEED)
    raise ValueError(f"dataset must be one of {', '.join(map(repr, BUILTIN_DATASETS))}; got {name!r}")


def start_mixture(X, m: int, covariance: str, seed: int, init: str = "data") -> Mixture:
    """theta^(0) for the explorer: a start that belongs to the covariance kind.

    Parameters
    ----------
    X : array of shape (n, d)
    m : int, the number of components
    covariance : {"full", "diag", "spherical", "tied"}
    seed : int, the seed of the initialisation
    init : {"data", "kmeans++"}
        "data": means at m random samples, equal weights, diagonal
        covariances as broad as the data (:func:`emlib.init_from_data`); for
        "spherical" the variances are replaced by their average so that the
        start is itself spherical. "kmeans++": :func:`emlib.init_kmeans_pp`
        with the same covariance kind.

    Returns
    -------
    Mixture with m components
    """
    if init == "kmeans++":
        return init_kmeans_pp(X, m, seed, covariance=covariance)
    if init != "data":
        raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}; got {init!r}")
    return init_from_data(X, m, seed).as_kind(covariance)


@dataclass
class _Run:
    """One cached EM run: the data, the result (or the error) and the responsibilities per t."""

    X: np.ndarray
    result: EMResult | None
    error: str | None = None
    resp: dict = field(default_factory=dict)

    def responsibilities(self, t: int) -> np.ndarray:
        """E[z_i^(k)] at theta^(t), shape (n, m), from :func:`emlib.e_step` on history[t]."""
        if t not in self.resp:
            self.resp[t] = e_step(self.X, self.result.history[t])[0]
        return self.resp[t]


class EMExplorer:
    """Step through EM on a 2-D data set, one half-step (E, then M) at a time.

    Parameters
    ----------
    dataset : str, default "three_gaussians"
        One of "three_gaussians" (500 samples of the demo mixture),
        "old_faithful" (the 272 eruptions, standardised) or "annulus" (900
        points on a ring), or a name given in ``data``.
    m : int in [1, 30], default 3
        The number of components.
    covariance : {"full", "diag", "spherical", "tied"}, default "full"
    seed : int >= 0, default 0
        The seed of the initialisation (the data sets have their own fixed seed).
    init : {"data", "kmeans++"}, default "data"
        "data": means at m random samples and broad diagonal covariances;
        "kmeans++": k-means++ seeds (see :func:`start_mixture`).
    data : array-like of shape (n, 2), or dict {name: array (n, 2)}, optional
        Your own data set(s), added to the menu; an array is called "your data".
        When given and ``dataset`` is left at its default, the first one is shown.
    max_iter : int >= 1, default 100, the most EM iterations per run
    tol : float >= 0, default 1e-6, the stopping tolerance of :func:`emlib.em`
        (change of the per-sample log-likelihood)
    figsize : (float, float), default (9.0, 3.8), in inches
    dpi : int, default 80

    Attributes
    ----------
    t : int, the current iteration
    half : {"E", "M"}, the last half-step done
    result : EMResult or None (None when EM failed for this setting; see ``error``)
    X : array of shape (n, 2), the current data
    mixture : Mixture, the parameters drawn now (theta^(t) after E, theta^(t+1) after M)
    resp : array of shape (n, m), the responsibilities drawn now (at theta^(t))
    loglik : float, the log-likelihood of ``mixture``
    loglik_text : str, the text line, e.g.
        "t = 3 · after M-step 3: θ^(4) = argmax Q(θ | θ^(3)) · ln p(X | θ^(4)) = -1234.567"
    error : str or None, the message of the error that stopped EM, if any
    figure : matplotlib Figure (axes ``ax_data`` and ``ax_loglik``)
    scatter : the PathCollection of the data points
    widget : the ipywidgets VBox shown by ``display(explorer)``
    image : the ipywidgets Image holding the rendered figure
    png : bytes, the PNG shown now (the Image's value)

    Controls (ipywidgets): ``back_button``, ``forward_button``, ``reset_button``,
    ``end_button``, ``iteration_slider`` (sets t), ``dataset_dropdown``,
    ``m_slider``, ``covariance_buttons``, ``init_dropdown``, ``seed_text``.

    Examples
    --------
    >>> explorer = EMExplorer("old_faithful", m=2, covariance="full", seed=1)
    >>> explorer                      # in a notebook: the controls and the picture
    >>> explorer.step_forward()       # after M-step 0: the means move
    >>> explorer.t, explorer.half
    (0, 'M')
    """

    def __init__(self, dataset: str = "three_gaussians", *, m: int = 3, covariance: str = "full",
                 seed: int = 0, init: str = "data", data=None, max_iter: int = 100, tol: float = 1e-6,
                 figsize=(9.0, 3.8), dpi: int = 80):
        self._datasets, self._arrays = self._check_data_arg(data)
        if self._arrays and dataset == "three_gaussians":
            dataset = next(iter(self._arrays))
        self._check_dataset(dataset)
        m, covariance, seed, init = self._check_setting(m, covariance, seed, init)
        self.max_iter = check_int(max_iter, "max_iter", minimum=1)
        self.tol = check_float(tol, "tol", minimum=0.0)
        figsize, dpi = self._check_figure_size(figsize, dpi)

        self._runs: OrderedDict = OrderedDict()
        self._run: _Run | None = None
        self._pos = 0              # the half-step index: 2t after E-step t, 2t + 1 after M-step t
        self._syncing = False      # True while the code (not the user) sets widget values
        self._ellipses: list = []       # the component ellipses on ax_data (2 per component)
        self._markers: list = []        # the mean markers on ax_data (1 per component)
        self._background = None    # the static layer of the figure, as pixels (see _draw_static)
        self._make_controls(dataset, m, covariance, init, seed)
        self._make_figure(figsize, dpi)
        self._wire()
        self._load_setting()

    @staticmethod
    def _check_setting(m, covariance, seed, init) -> tuple:
        m = check_int(m, "m", minimum=1, maximum=MAX_COMPONENTS)
        if covariance not in EM_KINDS:
            check_covariance_kind(covariance)   # a name we do not know at all
            raise ValueError(f"covariance must be one of {', '.join(map(repr, EM_KINDS))} for the explorer; "
                             f"got {covariance!r} (the known-variance case 'fixed' is 1-D: see notebook 04)")
        seed = check_int(seed, "seed", minimum=0)
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}; got {init!r}")
        return m, covariance, seed, init

    @staticmethod
    def _check_figure_size(figsize, dpi) -> tuple:
        dpi = check_int(dpi, "dpi", minimum=10)
        try:
            figsize = (float(figsize[0]), float(figsize[1]))
        except (TypeError, ValueError, IndexError):
            raise TypeError(f"figsize must be a pair of numbers (width, height) in inches, "
                            f"got {describe_value(figsize)}") from None
        return figsize, dpi

    def _make_controls(self, dataset, m, covariance, init, seed) -> None:
        """The buttons, sliders and menus, and the box that lays them out (``self.widget``)."""
        import ipywidgets as widgets

        self.back_button = widgets.Button(description="◀ half-step", tooltip="undo the last half-step",
                                          layout=widgets.Layout(width="110px"))
        self.forward_button = widgets.Button(description="half-step ▶", button_style="primary",
                                             tooltip="do the next half-step (E or M)",
                                             layout=widgets.Layout(width="110px"))
        self.reset_button = widgets.Button(description="reset", tooltip="back to theta^(0)",
                                           layout=widgets.Layout(width="70px"))
        self.end_button = widgets.Button(description="end", icon="fast-forward", tooltip="jump to the last iteration",
                                         layout=widgets.Layout(width="70px"))
        self.iteration_slider = widgets.IntSlider(value=0, min=0, max=1, description="iteration t",
                                                  continuous_update=True,
                                                  layout=widgets.Layout(width="360px"))
        self.dataset_dropdown = widgets.Dropdown(options=[(label, key) for key, label in self._datasets.items()],
                                                 value=dataset, description="data")
        self.m_slider = widgets.IntSlider(value=m, min=1, max=MAX_COMPONENTS, description="m",
                                          continuous_update=False)
        self.covariance_buttons = widgets.ToggleButtons(options=list(EM_KINDS), value=covariance,
                                                        description="covariance",
                                                        style={"button_width": "86px"})
        self.init_dropdown = widgets.Dropdown(options=[(label, key) for key, label in INITS.items()],
                                              value=init, description="init")
        self.seed_text = widgets.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="init seed",
                                                layout=widgets.Layout(width="180px"))
        self.status = widgets.HTML()
        self.image = widgets.Image(format="png")
        self.widget = widgets.VBox([
            widgets.HBox([self.dataset_dropdown, self.m_slider]),
            widgets.HBox([self.covariance_buttons]),
            widgets.HBox([self.init_dropdown, self.seed_text]),
            widgets.HBox([self.reset_button, self.back_button, self.forward_button, self.end_button,
                          self.iteration_slider]),
            self.status,
            self.image,
        ])

    def _make_figure(self, figsize, dpi) -> None:
        """The persistent figure: the data with the components, and the log-likelihood trace."""
        # A fixed layout (no constrained/tight layout): the layout engine would cost more
        # than the drawing itself, on every step.
        self.figure = Figure(figsize=figsize, dpi=dpi)
        FigureCanvasAgg(self.figure)
        self.ax_data, self.ax_loglik = self.figure.subplots(1, 2, width_ratios=[1.15, 1])
        self.figure.subplots_adjust(left=0.07, right=0.98, bottom=0.14, top=0.9, wspace=0.28)
        self.scatter = self.ax_data.scatter([], [], s=7, linewidths=0, alpha=0.85)
        self.ax_data.set_aspect("equal", adjustable="box")
        (self._trace_all,) = self.ax_loglik.plot([], [], color="0.75", marker="o", markersize=2.5, lw=1,
                                                 label="whole run")
        (self._trace_done,) = self.ax_loglik.plot([], [], color=component_colors(1)[0], marker="o", markersize=3, lw=1.5,
                                                  label="so far")
        (self._current_marker,) = self.ax_loglik.plot([], [], marker="o", markersize=10, color="k",
                                                      fillstyle="none", lw=0, label="now")
        self.ax_loglik.set_xlabel("iteration t")
        self.ax_loglik.set_ylabel(r"log-likelihood $\ln p(X\,|\,\theta)$")
        self.ax_loglik.legend(loc="lower right", fontsize=8)

    def _wire(self) -> None:
        """Connect the controls to the explorer's methods."""
        self.back_button.on_click(lambda _: self.step_back())
        self.forward_button.on_click(lambda _: self.step_forward())
        self.reset_button.on_click(lambda _: self.reset())
        self.end_button.on_click(lambda _: self.go_to_end())
        self.iteration_slider.observe(self._on_slider, names="value")
        for control in (self.dataset_dropdown, self.m_slider, self.covariance_buttons, self.init_dropdown,
                        self.seed_text):
            control.observe(self._on_setting, names="value")

    # --- argument checks -------------------------------------------------------------------
    @staticmethod
    def _check_data_arg(data) -> tuple[OrderedDict, dict]:
        """The menu labels {name: label} and the user's arrays {name: (n, 2) array}."""
        labels = OrderedDict(BUILTIN_DATASETS)
        if data is None:
            return labels, {}
        items = data.items() if isinstance(data, dict) else [("your data", data)]
        arrays = OrderedDict()
        for name, X in items:
            if not isinstance(name, str):
                raise TypeError(f"data must map names (str) to arrays, got the key {describe_value(name)}")
            if name in BUILTIN_DATASETS:
                raise ValueError(f"data may not reuse the built-in name {name!r}; choose another name")
            X = check_data(X, f"data[{name!r}]", allow_1d=False)
            if X.shape[1] != 2:
                raise ValueError(f"data[{name!r}] must have shape (n, 2): the explorer draws 2-D data; "
                                 f"got {X.shape}")
            arrays[name] = X
        if not arrays:
            raise ValueError("data must hold at least one data set, got an empty dict")
        menu = OrderedDict((name, name) for name in arrays)
        menu.update(labels)
        return menu, arrays

    def _check_dataset(self, dataset) -> None:
        if dataset not in self._datasets:
            raise ValueError(f"dataset must be one of {', '.join(map(repr, self._datasets))}; got {dataset!r}")

    def _data(self, name: str) -> np.ndarray:
        return self._arrays[name] if name in self._arrays else load_dataset(name)

    # --- the current setting ---------------------------------------------------------------
    @property
    def setting(self) -> tuple:
        """(dataset, m, covariance, init, seed): what determines the run."""
        return (self.dataset_dropdown.value, int(self.m_slider.value), self.covariance_buttons.value,
                self.init_dropdown.value, int(self.seed_text.value))

    def set(self, *, dataset=None, m=None, covariance=None, seed=None, init=None) -> None:
        """Change several settings at once (EM runs once, then the view resets to t = 0).

        Parameters are as in the constructor; None leaves a setting as it is.
        """
        if dataset is not None:
            self._check_dataset(dataset)
        if m is not None:
            m = check_int(m, "m", minimum=1, maximum=MAX_COMPONENTS)
        if covariance is not None and covariance not in EM_KINDS:
            raise ValueError(f"covariance must be one of {', '.join(map(repr, EM_KINDS))}; got {covariance!r}")
        if seed is not None:
            seed = check_int(seed, "seed", minimum=0)
        if init is not None and init not in INITS:
            raise ValueError(f"init must be one of {', '.join(map(repr, INITS))}; got {init!r}")
        self._syncing = True
        try:
            for control, value in ((self.dataset_dropdown, dataset), (self.m_slider, m),
                                   (self.covariance_buttons, covariance), (self.init_dropdown, init),
                                   (self.seed_text, seed)):
                if value is not None:
                    control.value = value
        finally:
            self._syncing = False
        self._load_setting()

    def _on_setting(self, change) -> None:
        if not self._syncing:
            self._load_setting()

    def _compute(self, key: tuple) -> _Run:
        """Run EM for one setting (or fetch the cached run)."""
        if key in self._runs:
            self._runs.move_to_end(key)
            return self._runs[key]
        dataset, m, kind, init, seed = key
        X = self._data(dataset)
        try:
            start = start_mixture(X, m, kind, seed, init)
            result = em(X, start, covariance=kind, max_iter=self.max_iter, tol=self.tol, keep_history=True)
            run = _Run(X, result)
        except ValueError as exc:   # e.g. a component collapsed, or m > n
            run = _Run(X, None, error=str(exc))
        self._runs[key] = run
        if len(self._runs) > CACHE_SIZE:
            self._runs.popitem(last=False)
        return run

    def _load_setting(self) -> None:
        """New setting: fetch its run, rebuild what depends on the data and on m, go to t = 0."""
        self._run = self._compute(self.setting)
        run = self._run
        X = run.X
        self.scatter.set_offsets(X)
        lo, hi = X.min(axis=0), X.max(axis=0)
        pad = 0.08 * (hi - lo) + 1e-9
        self.ax_data.set_xlim(lo[0] - pad[0], hi[0] + pad[0])
        self.ax_data.set_ylim(lo[1] - pad[1], hi[1] + pad[1])
        self.ax_data.set_xlabel("feature 1")
        self.ax_data.set_ylabel("feature 2")
        if run.result is None:
            self._trace_all.set_data([], [])
            n_iter = 0
        else:
            ll = run.result.loglik
            self._trace_all.set_data(np.arange(ll.size), ll)
            n_iter = run.result.n_iter
            span = max(float(ll.max() - ll.min()), 1e-9)
            self.ax_loglik.set_xlim(-0.5, max(n_iter, 1) + 0.5)
            self.ax_loglik.set_ylim(ll.min() - 0.06 * span, ll.max() + 0.06 * span)
        self._syncing = True
        try:
            self.iteration_slider.max = max(n_iter, 1)
            self.iteration_slider.value = 0
        finally:
            self._syncing = False
        self._pos = 0
        self._background = None      # the static layer changed: draw it again on the next render
        self._update()

    # --- state -------------------------------------------------------------------------
    @property
    def result(self) -> EMResult | None:
        """The cached EMResult of the current setting (None if EM failed)."""
        return self._run.result

    @property
    def error(self) -> str | None:
        return self._run.error

    @property
    def X(self) -> np.ndarray:
        return self._run.X

    @property
    def n_iter(self) -> int:
        """The number of M-steps of the current run (0 if EM failed)."""
        return 0 if self.result is None else self.result.n_iter

    @property
    def n_states(self) -> int:
        """The number of half-step states: 2 n_iter + 1."""
        return 2 * self.n_iter + 1

    @property
    def t(self) -> int:
        """The current iteration t."""
        return self._pos // 2

    @property
    def half(self) -> str:
        """"E" after an E-step, "M" after an M-step."""
        return "E" if self._pos % 2 == 0 else "M"

    @property
    def mixture(self) -> Mixture | None:
        """The parameters drawn now: theta^(t) after E-step t, theta^(t+1) after M-step t."""
        if self.result is None:
            return None
        return self.result.history[self.t + (self.half == "M")]

    @property
    def resp(self) -> np.ndarray | None:
        """E[z_i^(k)] at theta^(t), shape (n, m): the colours drawn now."""
        return None if self.result is None else self._run.responsibilities(self.t)

    @property
    def loglik(self) -> float | None:
        """l(theta) = ln p(X | theta) of the parameters drawn now."""
        if self.result is None:
            return None
        return float(self.result.loglik[self.t + (self.half == "M")])

    @property
    def loglik_text(self) -> str:
        """The text line: iteration, half-step, and log-likelihood (plain text)."""
        if self.result is None:
            return f"EM failed for this setting: {self.error}"
        t = self.t
        if self.half == "E":
            step = f"after E-step {t}: E[z_i^(k)] at θ^({t})"
            which = t
        else:
            step = f"after M-step {t}: θ^({t + 1}) = argmax Q(θ | θ^({t}))"
            which = t + 1
        end = ""
        if self._pos == self.n_states - 1:
            end = " · converged" if self.result.converged else f" · stopped at max_iter = {self.max_iter}"
        return f"t = {t} · {step} · ln p(X | θ^({which})) = {self.loglik:.3f}{end}"

    # --- moving -------------------------------------------------------------------------
    def go_to(self, t: int, half: str = "E") -> None:
        """Show the state after the E-step (half="E") or the M-step (half="M") of iteration t.

        t is clipped to [0, n_iter]; "after M-step n_iter" does not exist (the run
        stopped there), so it is shown as "after E-step n_iter".
        """
        t = check_int(t, "t")
        if half not in ("E", "M"):
            raise ValueError(f"half must be 'E' or 'M', got {half!r}")
        pos = 2 * t + (half == "M")
        self._go(pos)

    def _go(self, pos: int) -> None:
        pos = int(min(max(pos, 0), self.n_states - 1))
        self._pos = pos
        self._syncing = True
        try:
            self.iteration_slider.value = self.t
        finally:
            self._syncing = False
        self._update()

    def step_forward(self) -> None:
        """One half-step on: E -> M of the same t, M -> E of t + 1 (no-op at the end)."""
        self._go(self._pos + 1)

    def step_back(self) -> None:
        """One half-step back (no-op at the start)."""
        self._go(self._pos - 1)

    def reset(self) -> None:
        """Back to "after E-step 0" (theta^(0))."""
        self._go(0)

    def go_to_end(self) -> None:
        """To the last state, "after E-step n_iter"."""
        self._go(self.n_states - 1)

    def _on_slider(self, change) -> None:
        if not self._syncing:
            self.go_to(int(change["new"]), self.half)

    # --- drawing ------------------------------------------------------------------------
    # The figure is drawn in two layers. The static layer (axes, ticks, labels, the
    # grey trace of the whole run) is drawn once per setting and kept as a pixel
    # buffer; the dynamic artists (marked ``animated``) are drawn on top of a copy of
    # it at every step. Tick labels are most of the cost of a full draw, so a step
    # costs a fraction of a full redraw.

    def _dynamic_artists(self) -> list:
        return [self.scatter, self.ax_data.title, *self._ellipses, *self._markers, self._trace_done,
                self._current_marker]

    def _draw_static(self) -> None:
        for artist in self._dynamic_artists():
            artist.set_animated(True)
        self.figure.canvas.draw()
        self._background = self.figure.canvas.copy_from_bbox(self.figure.bbox)

    def _clear_components(self) -> None:
        for artist in self._ellipses + self._markers:
            artist.remove()
        self._ellipses, self._markers = [], []

    def _draw_components(self, mix: Mixture, colors: np.ndarray) -> None:
        """Ellipses at 1 and 2 sd and the mean markers of ``mix``, as :func:`plot_ellipses` draws them.

        plot_ellipses draws on a stand-in that only records what it is asked to
        draw. The first time (and whenever m changes) the recorded artists are
        added to the axes; afterwards the artists already on the axes take the
        recorded geometry and style. Adding patches to an Axes is slow (it
        recomputes data limits through Bezier extrema), updating them is not.
        """
        record = _Recorder()
        plot_ellipses(record, mix, n_std=(1, 2), colors=colors)
        if len(record.patches) != len(self._ellipses) or len(record.lines) != len(self._markers):
            self._clear_components()
            self._ellipses = [self.ax_data.add_patch(patch) for patch in record.patches]
            for args, kwargs in record.lines:
                self._markers.extend(self.ax_data.plot(*args, **kwargs))
            for artist in self._ellipses + self._markers:
                artist.set_animated(True)
            return
        for old, new in zip(self._ellipses, record.patches):
            old.set_center(new.get_center())
            old.set_width(new.get_width())
            old.set_height(new.get_height())
            old.set_angle(new.get_angle())
            old.set_edgecolor(new.get_edgecolor())
            old.set_alpha(new.get_alpha())
            old.set_linewidth(new.get_linewidth())
        for line, (args, kwargs) in zip(self._markers, record.lines):
            line.set_data(np.atleast_1d(args[0]), np.atleast_1d(args[1]))
            line.set_color(kwargs.get("color"))
            line.set_alpha(kwargs.get("alpha"))

    def _update(self) -> None:
        """Update the artists for the current state, then render the figure into the Image widget."""
        at_start = self._pos == 0
        at_end = self._pos == self.n_states - 1
        self.back_button.disabled = at_start
        self.reset_button.disabled = at_start
        self.forward_button.disabled = at_end
        self.end_button.disabled = at_end
        self.iteration_slider.disabled = self.result is None
        if self.result is None:
            self._clear_components()
            self.scatter.set_facecolors("0.6")
            self._trace_done.set_data([], [])
            self._current_marker.set_data([], [])
            self.ax_data.set_title("EM failed: see the message above", fontsize=9)
            self.status.value = f"<b style='color:#b00'>{_escape(self.loglik_text)}</b>"
            self.render()
            return
        mix = self.mixture
        colors = component_colors(mix.n_components)
        self.scatter.set_facecolors(responsibility_colors(self.resp, colors))
        self._draw_components(mix, colors)
        which = self.t + (self.half == "M")
        ll = self.result.loglik
        self._trace_done.set_data(np.arange(which + 1), ll[:which + 1])
        self._current_marker.set_data([which], [ll[which]])
        # Plain text with Unicode superscripts: mathtext would be parsed anew at every step.
        t = self.t
        title = f"colours: E[z] at θ{_sup(t)};  ellipses: θ{_sup(which)}"
        self.ax_data.set_title(title + "   (1 and 2 sd)", fontsize=10)
        self.status.value = _escape(self.loglik_text)
        self.render()

    def render(self) -> bytes:
        """Draw the dynamic artists over the static layer, encode PNG, put it in ``image``; return the bytes."""
        canvas = self.figure.canvas
        if self._background is None:
            self._draw_static()
        canvas.restore_region(self._background)
        for artist in self._dynamic_artists():
            artist.axes.draw_artist(artist)
        rgba = np.asarray(canvas.buffer_rgba())
        buf = io.BytesIO()
        # A 256-colour palette: a third of the bytes of an RGB PNG (smaller notebooks, faster
        # transfer to the browser), indistinguishable for flat plot colours, and faster to encode.
        picture = PILImage.fromarray(rgba[:, :, :3]).quantize(256, method=PILImage.Quantize.FASTOCTREE)
        picture.save(buf, format="png", compress_level=3)
        data = buf.getvalue()
        self.image.value = data
        self._png = data
        return data

    @property
    def png(self) -> bytes:
        """The PNG bytes of the picture shown now."""
        return self._png

    def full_redraw(self) -> bytes:
        """Redraw everything (static layer included) and render; :meth:`render` does this when needed."""
        self._background = None
        return self.render()

    # --- display ------------------------------------------------------------------------
    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        dataset, m, kind, init, seed = self.setting
        return (f"EMExplorer(dataset={dataset!r}, m={m}, covariance={kind!r}, init={init!r}, seed={seed}; "
                f"{self.loglik_text})")


class _Recorder:
    """Stands in for a Matplotlib Axes and records what a plotting function asks it to draw."""

    def __init__(self):
        self.patches: list = []
        self.lines: list = []        # (args, kwargs) of every plot() call

    def add_patch(self, patch):
        self.patches.append(patch)
        return patch

    def plot(self, *args, **kwargs):
        self.lines.append((args, kwargs))
        return []


_SUPERSCRIPTS = str.maketrans("0123456789()", "⁰¹²³⁴⁵⁶⁷⁸⁹⁽⁾")


def _sup(t: int) -> str:
    """"(t)" in superscript characters: _sup(12) == "⁽¹²⁾"."""
    return f"({t})".translate(_SUPERSCRIPTS)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def figure_slider(draw, slider, *, alt, figsize=(4.8, 4.5)):
    """A slider and a figure redrawn from scratch whenever the slider's value changes.

    For a one-parameter picture (e.g. EM on the k-means-limit mixture as a
    function of sigma). Every redraw makes a new figure, calls ``draw(ax, value)``
    on its Axes, gives it the description ``alt(value)``
    (:func:`emlib.course.plotting.describe`) and shows it.

    Parameters
    ----------
    draw : callable(ax, value), draws the picture for one value
    slider : an ipywidgets value widget (e.g. ``FloatLogSlider``)
    alt : callable(value) -> str, the figure's one-sentence description
    figsize : (float, float), in inches

    Returns
    -------
    ipywidgets.VBox holding the slider and the figure's output area
    """
    import ipywidgets as widgets
    import matplotlib.pyplot as plt

    from .plotting import describe

    if not callable(draw) or not callable(alt):
        raise TypeError("draw and alt must be callables: draw(ax, value) and alt(value) -> str")
    if not hasattr(slider, "value"):
        raise TypeError(f"slider must be an ipywidgets value widget, got {describe_value(slider)}")

    def redraw(value):
        fig, ax = plt.subplots(figsize=figsize)
        draw(ax, value)
        describe(fig, alt(value))
        plt.show()

    return widgets.VBox([slider, widgets.interactive_output(redraw, {"value": slider})])
