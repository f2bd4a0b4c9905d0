"""The course's pictures: colour-blind-safe colours, a marker per component, 2x resolution, alt text."""

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from emlib import Mixture  # noqa: E402
from emlib.course.plotting import (  # noqa: E402
    DISPLAY_DPI,
    MARKERS,
    PALETTE,
    component_colors,
    describe,
    palette_png,
    plot_mixture_2d,
)

OKABE_ITO = {"#0072B2", "#D55E00", "#009E73", "#E69F00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"}


def test_the_palette_is_okabe_ito_and_components_get_distinct_markers():
    assert set(PALETTE) == OKABE_ITO
    assert len(set(MARKERS)) == len(MARKERS) >= len(PALETTE)
    assert np.unique(component_colors(8), axis=0).shape[0] == 8


def test_a_figure_is_stored_at_twice_its_display_size_with_its_description():
    fig, ax = plt.subplots(figsize=(4, 3), dpi=DISPLAY_DPI)
    ax.plot([0, 1], [0, 1])
    describe(fig, "  A straight   line from the origin.  ")
    data, meta = palette_png(fig)
    image = Image.open(io.BytesIO(data))
    assert image.mode == "P"                                   # a palette PNG: small files
    # the display size is half the stored size, rounded: an odd pixel count is off by one (Matplotlib 3.8's
    # tight bounding box gives 579 x 437 here, 3.11's 578 x 436)
    assert abs(image.width - 2 * meta["width"]) <= 1 and abs(image.height - 2 * meta["height"]) <= 1
    assert meta["alt"] == "A straight line from the origin."
    plt.close(fig)


def test_describe_refuses_an_empty_description():
    fig = plt.figure()
    with pytest.raises(ValueError, match="text must be a non-empty sentence"):
        describe(fig, "   ")
    plt.close(fig)


def test_points_take_the_marker_of_their_map_component():
    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [5.0, 5.0]], np.stack([np.eye(2)] * 2))
    X = np.array([[0.0, 0.1], [5.0, 4.9], [0.2, 0.0]])
    ax = plot_mixture_2d(X, mix)
    sizes = sorted(len(c.get_offsets()) for c in ax.collections)
    assert sizes == [1, 2]                                     # one scatter per component, each its own marker
    plt.close(ax.figure)


def test_show_formula_shows_the_lines_that_run():
    from emlib import update_weights
    from emlib.course.source import formula_lines, show_formula

    assert formula_lines(update_weights, "return") == "return resp.sum(axis=0) / resp.shape[0]"
    shown = show_formula(update_weights, "resp = check", "return")
    assert shown._repr_markdown_().startswith("`emlib.steps.update_weights`:\n```python\nresp = check")
    with pytest.raises(ValueError, match="first='no such line'"):
        formula_lines(update_weights, "no such line")
    with pytest.raises(ValueError, match="last="):
        formula_lines(update_weights, "return", "never")


def test_plot_image_grid_draws_one_image_per_cell_with_its_labels():
    from emlib.course.plotting import plot_image_grid

    images = np.random.default_rng(0).random((2, 3, 12))
    fig = plot_image_grid(images, (3, 4), row_labels=["a", "b"], col_labels=["x", "y", "z"], colorbar="p")
    axes = [ax for ax in fig.axes if ax.images]
    assert len(axes) == 6
    np.testing.assert_allclose(axes[4].images[0].get_array(), images[1, 1].reshape(3, 4))
    assert axes[2].get_title() == "z" and axes[3].get_ylabel() == "b"
    assert len(fig.axes) == 7                                      # and a colour bar
    plt.close(fig)
    with pytest.raises(ValueError, match=r"images must have shape \(rows, cols, 12\)"):
        plot_image_grid(images[0], (3, 4))


def test_the_filmstrip_shows_e_and_m_half_steps():
    from emlib import em, init_from_data
    from emlib.course.plotting import plot_half_steps

    X = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 4.0]], np.stack([np.eye(2)] * 2)).sample(60, np.random.default_rng(0))[0]
    run = em(X, init_from_data(X, 2, 0), max_iter=5, tol=0)
    fig = plot_half_steps(X, run, steps=[(0, "E"), (0, "M"), (1, "E")], ncols=2)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert len(titles) == 3 and titles[0].startswith("after E-step 0") and titles[1].startswith("after M-step 0")
    assert f"l = {run.loglik[1]:.1f}" in titles[1]            # after M-step 0 the ellipses are theta^(1)
    with pytest.raises(ValueError, match="half='X'"):
        plot_half_steps(X, run, steps=[(0, "X")])
    plt.close("all")


def test_race_paths_outlines_and_curves_draw_one_artist_per_run():
    from types import SimpleNamespace

    from emlib import em, init_from_data
    from emlib.course.plotting import plot_curves_with_spread, plot_mean_paths, plot_outlines, plot_runs

    X = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 4.0]], np.stack([np.eye(2)] * 2)).sample(60, np.random.default_rng(1))[0]
    run = em(X, init_from_data(X, 2, 0), max_iter=5, tol=0)
    diverged = SimpleNamespace(mean_loglik=np.array([-3.0, -2.5, -50.0]), diverged=True)
    fig, ax = plt.subplots()
    plot_runs(ax, {"EM": run, "bad": diverged}, seconds_per_iteration={"EM": 1e-3, "bad": 2e-3}, best=-1.0, floor=-4.0)
    assert len(ax.lines) == 4                                  # two curves, the X of the diverged run, the best line
    assert ax.lines[2].get_marker() == "X" and ax.lines[2].get_ydata()[0] == -4.0   # clipped to the floor
    assert ax.lines[1].get_xdata()[-1] == pytest.approx(4.0)   # 2 iterations x 2 ms
    fig, ax = plt.subplots()
    plot_runs(ax, {"bad": diverged}, positions={"bad": 1})
    assert ax.lines[0].get_color() == PALETTE[0] and ax.lines[0].get_linestyle() == "--"   # as in the full race
    fig, ax = plt.subplots()
    plot_mean_paths(ax, X, run)
    assert len(ax.lines) == 2 * 4                               # path, first steps, start, end per component
    fig, ax = plt.subplots()
    plot_outlines(ax, X, run.mixture)
    assert len(ax.patches) == 2
    fig, ax = plt.subplots()
    plot_curves_with_spread(ax, [0, 1, 2], {"a": [1, 2, 3], "b": [2, 2, 2]}, spread={"a": [0.1, 0.1, 0.1]})
    assert len(ax.lines) == 2 and len(ax.collections) == 1
    with pytest.raises(ValueError, match="curve 'a' must have the shape of x"):
        plot_curves_with_spread(ax, [0, 1], {"a": [1, 2, 3]})
    plt.close("all")


