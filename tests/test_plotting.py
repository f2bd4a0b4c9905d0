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
