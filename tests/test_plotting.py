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
    assert image.width == 2 * meta["width"] and abs(image.height - 2 * meta["height"]) <= 1
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