def test_imputation_picture_marks_only_the_rows_with_holes():
    from emlib.course.plotting import plot_imputations

    full = np.arange(12.0).reshape(6, 2)
    X = full.copy()
    X[[1, 4], 1] = np.nan
    filled = np.where(np.isnan(X), 0.0, X)
    fig, ax = plt.subplots()
    plot_imputations(ax, X, full, filled, sd=np.ones_like(X))
    counts = [len(c.get_offsets()) for c in ax.collections if hasattr(c, "get_offsets") and c.get_offsets().ndim == 2]
    assert counts[:3] == [4, 2, 2]                                 # complete rows, truths, imputations
    with pytest.raises(ValueError, match="same shape"):
        plot_imputations(ax, X, full[:3], filled)
    plt.close(fig)


def test_sigma_circles_have_radius_sigma_around_each_mean():
    from emlib.course.plotting import plot_sigma_circles

    X = np.array([[0.0, 0.0], [3.0, 0.0], [0.1, 0.2]])
    resp = np.array([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1]])
    fig, ax = plt.subplots()
    plot_sigma_circles(ax, X, resp, [[0.0, 0.0], [3.0, 0.0]], 0.5, reference_means=[[0.0, 0.1], [3.0, 0.1]])
    assert [p.get_radius() for p in ax.patches] == [0.5, 0.5]
    assert [tuple(p.center) for p in ax.patches] == [(0.0, 0.0), (3.0, 0.0)]
    with pytest.raises(ValueError, match="sigma must be a positive number"):
        plot_sigma_circles(ax, X, resp, [[0.0, 0.0], [3.0, 0.0]], 0.0)


# --- the lecture helpers of notebooks 01, 04 and 05 ---------------------------------------------

def _one_d_bounds():
    """EM's bounds B_t on a grid for a 1-D mixture with one free mean, as notebook 05 draws them."""
    from scipy.special import entr

    from emlib import e_step, expected_complete_loglik, update_means

    def model(mu1):
        return Mixture.univariate([0.5, 0.5], [mu1, 1.5], [1.0, 1.0])

    X, _ = model(-1.5).sample(40, np.random.default_rng(0))
    grid = np.linspace(-4, 6, 101)
    loglik = np.array([model(g).loglik(X) for g in grid])
    mu, bounds, H, at = [4.0], [], [], []
    for t in range(3):
        resp, ll = e_step(X, model(mu[t]))
        H.append(float(entr(resp).sum()))
        bounds.append([expected_complete_loglik(X, resp, model(g)) + H[t] for g in grid])
        at.append(ll)
        mu.append(float(update_means(X, resp)[0, 0]))
    at.append(model(mu[-1]).loglik(X))
    return grid, loglik, np.array(bounds), np.array(mu), np.array(at), np.array(H)


def test_plot_lower_bounds_draws_each_bound_below_the_loglik_and_touching_it():
    from emlib.course.plotting import plot_lower_bounds

    grid, loglik, bounds, mu, at, H = _one_d_bounds()
    assert np.all(bounds <= loglik + 1e-9)                     # what the picture claims
    fig = plot_lower_bounds(grid, loglik, bounds, mu, at, entropies=H)
    left, right = fig.axes
    assert len(left.get_legend().get_texts()) == 1 + 1 + 3     # l, Q alone, B_0..B_2
    gaps = [line.get_ydata() for line in right.get_lines() if len(line.get_ydata()) == grid.size]
    assert len(gaps) == 3 and all(np.min(g) > -1e-9 for g in gaps)
    with pytest.raises(ValueError, match="thetas and loglik_at must have shape"):
        plot_lower_bounds(grid, loglik, bounds, mu[:-1], at)
    plt.close(fig)


def test_plot_restarts_colours_the_runs_that_reach_the_top():
    from emlib import em, init_from_data
    from emlib.course.plotting import plot_restarts

    X, _ = Mixture([0.5, 0.5], [[0.0, 0.0], [6.0, 0.0]], np.stack([np.eye(2)] * 2)).sample(200, np.random.default_rng(0))
    fits = [em(X, init_from_data(X, 2, np.random.default_rng(s)), max_iter=100, keep_history=False) for s in range(4)]
    fig = plot_restarts(X, fits)
    assert len(fig.axes) == 4
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    final = np.array([f.loglik[-1] for f in fits])
    assert legend[0] == f"top ({np.sum(np.abs(final - final.max()) < 0.5)})"
    with pytest.raises(ValueError, match="at least one"):
        plot_restarts(X, [])
    plt.close(fig)


def test_plot_half_steps_keeps_the_colours_of_the_e_step_under_the_m_step():
    from emlib import em, init_from_data
    from emlib.course.plotting import plot_half_steps

    X, _ = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 0.0]], np.stack([np.eye(2)] * 2)).sample(100, np.random.default_rng(1))
    run = em(X, init_from_data(X, 2, np.random.default_rng(0)), max_iter=5, tol=0.0, keep_history=True)
    fig = plot_half_steps(X, run, steps=[(t, half) for half in "EM" for t in (0, 2)], ncols=2)
    axes = np.array(fig.axes).reshape(2, 2)
    for j in range(2):                                         # same point colours above and below
        top = np.concatenate([c.get_facecolors() for c in axes[0, j].collections])
        bottom = np.concatenate([c.get_facecolors() for c in axes[1, j].collections])
        assert np.allclose(np.sort(top, axis=0), np.sort(bottom, axis=0))
    assert axes[1, 0].get_title().startswith("after M-step 0")
    with pytest.raises(ValueError, match="keep_history=True"):
        plot_half_steps(X, em(X, run.history[0], max_iter=2, keep_history=False))
    plt.close(fig)


