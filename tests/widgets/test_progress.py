"""The progress view follows a run model and never writes back."""

from vis_widgets.progress import ProgressView, RunProgress, format_seconds

Run = RunProgress


def test_the_view_follows_the_model_rate_eta_and_total_time():
    run = Run()
    view = ProgressView(run, css_prefix="vw-layer")
    assert view.text.value == "" and view.bar.value == 0  # before any run
    assert "vw-layer-progress" in view.bar._dom_classes
    assert "vw-layer-progress-text" in view.text._dom_classes
    run.max_iter = 200
    assert view.text.value == "starting…" and view.bar.max == 200
    with run.hold_trait_notifications():
        run.seconds, run.iteration = 0.5, 50
    assert view.bar.value == 50
    assert view.text.value == "50 / 200 · 100 it/s · ETA 1.5 s"
    with run.hold_trait_notifications():
        run.seconds, run.iteration = 1.0, 150
    assert view.text.value.startswith("150 / 200 · 150 it/s")  # (100 + 200) / 2
    with run.hold_trait_notifications():
        run.seconds, run.finished, run.iteration = 1.25, True, 200
    assert view.text.value == "200 / 200 · 175 it/s · 1.2 s"
    assert view.bar.value == 200
    # a new run: the count starts again and the rate with it
    with run.hold_trait_notifications():
        run.seconds, run.finished, run.iteration = 0.0, False, 0
    assert view.text.value == "starting…" and view.bar.value == 0


def test_moving_the_bar_does_not_change_the_model():
    run = Run(max_iter=10, iteration=4)
    view = ProgressView(run)
    view.bar.value = 9  # as a front-end could
    assert run.iteration == 4


def test_format_seconds():
    assert format_seconds(4.25) == "4.2 s" and format_seconds(185) == "3 min 05 s"
