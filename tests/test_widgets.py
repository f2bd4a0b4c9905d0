"""EMExplorer without a browser: press its buttons, set its controls, check its state and its picture."""

import re
import time

import matplotlib

matplotlib.use("Agg")  # this test module draws off-screen; notebooks keep their own backend

import numpy as np
import pytest

from emlib import e_step
from emlib.course.widgets import EMExplorer, load_dataset, start_mixture

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def explorer():
    return EMExplorer("three_gaussians", m=3, covariance="full", seed=0)


def ellipse_state(ex):
    """(centre, width, height, angle) of every ellipse drawn on the data axes."""
    return [(tuple(p.center), p.width, p.height, p.angle) for p in ex.ax_data.patches]


def text_loglik(ex):
    """The log-likelihood printed in the text line, as a float."""
    return float(re.search(r"= (-?\d+\.\d+)", ex.loglik_text).group(1))


def test_starts_after_the_first_e_step(explorer):
    assert (explorer.t, explorer.half) == (0, "E")
    assert "after E-step 0" in explorer.loglik_text
    assert explorer.png.startswith(PNG_SIGNATURE)
    assert len(explorer.ax_data.patches) == 2 * 3           # ellipses at 1 and 2 standard deviations
    assert explorer.back_button.disabled and not explorer.forward_button.disabled


def test_forward_button_alternates_e_and_m_steps(explorer):
    seen = []
    for _ in range(4):
        explorer.forward_button.click()
        seen.append((explorer.t, explorer.half))
    assert seen == [(0, "M"), (1, "E"), (1, "M"), (2, "E")]
    assert "after E-step 2" in explorer.loglik_text


def test_m_step_moves_ellipses_and_keeps_colours(explorer):
    colours = explorer.scatter.get_facecolors().copy()
    ellipses = ellipse_state(explorer)
    explorer.forward_button.click()                           # E-step 0 -> M-step 0
    assert "after M-step 0" in explorer.loglik_text
    np.testing.assert_array_equal(explorer.scatter.get_facecolors(), colours)
    assert ellipse_state(explorer) != ellipses
    centres = np.array([e[0] for e in ellipse_state(explorer)[::2]])
    np.testing.assert_allclose(centres, explorer.result.history[1].means)


def test_e_step_recolours_points_and_keeps_ellipses(explorer):
    explorer.forward_button.click()                           # after M-step 0
    colours = explorer.scatter.get_facecolors().copy()
    ellipses = ellipse_state(explorer)
    explorer.forward_button.click()                           # after E-step 1
    assert not np.allclose(explorer.scatter.get_facecolors(), colours)
    assert ellipse_state(explorer) == ellipses


def test_colours_are_responsibilities_from_e_step_on_history(explorer):
    explorer.go_to(2, "M")
    resp, _ = e_step(explorer.X, explorer.result.history[2])
    np.testing.assert_allclose(explorer.resp, resp)
    assert explorer.mixture is explorer.result.history[3]


def test_loglik_text_shows_the_drawn_parameters(explorer):
    ll = explorer.result.loglik
    assert text_loglik(explorer) == pytest.approx(ll[0], abs=1e-3)
    explorer.forward_button.click()                           # theta^(1) is drawn
    assert text_loglik(explorer) == pytest.approx(ll[1], abs=1e-3)
    assert "θ^(1)" in explorer.loglik_text
    assert explorer.status.value == explorer.loglik_text      # nothing to escape here


def test_trace_marks_the_current_point(explorer):
    explorer.go_to(3, "E")
    x, y = explorer._current_marker.get_data()
    assert list(x) == [3] and y[0] == pytest.approx(explorer.result.loglik[3])
    assert len(explorer._trace_done.get_xdata()) == 4


def test_ellipses_are_updated_in_place_as_plot_ellipses_draws_them(explorer):
    import matplotlib.pyplot as plt
    from emlib.course.plotting import plot_ellipses

    patches = list(explorer.ax_data.patches)
    explorer.go_to(4, "M")
    assert explorer.ax_data.patches[:] == patches                  # the same artists, moved
    fig, ax = plt.subplots()
    plot_ellipses(ax, explorer.mixture, n_std=(1, 2))
    for ours, ref in zip(explorer.ax_data.patches, ax.patches):
        np.testing.assert_allclose([*ours.center, ours.width, ours.height, ours.angle, ours.get_alpha()],
                                   [*ref.center, ref.width, ref.height, ref.angle, ref.get_alpha()])
        np.testing.assert_allclose(ours.get_edgecolor(), ref.get_edgecolor())
    means = np.array([line.get_xydata()[0] for line in explorer.ax_data.lines])
    np.testing.assert_allclose(means, explorer.mixture.means)
    plt.close(fig)