def test_plot_decision_regions_returns_the_map_class_of_every_grid_point():
    from emlib.course.plotting import plot_decision_regions

    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 0.0]], np.stack([np.eye(2)] * 2))
    X = np.array([[-1.0, -1.0], [5.0, 1.0]])
    fig, ax = plt.subplots()
    regions = plot_decision_regions(ax, mix, X, resolution=50)
    assert regions.shape == (50, 50) and regions[0, 0] == 0 and regions[0, -1] == 1
    with pytest.raises(ValueError, match="X must have shape"):
        plot_decision_regions(ax, mix, np.zeros((3, 3)))


def test_label_colormap_is_the_palette_with_an_optional_outside_colour():
    from matplotlib.colors import to_hex

    from emlib.course.plotting import PALETTE, label_colormap

    cmap = label_colormap(3)
    assert [to_hex(c).upper() for c in cmap.colors] == [c.upper() for c in PALETTE[:3]]
    assert label_colormap(3, outside="black").N == 4
    with pytest.raises(ValueError, match="n_labels must be between 1 and 8"):
        label_colormap(9)
    with pytest.raises(TypeError, match="n_labels must be an int"):
        label_colormap(2.0)


def test_label_imshow_draws_each_label_in_its_colour_and_names_it():
    from matplotlib.colors import to_hex

    from emlib.course.plotting import PALETTE, label_imshow

    fig, ax = plt.subplots()
    image = label_imshow(ax, np.array([[0, 1], [2, 2]]), 3, names=["a", "b", "c"])
    rgba = image.to_rgba(image.get_array())
    assert to_hex(rgba[0, 0]).upper() == PALETTE[0].upper() and to_hex(rgba[1, 1]).upper() == PALETTE[2].upper()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="labels must be a 2-D array of ints"):
        label_imshow(ax, np.zeros((2, 2)), 3)
    plt.close(fig)


def test_volume_rows_show_three_views_per_volume_through_the_centre():
    from emlib.course.plotting import plot_volume_rows, three_views

    volume = np.arange(4 * 5 * 6).reshape(4, 5, 6)
    axial, coronal, sagittal = three_views(volume, (1, 2, 3))
    assert axial.shape == (5, 4) and coronal.shape == (6, 4) and sagittal.shape == (6, 5)
    np.testing.assert_array_equal(axial, np.rot90(volume[:, :, 3]))
    with pytest.raises(ValueError, match="centre must lie inside"):
        three_views(volume, (4, 0, 0))
    labels = np.full((4, 5, 6), -1)
    labels[1:3, 1:4, 1:5] = 2
    fig = plot_volume_rows([volume / volume.max(), labels], ["image", "labels"], (1, 2, 3), names=["x", "y", "z"])
    assert len(fig.axes) == 6
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["x", "y", "z"]
    with pytest.raises(ValueError, match="titles must give one title per volume"):
        plot_volume_rows([labels], ["a", "b"], (1, 2, 3))
    plt.close(fig)


# --- helpers for notebooks 00-06 (trim pass) ---------------------------------------------------
def test_plot_convergence_1d_draws_the_curve_the_iterates_and_their_error():
    from emlib.course.plotting import plot_convergence_1d

    iterates = np.array([0.5, 0.6, 0.62, 0.625])
    fig = plot_convergence_1d(np.linspace(0.1, 0.9, 50), lambda t: -(t - 0.626) ** 2, iterates, 0.626)
    left, right = fig.axes
    np.testing.assert_allclose(left.lines[1].get_xdata(), iterates)
    np.testing.assert_allclose(right.lines[0].get_ydata(), np.abs(iterates - 0.626))
    assert right.get_yscale() == "log"
    with pytest.raises(ValueError, match="iterates shape"):
        plot_convergence_1d(np.linspace(0, 1, 5), np.sin, np.array([0.5]), 0.5)
    with pytest.raises(TypeError, match="curve must be a function"):
        plot_convergence_1d(np.linspace(0, 1, 5), np.zeros(5), iterates, 0.5)
    plt.close(fig)


def test_surface_levels_are_increasing_and_dense_near_the_top():
    from emlib.course.plotting import surface_levels

    L = -np.linspace(0, 100, 200).reshape(10, 20)
    levels = surface_levels(L, 10)
    assert levels.shape == (10,) and np.all(np.diff(levels) > 0)
    assert np.isclose(levels[-1], L.max() - 0.5) and np.isclose(levels[0], L.min())
    assert levels[-1] - levels[-2] < levels[1] - levels[0]
    with pytest.raises(ValueError, match="finite values"):
        surface_levels(np.array([[0.0, np.nan]]))


def test_plot_loglik_surface_marks_the_maximum_and_its_label_switched_twin():
    from emlib.course.plotting import plot_loglik_surface

    axis = np.linspace(-3, 3, 31)
    M1, M2 = np.meshgrid(axis, axis)
    L = -((M1 - 1) ** 2 + (M2 + 2) ** 2) * ((M1 + 2) ** 2 + (M2 - 1) ** 2) - 1
    fig, ax = plt.subplots()
    levels = plot_loglik_surface(ax, M1, M2, L, maximum=(1.0, -2.0))
    star, twin = ax.lines
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (1.0, -2.0)
    assert (twin.get_xdata()[0], twin.get_ydata()[0]) == (-2.0, 1.0)
    assert len(fig.axes) == 2 and levels.ndim == 1               # a colour bar
    with pytest.raises(ValueError, match="one shape"):
        plot_loglik_surface(ax, M1, M2, L[:-1])
    with pytest.raises(ValueError, match="maximum must have shape"):
        plot_loglik_surface(ax, M1, M2, L, maximum=(1.0, 2.0, 3.0))
    plt.close(fig)


