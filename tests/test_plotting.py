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
