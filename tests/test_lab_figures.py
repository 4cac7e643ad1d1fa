"""The laboratory's figures as a reader sees them: every series told apart, nothing quoted
clipped, labels off the data, type readable on a phone.

- the memory horizon: the recorded LSTM (forget-gate bias 0) and GRU medians coincide,
  so the second is drawn shifted and the caption says so; every series has its own
  colour and marker; "chance" and "solved" are written right of the axes, the legend
  below them;
- the remedies' residual plot: every value the page quotes lies inside the y range of
  each panel that draws its curve, and that range is computed from the data;
- type: each figure's smallest text, shown at phone width, is at least
  `figure_size.MIN_TEXT_PX` tall.

The hook modules are loaded from their files, as `site_hooks_loader` loads the hooks.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pytest
from figure_size import MIN_TEXT_PX, figure_smallest_text_px
from site_hooks_loader import load_hook

from rnnnum import horizon, lab

horizon_figure = load_hook("lab_horizon_figure")
memory = load_hook("lab_memory")
remedies = load_hook("lab_remedies")


@pytest.fixture(scope="module")
def recorded() -> list:
    return [
        memory._summarise(*horizon.load_results(memory.HORIZON_RESULTS, variants), {})
        for variants in (horizon.VARIANTS, horizon.GATED_VARIANTS)
    ]


def test_the_recorded_lstm_without_bias_and_the_gru_coincide_and_are_drawn_apart(recorded):
    series = memory._series(recorded)
    labels = [s.label for s in series]
    pairs = {(labels[j], labels[i]) for j, i in horizon_figure.coinciding(series).items()}
    assert pairs == {("GRU (reset after)", "LSTM, forget-gate bias 0")}
    sentence = horizon_figure.overlaps_sentence(series)
    assert "GRU (reset after)" in sentence and "LSTM, forget-gate bias 0" in sentence
    settings = recorded[0].settings
    fig = horizon_figure.horizon_figure(
        series, settings["lags"], settings["chance"], settings["solved"]
    )
    ax = fig.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines() if line.get_label()[0] != "_"}
    gru, lstm = lines["GRU (reset after)"], lines["LSTM, forget-gate bias 0"]
    np.testing.assert_allclose(
        np.asarray(gru.get_xdata()) / np.asarray(lstm.get_xdata()), horizon_figure.DODGE
    )
    looks = {(line.get_color(), line.get_marker()) for line in lines.values()}
    assert len(looks) == len(series) and len({m for _, m in looks}) == len(series)
    plt.close(fig)


def test_series_that_differ_are_not_called_coincident():
    S = horizon_figure.Series
    a = S("a", {2: [1.0, 1.0], 5: [0.25, 0.3]}, 0)
    b = S("b", {2: [1.0], 5: [0.25 + 2 * horizon_figure.COINCIDE]}, 1)
    c = S("c", {2: [1.0], 5: [0.27]}, 1)
    d = S("d", {2: [1.0]}, 1)  # fewer lags: not the same line
    assert horizon_figure.coinciding([a, b, c, d]) == {2: 0}
    assert horizon_figure.overlaps_sentence([a, b]) == ""


def test_the_horizon_labels_sit_off_the_data_and_the_legend_below_it(recorded):
    series = memory._series(recorded)
    settings = recorded[0].settings
    fig = horizon_figure.horizon_figure(
        series, settings["lags"], settings["chance"], settings["solved"]
    )
    ax = fig.axes[0]
    fig.canvas.draw()
    frame = ax.get_window_extent()
    names = {t.get_text(): t for t in ax.texts}
    for name in ("chance", "solved"):
        assert names[name].get_window_extent().x0 > frame.x1, name  # right of the axes
    assert ax.get_legend().get_window_extent().y1 < frame.y0  # below the axes
    assert figure_smallest_text_px(fig) >= MIN_TEXT_PX
    plt.close(fig)


@pytest.fixture(scope="module")
def residual() -> dict:
    H, T = remedies.RESIDUAL_SIZE
    return {
        scheme: lab.residual_jacobian_norms(T=T, H=H, scheme=scheme, seed=remedies.SEED)
        for scheme in ("normal", "xavier")
    }


def test_the_residual_plot_shows_every_value_the_page_quotes(residual):
    quoted = remedies.quoted_values(remedies.PAGE.read_text(encoding="utf-8"))
    assert ("normal", "vanilla", 20) in quoted  # the smallest: about 1e-27
    fig = remedies.residual_plot(residual, quoted)
    every, kept = fig.axes
    for scheme, kind, d in quoted:
        value = residual[scheme][kind][d]
        for ax in (every, kept) if kind == "residual" else (every,):
            low, high = ax.get_ylim()
            assert low < value < high, (scheme, kind, d, ax.get_title())
    # the range is the quoted one, not the curves' full fall (about 1e-80 at d = 60)
    assert every.get_ylim()[0] > 1e-3 * min(residual[s][k][d] for s, k, d in quoted)
    assert kept.get_ylim()[0] > 0.1  # the residual products never fall below 1 here
    assert figure_smallest_text_px(fig) >= MIN_TEXT_PX
    plt.close(fig)


def test_the_quoted_values_are_read_from_the_placeholders():
    page = "is {{ residual.normal.vanilla20 }} and {{residual.xavier.residual60}}; {{ other }}"
    assert remedies.quoted_values(page) == [("normal", "vanilla", 20), ("xavier", "residual", 60)]


def test_several_series_coinciding_with_one_are_each_drawn_at_their_own_place():
    S = horizon_figure.Series
    same = {10: [1.0], 30: [1.0]}
    series = [S("a", same, 0), S("b", same, 0), S("c", same, 1), S("d", {10: [0.3]}, 1)]
    assert horizon_figure.shifts(series) == {1: 1, 2: 2}
    fig = horizon_figure.horizon_figure(series, [10, 30], 0.25, 0.9)
    xs = {line.get_label(): line.get_xdata()[0] for line in fig.axes[0].get_lines()
          if line.get_label() in "abc"}  # fmt: skip
    assert len(set(xs.values())) == 3, xs
    sentence = horizon_figure.overlaps_sentence(series)
    assert "b and c" in sentence and "those of a" in sentence
    plt.close(fig)