def test_plot_ascent_paths_draws_each_path_and_its_values():
    from emlib.course.plotting import plot_ascent_paths

    axis = np.linspace(-3, 3, 21)
    M1, M2 = np.meshgrid(axis, axis)
    L = -(M1 ** 2 + M2 ** 2)
    paths = {"a": np.array([[2.0, 2.0], [1.0, 1.0], [0.0, 0.0]]), "b": np.array([[2.0, 2.0], [-1.0, -1.0], [0.5, 0.5]])}
    values = {k: -(p ** 2).sum(axis=1) for k, p in paths.items()}
    fig = plot_ascent_paths(M1, M2, L, paths, values, best=0.0)
    left, right = fig.axes
    assert [t.get_text() for t in left.get_legend().get_texts()] == ["a", "b"]
    np.testing.assert_allclose(right.lines[1].get_ydata(), values["b"])
    assert left.get_title() == "2 steps from the black square"
    with pytest.raises(ValueError, match="same keys"):
        plot_ascent_paths(M1, M2, L, paths, {"a": values["a"]})
    with pytest.raises(ValueError, match="must have shape"):
        plot_ascent_paths(M1, M2, L, {"a": paths["a"]}, {"a": values["a"][:2]})
    plt.close(fig)


def test_plot_density_iterations_draws_one_panel_per_iteration():
    from emlib import em
    from emlib.course.plotting import plot_density_iterations

    truth = Mixture.univariate([0.5, 0.5], [-2.0, 2.0], [1.0, 1.0])
    X, _ = truth.sample(100, np.random.default_rng(0))
    run = em(X, Mixture.univariate([0.5, 0.5], [-0.5, 0.5], [1.0, 1.0]), covariance="fixed", max_iter=3, tol=0)
    fig = plot_density_iterations(X, run, (0, 3))
    assert len(fig.axes) == 2 and fig.axes[1].get_title() == f"t = 3:  l = {run.loglik[3]:.1f}"
    with pytest.raises(ValueError, match="iterations must lie in 0..3"):
        plot_density_iterations(X, run, (0, 4))
    with pytest.raises(ValueError, match="keep its history"):
        plot_density_iterations(X, em(X, run.history[0], covariance="fixed", max_iter=2, keep_history=False))
    plt.close(fig)