def test_changing_m_redraws_the_right_number_of_components(explorer):
    explorer.m_slider.value = 5
    assert len(explorer.ax_data.patches) == 2 * 5 and len(explorer.ax_data.lines) == 5
    explorer.m_slider.value = 2
    assert len(explorer.ax_data.patches) == 2 * 2 and len(explorer.ax_data.lines) == 2


def test_back_button_undoes_a_half_step_exactly(explorer):
    start_png = explorer.png
    explorer.forward_button.click()
    explorer.forward_button.click()
    assert explorer.png != start_png
    explorer.back_button.click()
    assert (explorer.t, explorer.half) == (0, "M")
    explorer.back_button.click()
    assert (explorer.t, explorer.half) == (0, "E")
    assert explorer.png == start_png


def test_back_at_the_start_does_nothing(explorer):
    explorer.back_button.click()
    assert (explorer.t, explorer.half) == (0, "E")


def test_reset_button_returns_to_the_start(explorer):
    for _ in range(5):
        explorer.forward_button.click()
    explorer.reset_button.click()
    assert (explorer.t, explorer.half) == (0, "E")
    assert explorer.iteration_slider.value == 0


def test_forward_stops_at_the_last_iteration(explorer):
    explorer.end_button.click()
    n = explorer.result.n_iter
    assert (explorer.t, explorer.half) == (n, "E")
    explorer.forward_button.click()
    assert (explorer.t, explorer.half) == (n, "E")
    assert explorer.forward_button.disabled
    assert "converged" in explorer.loglik_text


def test_slider_sets_the_iteration(explorer):
    explorer.iteration_slider.value = 4
    assert (explorer.t, explorer.half) == (4, "E")
    explorer.forward_button.click()
    assert explorer.iteration_slider.value == 4               # M-step 4 still belongs to iteration 4
    explorer.forward_button.click()
    assert explorer.iteration_slider.value == 5


def test_controls_rerun_em_and_reset_the_view(explorer):
    explorer.go_to(3, "M")
    png = explorer.png
    explorer.dataset_dropdown.value = "old_faithful"
    explorer.m_slider.value = 2
    explorer.covariance_buttons.value = "diag"
    explorer.seed_text.value = 3
    assert (explorer.t, explorer.half) == (0, "E")
    assert explorer.X.shape == (272, 2)
    np.testing.assert_allclose(explorer.X.mean(axis=0), 0, atol=1e-12)   # standardised
    assert explorer.result.covariance == "diag"
    assert explorer.mixture.n_components == 2
    assert len(explorer.ax_data.patches) == 2 * 2
    assert explorer.png != png
    expected = start_mixture(explorer.X, 2, "diag", 3)
    np.testing.assert_allclose(explorer.result.history[0].means, expected.means)


def test_set_changes_several_settings_at_once(explorer):
    explorer.set(dataset="annulus", m=8, covariance="spherical", seed=2)
    assert explorer.setting == ("annulus", 8, "spherical", "data", 2)
    assert explorer.X.shape == (900, 2)
    cov = explorer.result.history[0].covariances
    np.testing.assert_allclose(cov, cov[:, :1, :1] * np.eye(2))             # a spherical start
    assert np.all(np.diff(explorer.result.loglik) >= -1e-6 * 900)


@pytest.mark.parametrize("kind", ["full", "diag", "spherical", "tied"])
def test_every_covariance_kind_runs(kind):
    ex = EMExplorer("old_faithful", m=2, covariance=kind, seed=1)
    assert ex.result.covariance == kind and ex.error is None
    ex.go_to_end()
    assert ex.t == ex.result.n_iter


def test_init_seed_changes_the_start(explorer):
    before = explorer.result.history[0].means
    explorer.seed_text.value = 11
    assert not np.allclose(explorer.result.history[0].means, before)


def test_runs_are_cached_per_setting(explorer):
    first = explorer.result
    explorer.m_slider.value = 4
    assert explorer.result is not first
    explorer.m_slider.value = 3
    assert explorer.result is first