def test_plot_simplex_scores_colours_by_shortfall_on_a_log_scale():
    from matplotlib.colors import LogNorm

    from emlib.course.plotting import plot_simplex_scores

    w = np.random.default_rng(0).dirichlet(np.ones(3), size=20)
    fig, ax = plt.subplots()
    sc = plot_simplex_scores(ax, w, np.linspace(0.1, 10, 20), np.array([0.2, 0.3, 0.5]))
    assert isinstance(sc.norm, LogNorm) and np.allclose(sc.get_offsets(), w[:, :2])
    with pytest.raises(ValueError, match="shortfall must be positive"):
        plot_simplex_scores(ax, w, np.zeros(20), np.array([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match=r"weights must have shape \(N, 3\)"):
        plot_simplex_scores(ax, w[:, :2], np.ones(20), np.array([0.2, 0.3, 0.5]))
    plt.close(fig)


def test_plot_assignment_curves_highlights_one_curve_under_the_loglik():
    from emlib.course.plotting import plot_assignment_curves

    grid = np.linspace(-1, 1, 11)
    curves = -np.add.outer(grid ** 2, np.arange(4.0))            # (11, 4)
    fig, ax = plt.subplots()
    plot_assignment_curves(ax, grid, curves, np.log(np.exp(curves).sum(axis=1)), highlight=2)
    assert len(ax.lines) == 4 + 2 and np.allclose(ax.lines[4].get_ydata(), curves[:, 2])
    assert "4 curves" in ax.get_title()
    with pytest.raises(ValueError, match="curves must have shape"):
        plot_assignment_curves(ax, grid, curves.T, grid)
    plt.close(fig)


def test_fraction_inside_matches_the_chi_square_law_and_the_bug_does_not():
    from emlib.course.plotting import fraction_inside

    theta = np.radians(30)
    U = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    cov = U @ np.diag([4.0, 0.25]) @ U.T
    Y = np.random.default_rng(1).multivariate_normal([1.0, -1.0], cov, size=20000)
    for s in (1, 2):
        assert abs(fraction_inside(Y, [1.0, -1.0], cov, s) - (1 - np.exp(-s ** 2 / 2))) < 0.01
    variances = np.linalg.eigh(cov)[0]
    assert fraction_inside(Y, [1.0, -1.0], cov, 2, half_axes=variances) < 0.75
    with pytest.raises(ValueError, match=r"samples must have shape \(n, 2\)"):
        fraction_inside(Y[:, :1], [0.0, 0.0], cov, 1)


def test_plot_ellipse_check_prints_the_fractions_in_each_panel():
    from emlib.course.plotting import plot_ellipse_check

    cov = np.array([[2.0, 0.5], [0.5, 1.0]])
    Y = np.random.default_rng(2).multivariate_normal([0, 0], cov, size=500)
    fig = plot_ellipse_check(Y, cov, n_std=(1, 2))
    good, bug = fig.axes
    assert len(good.patches) == 2 and "expected 39%" in good.texts[0].get_text()
    width = good.patches[1].width
    assert np.isclose(width, 2 * 2 * np.sqrt(np.linalg.eigvalsh(cov).max()))
    assert np.isclose(bug.patches[1].width, 2 * 2 * np.linalg.eigvalsh(cov).max())
    with pytest.raises(ValueError, match="symmetric positive definite"):
        plot_ellipse_check(Y, np.array([[1.0, 0.0], [0.0, -1.0]]))
    plt.close(fig)


def test_plot_fits_grid_titles_each_fit_with_its_loglik_and_parameter_count():
    from emlib import em, init_kmeans_pp
    from emlib.course.plotting import plot_fits_grid

    X = np.random.default_rng(3).normal(size=(60, 2)) + np.repeat([[0, 0], [5, 5]], 30, axis=0)
    fits = {kind: em(X, init_kmeans_pp(X, 2, np.random.default_rng(0), covariance=kind), covariance=kind)
            for kind in ("full", "spherical", "tied")}
    fig = plot_fits_grid(X, fits)
    titles = [ax.get_title() for ax in fig.axes if ax.get_visible()]
    assert titles[0] == f"full:  l = {fits['full'].loglik[-1]:.1f},  11 parameters"
    assert titles[1].endswith("7 parameters") and len(titles) == 3
    with pytest.raises(ValueError, match="at least one"):
        plot_fits_grid(X, {})
    plt.close(fig)


def test_plot_fit_and_loglik_marks_the_start_and_draws_l_per_sample():
    from emlib import em, init_from_data
    from emlib.course.plotting import plot_fit_and_loglik

    X = np.random.default_rng(4).normal(size=(40, 2)) + np.repeat([[0, 0], [6, 0]], 20, axis=0)
    start = init_from_data(X, 2, 0)
    run = em(X, start, max_iter=20)
    fig = plot_fit_and_loglik(X, run, start=start, labels=("a", "b"))
    left, right = fig.axes
    assert left.get_xlabel() == "a" and left.get_title() == "two full-covariance components"
    np.testing.assert_allclose(right.lines[0].get_ydata(), run.loglik / 40)
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\)"):
        plot_fit_and_loglik(np.zeros((5, 3)), run)
    plt.close(fig)


# --- helpers for notebooks 07-10b (trim pass) ------------------------------------------------

def test_plot_hardening_goes_from_no_preference_to_hard_assignments():
    from emlib.course.plotting import plot_hardening

    rng = np.random.default_rng(0)
    means = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    X = means[rng.integers(0, 3, 90)] + 0.3 * rng.standard_normal((90, 2))
    fig, ax = plt.subplots()
    plot_hardening(ax, X, means, [1e-2, 1.0, 1e3])
    max_resp, entropy = (line.get_ydata() for line in ax.get_lines()[:2])
    assert max_resp[0] == pytest.approx(1.0) and entropy[0] == pytest.approx(0.0, abs=1e-12)
    assert max_resp[-1] == pytest.approx(1 / 3, abs=1e-3) and entropy[-1] == pytest.approx(1.0, abs=1e-3)
    assert np.all(np.diff(max_resp) < 0) and np.all(np.diff(entropy) > 0)
    with pytest.raises(ValueError, match="sigmas must be"):
        plot_hardening(ax, X, means, [1.0, 0.0])
    with pytest.raises(ValueError, match="means must have shape"):
        plot_hardening(ax, X, means[:1], [1.0])
    plt.close(fig)


def test_plot_means_on_labels_draws_estimated_and_true_means():
    from emlib.course.plotting import plot_means_on_labels

    X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 5.0]])
    fig, ax = plt.subplots()
    plot_means_on_labels(ax, X, np.eye(2)[[0, 0, 1]], [[0.5, 0.0], [5.0, 5.0]], true_means=[[0, 0], [5, 5]],
                         title="t")
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_allclose(lines["estimated means"].get_xydata(), [[0.5, 0.0], [5.0, 5.0]])
    assert "true means" in lines and ax.get_title() == "t"
    with pytest.raises(ValueError, match=r"means must have shape \(m, 2\)"):
        plot_means_on_labels(ax, X, np.eye(2)[[0, 0, 1]], [0.5, 0.0])
    plt.close(fig)


def test_plot_iteration_costs_puts_the_race_on_a_time_axis_from_the_median():
    from types import SimpleNamespace

    from emlib.course.plotting import plot_iteration_costs

    runs = {"a": SimpleNamespace(mean_loglik=np.array([-3.0, -2.5, -2.0])),
            "b": SimpleNamespace(mean_loglik=np.array([-3.0, -2.9, -2.8]))}
    times = {"a": np.array([0.001, 0.002, 0.003, 1.0]), "b": np.array([0.004, 0.004, 0.004])}
    fig = plot_iteration_costs(times, runs, title="n = 3")
    ax_box, ax_time = fig.axes
    assert ax_box.get_title() == "n = 3"
    curve_a = ax_time.get_lines()[0]
    np.testing.assert_allclose(curve_a.get_xdata(), [0.0, 2.5, 5.0])      # t times the median, 2.5 ms
    with pytest.raises(ValueError, match="the same labels"):
        plot_iteration_costs({"a": times["a"]}, runs)
    with pytest.raises(ValueError, match="non-negative seconds"):
        plot_iteration_costs({"a": [], "b": times["b"]}, runs)
    plt.close(fig)


def test_plot_conditional_density_is_the_responsibility_weighted_sum_and_integrates_to_one():
    from emlib.course.plotting import plot_conditional_density

    x = np.linspace(-20, 20, 4001)
    fig, ax = plt.subplots()
    plot_conditional_density(ax, x, [0.7, 0.0, 0.3], [0.0, 5.0, 4.0], [1.0, 1.0, 4.0], imputed=1.2, label="p")
    total = next(line for line in ax.get_lines() if line.get_label() == "p").get_ydata()
    assert np.trapezoid(total, x) == pytest.approx(1.0, abs=1e-6)
    assert total[2000] == pytest.approx(0.7 / np.sqrt(2 * np.pi) + 0.3 * np.exp(-2.0) / np.sqrt(8 * np.pi))
    assert len(ax.collections) == 2                        # the component of responsibility 0 is not shaded
    with pytest.raises(ValueError, match="variances must be positive"):
        plot_conditional_density(ax, x, [1.0], [0.0], [0.0])
    with pytest.raises(ValueError, match="the same shape"):
        plot_conditional_density(ax, x, [1.0], [0.0, 1.0], [1.0])
    plt.close(fig)


def test_plot_fit_and_truth_draws_the_truth_dotted_and_only_complete_rows():
    from emlib.course.plotting import plot_fit_and_truth

    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 0.0]], np.stack([np.eye(2)] * 2))
    X = np.array([[0.0, 0.0], [np.nan, 1.0], [4.0, 0.5]])
    fig, ax = plt.subplots()
    plot_fit_and_truth(ax, X, mix, mix)
    assert ax.collections[0].get_offsets().shape == (2, 2)
    styles = [p.get_linestyle() for p in ax.patches]
    assert styles == ["solid", "solid", ":", ":"]
    with pytest.raises(ValueError, match="the same number of components"):
        plot_fit_and_truth(ax, X, mix, mix.subset([0]))
    plt.close(fig)


def test_plot_curve_panels_gives_a_panel_per_quantity_and_one_legend():
    from emlib.course.plotting import plot_curve_panels

    x = np.array([0.0, 20.0, 40.0])
    means = np.arange(18, dtype=float).reshape(3, 2, 3) + 1
    fig = plot_curve_panels(x, means, 0.1 * means, ["a", "b"], ["p", "q", "r"], xlabel="x", log_panels=(0,))
    assert [ax.get_title() for ax in fig.axes] == ["p", "q", "r"]
    assert fig.axes[0].get_yscale() == "log" and fig.axes[1].get_yscale() == "linear"
    np.testing.assert_allclose(fig.axes[1].get_lines()[1].get_ydata(), means[:, 1, 1])
    assert [t.get_text() for t in fig.legends[0].get_texts()] == ["a", "b"]
    with pytest.raises(ValueError, match="must have shape"):
        plot_curve_panels(x, means[:, :, :2], 0.1 * means, ["a", "b"], ["p", "q", "r"])
    plt.close(fig)


def test_plot_trim_history_marks_every_trim():
    from types import SimpleNamespace

    from emlib.course.plotting import plot_trim_history

    mixes = [Mixture(np.full(m, 1 / m), np.zeros((m, 2)), np.stack([np.eye(2)] * m)) for m in (3, 3, 2, 2, 1)]
    result = SimpleNamespace(history=mixes, mean_loglik=np.array([-3.0, -2.0, -2.1, -1.5, -1.4]))
    fig = plot_trim_history(result)
    ax_m, ax_l = fig.axes
    np.testing.assert_array_equal(ax_m.get_lines()[0].get_ydata(), [3, 3, 2, 2, 1])
    trims = [line.get_xdata()[0] for line in ax_l.get_lines()[1:]]
    assert trims == [2, 4]
    with pytest.raises(ValueError, match="must carry its history"):
        plot_trim_history(SimpleNamespace(history=None))
    plt.close(fig)


def test_narrowest_sd_and_plot_highlighted_point_at_the_thin_components():
    from matplotlib.colors import to_hex

    from emlib.course.plotting import PALETTE, narrowest_sd, plot_highlighted

    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [1.0, 0.0]], [[[4.0, 0.0], [0.0, 0.01]], np.eye(2)])
    np.testing.assert_allclose(narrowest_sd(mix), [0.1, 1.0])
    fig, ax = plt.subplots()
    plot_highlighted(ax, np.zeros((3, 2)), mix, narrowest_sd(mix) < 0.5)
    assert len(ax.patches) == 3                           # two outlines, one highlighted
    assert to_hex(ax.patches[-1].get_edgecolor()).upper() == PALETTE[1].upper()
    np.testing.assert_allclose(ax.patches[-1].center, [0.0, 0.0])
    with pytest.raises(ValueError, match="boolean highlight must have shape"):
        plot_highlighted(ax, np.zeros((3, 2)), mix, [True, False, True])
    plt.close(fig)


def test_plot_weight_and_width_places_each_component_at_its_count_and_width():
    from emlib.course.plotting import plot_weight_and_width

    mix = Mixture([0.25, 0.75], [[0.0, 0.0], [1.0, 0.0]], [[[4.0, 0.0], [0.0, 0.01]], np.eye(2)])
    fig, ax = plt.subplots()
    plot_weight_and_width(ax, {"m": mix}, 100, threshold=0.02)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), [[25.0, 0.1], [75.0, 1.0]])
    assert ax.get_yscale() == "log" and ax.get_lines()[0].get_xdata()[0] == pytest.approx(2.0)
    plt.close(fig)


def test_plot_spread_sweep_draws_the_curve_and_its_two_references():
    from emlib.course.plotting import plot_spread_sweep

    fig, ax = plt.subplots()
    plot_spread_sweep(ax, [0.5, 1.0, 1.5], [3.0, 2.0, 0.0], sigma_c=1.4, reference=3.05)
    curve, vline, hline = ax.get_lines()
    np.testing.assert_allclose(curve.get_ydata(), [3.0, 2.0, 0.0])
    assert vline.get_xdata()[0] == 1.4 and hline.get_ydata()[0] == 3.05
    assert [t.get_text() for t in ax.get_legend().get_texts()][1] == "k-means"
    with pytest.raises(ValueError, match="the same length"):
        plot_spread_sweep(ax, [0.5, 1.0], [3.0])
    plt.close(fig)


def test_plot_partitions_colours_points_by_labels_or_by_a_mixture():
    from emlib.course.plotting import plot_partitions

    X = np.array([[0.0, 0.0], [0.2, 0.1], [4.0, 0.0], [4.1, 0.3]])
    mix = Mixture([0.5, 0.5], [[0.0, 0.0], [4.0, 0.0]], np.stack([0.1 * np.eye(2)] * 2))
    fig = plot_partitions(X, {"truth": np.array([0, 0, 1, 1]), "fit": mix, "one": np.zeros(4, int)}, ncols=2)
    axes = fig.axes
    assert [ax.get_title() for ax in axes[:3]] == ["truth", "fit", "one"] and not axes[3].get_visible()
    assert len(axes[0].patches) == 0 and len(axes[1].patches) == 4       # ellipses only for the mixture
    assert sum(c.get_offsets().shape[0] for c in axes[0].collections) == 4
    with pytest.raises(ValueError, match="must be a Mixture or labels of shape"):
        plot_partitions(X, {"bad": np.array([0.0, 1.0, 1.0, 0.0])})
    plt.close(fig)