def test_builtin_datasets_are_seeded():
    for name in ("three_gaussians", "old_faithful", "annulus"):
        np.testing.assert_array_equal(load_dataset(name), load_dataset(name))


def test_each_half_step_redraws_only_artists(explorer, capsys):
    explorer.forward_button.click()
    static = explorer._background
    times, pngs = [], set()
    for _ in range(10):
        t0 = time.perf_counter()
        explorer.forward_button.click()
        times.append(time.perf_counter() - t0)
        pngs.add(explorer.png)
    assert explorer._background is static                    # the static layer was not redrawn
    assert len(pngs) == 10                                    # yet every picture is new
    with capsys.disabled():
        print(f"\nEMExplorer half-step redraw: median {1e3 * np.median(times):.0f} ms, "
              f"max {1e3 * max(times):.0f} ms over {len(times)} steps")


def test_blitted_picture_matches_a_full_redraw(explorer):
    explorer.go_to(2, "M")
    blitted = np.asarray(explorer.figure.canvas.buffer_rgba()).copy()
    for artist in explorer._dynamic_artists():               # draw everything the ordinary way
        artist.set_animated(False)
    explorer.figure.canvas.draw()
    full = np.asarray(explorer.figure.canvas.buffer_rgba())
    assert np.mean(blitted != full) < 0.001                   # equal (up to antialiasing of a few edges)


def test_custom_data_is_offered_and_shown():
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(-3, 1, (60, 2)), rng.normal(3, 1, (60, 2))])
    ex = EMExplorer(data={"two blobs": X}, m=2)
    assert ex.setting[0] == "two blobs"
    np.testing.assert_array_equal(ex.X, X)
    assert "annulus" in dict((v, k) for k, v in ex.dataset_dropdown.options)


def test_failed_em_is_reported_not_raised():
    ex = EMExplorer(data={"three points": np.eye(3)[:, :2]}, m=5)
    assert ex.result is None
    assert "EM failed" in ex.loglik_text and "m (the number of components)" in ex.loglik_text
    ex.forward_button.click()
    assert (ex.t, ex.half) == (0, "E")
    ex.m_slider.value = 2
    assert ex.result is not None


def test_displays_as_a_widget(explorer):
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle


@pytest.mark.parametrize("kwargs, error, words", [
    (dict(dataset="mnist"), ValueError, "dataset"),
    (dict(m=0), ValueError, "m must be >= 1"),
    (dict(m=2.5), TypeError, "m must be an integer"),
    (dict(covariance="fixed"), ValueError, "covariance"),
    (dict(covariance="round"), ValueError, "covariance"),
    (dict(seed=-1), ValueError, "seed"),
    (dict(init="magic"), ValueError, "init"),
    (dict(max_iter=0), ValueError, "max_iter"),
    (dict(data=np.zeros((5, 3))), ValueError, "shape (n, 2)"),
    (dict(data={"x": np.array([[0.0, np.nan]])}), ValueError, "NaN"),
    (dict(figsize="big"), TypeError, "figsize"),
])
def test_constructor_validates_arguments(kwargs, error, words):
    with pytest.raises(error, match=re.escape(words)):
        EMExplorer(**kwargs)


def test_go_to_validates_half(explorer):
    with pytest.raises(ValueError, match="half"):
        explorer.go_to(1, "X")


def test_figure_slider_draws_for_the_slider_value_and_describes_the_figure(monkeypatch):
    import ipywidgets
    import matplotlib.pyplot as plt

    from emlib.course.widgets import figure_slider

    drawn, shown = [], []
    monkeypatch.setattr(plt, "show", lambda: shown.append(plt.gcf().emlib_alt))
    slider = ipywidgets.FloatSlider(value=1.5, min=0, max=3)
    box = figure_slider(lambda ax, v: drawn.append(v), slider, alt=lambda v: f"value {v}")
    assert box.children[0] is slider and drawn == [1.5] and shown == ["value 1.5"]
    slider.value = 2.0
    assert drawn == [1.5, 2.0] and shown[-1] == "value 2.0"
    plt.close("all")
    with pytest.raises(TypeError, match="draw and alt must be callables"):
        figure_slider(None, slider, alt=str)
    with pytest.raises(TypeError, match="slider must be an ipywidgets value widget"):
        figure_slider(lambda ax, v: None, 3, alt=str)