# --- helpers for notebooks 11-16 (trim pass)


def test_plot_against_m_circles_the_chosen_value_of_each_curve():
    from emlib.course.plotting import plot_against_m

    fig, ax = plt.subplots()
    plot_against_m(ax, [1, 2, 3], {"BIC": [5.0, 2.0, 3.0], "held-out": [0.1, 0.3, 0.2]},
                   best={"BIC": "min", "held-out": "max"}, ylabel="y", title="t")
    circles = [line for line in ax.get_lines() if line.get_markersize() == 14]
    assert sorted((float(c.get_xdata()[0]), float(c.get_ydata()[0])) for c in circles) == [(2.0, 0.3), (2.0, 2.0)]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["BIC", "held-out"]
    assert ax.get_ylabel() == "y" and ax.get_title() == "t"
    fig2, ax2 = plt.subplots()
    plot_against_m(ax2, [1, 2, 3], {"l": [1.0, 2.0, 3.0]}, best=None)
    assert not [line for line in ax2.get_lines() if line.get_markersize() == 14] and ax2.get_legend() is None
    with pytest.raises(ValueError, match="best must be 'min', 'max' or None"):
        plot_against_m(ax2, [1, 2, 3], {"l": [1.0, 2.0, 3.0]}, best="lowest")
    plt.close(fig)
    plt.close(fig2)


def test_plot_restart_values_draws_every_run_and_circles_the_best_of_each_m():
    from emlib.course.plotting import plot_restart_values

    finals = {1: [-2.0, -2.0], 2: [-1.5, -1.0, -1.2]}
    fig, (ax, ax_gap) = plt.subplots(1, 2)
    plot_restart_values(ax, finals)
    plot_restart_values(ax_gap, finals, gap=True)
    ys = np.concatenate([c.get_offsets()[:, 1] for c in ax.collections])
    np.testing.assert_allclose(np.sort(ys), [-2.0, -2.0, -1.5, -1.2, -1.0])
    gaps = np.concatenate([c.get_offsets()[:, 1] for c in ax_gap.collections])
    np.testing.assert_allclose(np.sort(gaps), [-0.5, -0.2, 0.0, 0.0, 0.0])
    xs = np.concatenate([c.get_offsets()[:, 0] for c in ax.collections])
    assert np.all(np.abs(xs - np.array([1, 1, 2, 2, 2])) <= 0.12)
    assert [float(line.get_ydata()[0]) for line in ax.get_lines()] == [-2.0, -1.0]
    assert list(ax.get_xticks()) == [1, 2]
    with pytest.raises(ValueError, match=r"finals\[3\] must be a non-empty 1-D array"):
        plot_restart_values(ax, {3: []})
    plt.close(fig)


def test_outline_segments_paints_a_one_pixel_border_between_labels():
    from emlib.course.plotting import outline_segments

    labels = np.array([[0, 0, 1], [0, 0, 1], [2, 2, 2]])
    image = np.zeros((3, 3, 3))
    out = outline_segments(image, labels, color=(1.0, 0.5, 0.0))
    border = np.array([[0, 1, 0], [1, 1, 1], [0, 0, 0]], dtype=bool)     # right or lower neighbour differs
    np.testing.assert_array_equal(np.all(out == (1.0, 0.5, 0.0), axis=2), border)
    assert np.all(out[~border] == 0) and np.all(image == 0)          # a copy: the input is untouched
    with pytest.raises(ValueError, match="labels must have the image's shape"):
        outline_segments(image, labels[:2])
    with pytest.raises(ValueError, match=r"image must be an RGB array of shape \(h, w, 3\)"):
        outline_segments(image[..., 0], labels)


def test_plot_stacked_histogram_stacks_the_classes_up_to_the_total():
    from emlib.course.plotting import plot_stacked_histogram

    fig, ax = plt.subplots()
    heights = np.array([[1.0, 0.0], [2.0, 1.0], [0.0, 3.0]])
    plot_stacked_histogram(ax, [[0.1], [0.2], [0.3]], heights, ["a", "b"])
    total = ax.get_lines()[0]
    np.testing.assert_allclose(total.get_ydata(), [1.0, 3.0, 3.0])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "all"]
    with pytest.raises(ValueError, match=r"heights must have shape \(len\(values\), len\(names\)\) = \(3, 3\)"):
        plot_stacked_histogram(ax, [0.1, 0.2, 0.3], heights, ["a", "b", "c"])
    plt.close(fig)


def test_plot_weighted_components_draws_each_weighted_density_and_the_map_boundaries():
    from emlib.course.plotting import plot_weighted_components

    mixture = Mixture.univariate([0.5, 0.5], [0.0, 4.0], [1.0, 1.0])
    x = np.linspace(-3.0, 7.0, 1001)
    fig, ax = plt.subplots()
    plot_weighted_components(ax, mixture, x, histogram=(x, np.ones_like(x)), names=["left", "right"])
    curves = [line for line in ax.get_lines() if line.get_label() in ("left", "right")]
    np.testing.assert_allclose(curves[0].get_ydata().max(), 0.5 / np.sqrt(2 * np.pi), rtol=1e-4)
    boundaries = [line for line in ax.get_lines() if line.get_linestyle() == ":"]
    assert len(boundaries) == 1 and abs(boundaries[0].get_xdata()[0] - 2.0) <= 0.011   # halfway between the means
    with pytest.raises(ValueError, match="names must give one name per component"):
        plot_weighted_components(ax, mixture, x, names=["one"])
    with pytest.raises(ValueError, match="mixture must be 1-D"):
        plot_weighted_components(ax, Mixture([1.0], np.zeros((1, 2)), np.eye(2)[None]), x)
    plt.close(fig)


def test_plot_two_scales_puts_each_curve_on_its_own_axis_with_one_legend():
    from emlib.course.plotting import plot_two_scales

    fig, ax = plt.subplots()
    ax, ax_right = plot_two_scales(ax, [1, 2, 3], [0.1, 0.2, 0.3], [5.0, 4.0, 6.0], left_label="l", right_label="D",
                                   xlabel="t", logx=True)
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.1, 0.2, 0.3])
    np.testing.assert_allclose(ax_right.get_lines()[0].get_ydata(), [5.0, 4.0, 6.0])
    assert ax.get_xscale() == "log" and ax.get_ylabel() == "l" and ax_right.get_ylabel() == "D"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["l (left)", "D (right)"]
    with pytest.raises(ValueError, match="right must have the shape of x"):
        plot_two_scales(ax, [1, 2, 3], [0.1, 0.2, 0.3], [5.0, 4.0], left_label="l", right_label="D")
    plt.close(fig)


def test_plot_map_rows_draws_a_row_per_map_with_its_colour_range_and_bar():
    from emlib.course.plotting import plot_map_rows

    a, b = np.zeros((4, 5)), np.ones((4, 5))
    fig = plot_map_rows([[a, b], [b, a]], row_labels=["image", "c"], col_titles=["x", "y"], cmaps=("gray", "magma"),
                        limits=((0, 1), (0, 0.25)), colorbar_labels=(None, "c"))
    axes = fig.axes[:4]
    assert [ax.get_title() for ax in axes[:2]] == ["x", "y"] and axes[2].get_ylabel() == "c"
    assert axes[3].get_images()[0].get_clim() == (0, 0.25) and axes[3].get_images()[0].get_cmap().name == "magma"
    assert len(fig.axes) == 5 and fig.axes[4].get_ylabel() == "c"          # one colour bar, for the second row
    assert all(len(ax.get_xticks()) == 0 for ax in axes)
    with pytest.raises(ValueError, match=r"cmaps must give one entry per row \(2\)"):
        plot_map_rows([[a, b], [b, a]], row_labels=["i", "c"], cmaps=("gray",))
    with pytest.raises(ValueError, match="rows must be a non-empty list of rows of equal length"):
        plot_map_rows([[a, b], [a]], row_labels=["i", "c"])
    plt.close(fig)


def test_plot_density_map_shades_the_mixture_density_with_a_colour_bar():
    from emlib.course.plotting import plot_density_map

    mixture = Mixture([1.0], [[0.5, 0.5]], [np.eye(2) * 0.01])
    fig, ax = plt.subplots()
    shown = plot_density_map(ax, mixture, (0.0, 1.0), resolution=51)
    np.testing.assert_allclose(shown.levels.max(), 1 / (2 * np.pi * 0.01), rtol=0.2)   # the peak density, 15.9
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "p(x)" and ax.get_aspect() == 1.0
    with pytest.raises(ValueError, match="limits must be a pair"):
        plot_density_map(ax, mixture, (1.0, 0.0))
    with pytest.raises(ValueError, match="mixture must be 2-D"):
        plot_density_map(ax, Mixture.univariate([1.0], [0.0], [1.0]), (0.0, 1.0))
    plt.close(fig)


def test_component_table_lists_weight_mean_and_sd_of_each_mixture_side_by_side():
    from emlib.course.plotting import component_table

    a = Mixture.univariate([0.25, 0.75], [0.1, 0.9], [0.04, 0.01])
    b = Mixture.univariate([0.5, 0.5], [0.2, 0.8], [0.09, 0.16])
    table = component_table({"EM": a, "known": b}, ["dark", "bright"]).splitlines()
    assert len(table) == 3 and "EM: rho" in table[0] and "known: rho" in table[0]
    assert table[1].split() == ["dark", "0.250", "0.100", "0.200", "|", "0.500", "0.200", "0.300"]
    assert table[2].split()[1:4] == ["0.750", "0.900", "0.100"]
    assert len({len(line) for line in table}) == 1 and table[1].index("|") == table[0].index("|")   # aligned
    with pytest.raises(ValueError, match="same number of components"):
        component_table({"a": a, "c": Mixture.univariate([1.0], [0.0], [1.0])})
    with pytest.raises(ValueError, match="names must give one name per component"):
        component_table({"a": a}, ["x"])
    more = component_table({"EM": a}, extra={"CSF": ["10%", "0%"], "->": ["CSF", "GM"]}).splitlines()
    assert more[0].split()[-2:] == ["CSF", "->"] and more[1].split()[-2:] == ["10%", "CSF"]
    assert more[2].split()[-2:] == ["0%", "GM"] and len({len(line) for line in more}) == 1
    with pytest.raises(ValueError, match=r"extra\['CSF'\] must give one entry per component \(2\)"):
        component_table({"EM": a}, extra={"CSF": ["10%"]})


def test_map_imshow_greys_unknown_pixels_and_names_the_value_on_its_colour_bar():
    from matplotlib.colors import to_hex

    from emlib.course.plotting import map_imshow

    fig, ax = plt.subplots()
    image = map_imshow(ax, np.array([[0.0, np.nan], [np.inf, 4.0]]), "d", vmin=0, vmax=4, label="disparity (px)")
    rgba = image.to_rgba(image.get_array())
    assert to_hex(rgba[0, 1]) == to_hex("0.6") and to_hex(rgba[1, 0]) == to_hex("0.6")
    assert to_hex(rgba[0, 0]) == to_hex(plt.get_cmap("viridis")(0.0))
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "disparity (px)"
    assert ax.get_title() == "d" and not ax.get_xticks().size
    with pytest.raises(ValueError, match="image must be a 2-D array"):
        map_imshow(ax, np.zeros(3))
    plt.close(fig)
