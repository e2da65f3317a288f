"""The dashboard's construction, its CSS classes, and its views linked to the one state."""

import numpy as np
import pytest
from widgetkit import WAIT, find, find_all, png_size, svg_size

from vis_widgets.core import History
from vis_widgets.dashboard import Dashboard
from vis_widgets.display import returned_images, shown

TV = "TV(2.0) Loss"


def test_css_classes_on_the_main_parts(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt)
    parts = {
        "vw-run": dash.run_button,
        "vw-stop": dash.stop_button,
        "vw-continue": dash.continue_button,
        "vw-reset": dash.reset_button,
        "vw-image": dash.image,
        "vw-curves": dash.curves,
        "vw-curves-values": dash.values,
        "vw-curves-mode": dash.curves_mode,
        "vw-display": dash.display_toggle,
        "vw-display-range": dash.range_text,
        "vw-progress": dash.progress.bar,
        "vw-progress-text": dash.progress.text,
        "vw-max-iter": dash.max_iter_slider,
        "vw-jitter": dash.jitter_slider,
        "vw-errors": dash.errors,
        "vw-status": dash.controls.status,
        "vw-history": dash.gallery.widget,
        "vw-sweep": dash.sweep_panel.button,
        "vw-sweep-grid": dash.sweep_panel.grid,
        "vw-export-code": dash.export_panel.code,
        "vw-download-png": dash.export_panel.download_png.widget,
        "vw-download-gif": dash.export_panel.download_gif.widget,
        "vw-download-code": dash.export_panel.download_code.widget,
    }
    for css, widget in parts.items():
        assert find(dash.widget, css) is widget, css
    assert dash.widget is find_all(dash.widget, "vw-dashboard")[0]
    assert len(find_all(dash.widget, "vw-download")) == 3
    assert len(find_all(dash.widget, "vw-weight")) == 3 == len(dash.weight_sliders)
    assert len(find_all(dash.widget, "vw-weight-row")) == 3
    assert len(find_all(dash.widget, "vw-weight-value")) == 3
    bundle = dash._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == dash.widget.model_id


def test_the_views_follow_the_state_and_the_live_plot(tiny_opt, make_dashboard):
    dash = make_dashboard(tiny_opt, max_iter=6)
    live, state = dash.live, dash.state
    # before a run: the seed, stretched, in the same image the runs will update
    seed_picture = shown(returned_images(tiny_opt, dash.current_input), "stretched")
    assert dash.range_text.value == seed_picture.range_text() != ""
    assert png_size(dash.image.value) == (264, 264)
    assert svg_size(dash.curves.value) == (460, 242)  # the placeholder
    # one display setting: the toggle, the state and the live plot are linked
    dash.display_toggle.value = "as returned"
    assert state.display == live.display == "as returned"
    assert dash.range_text.value == "as returned: [0, 1] shown black to white"
    dash.state.display = "stretched"
    assert dash.display_toggle.value == "stretched" == live.display
    dash.curves_mode.value = True
    assert state.raw_curves and live.raw
    # the model owns the count; the state follows it; the progress view writes nothing back
    assert dash.run() and dash.wait(WAIT)
    assert live.iteration == state.iteration == 6 == dash.progress.bar.value
    dash.progress.bar.value = 2  # as a front-end could
    assert state.iteration == live.iteration == 6
    assert dash.curves.value == live.curves_svg and dash.image.value == live.image_png
    assert "<td>TV(2.0) Loss</td>" in dash.values.value


def test_dashboard_rejects_bad_arguments(tiny_opt):
    with pytest.raises(TypeError, match="optimizer"):
        Dashboard("not an optimizer")
    with pytest.raises(ValueError, match="jitter"):
        Dashboard(tiny_opt, jitter=-0.1)
    with pytest.raises(ValueError, match="seed_input"):
        Dashboard(tiny_opt, seed_input=[[1.0, 2.0]])
    with pytest.raises(ValueError, match="seed_input"):
        Dashboard(tiny_opt, seed_input=np.zeros((1, 12, 12, 3, 2)))  # one axis too many
    with pytest.raises(ValueError, match="absolute, invert, negate"):
        Dashboard(tiny_opt, grad_modifier="foo")  # at construction, not at the first Run
    with pytest.raises(TypeError, match="OptimizerCallback"):
        Dashboard(tiny_opt, callbacks=[print])
    with pytest.raises(ValueError, match=r"`live_options` may hold .*Received: \['fps'\]"):
        Dashboard(tiny_opt, live_options={"fps": 3})
    with pytest.raises(ValueError, match="`display` must be one of"):
        Dashboard(tiny_opt, display="bright")
    with pytest.raises(ValueError, match="`keep_runs` must be an int >= 1"):
        Dashboard(tiny_opt, keep_runs=0)
    tiny_opt.set_weight(TV, [1.0, 2.0])
    with pytest.raises(ValueError, match="one weight per sample"):
        Dashboard(tiny_opt)


def test_dashboard_takes_one_callback_as_minimize_does(tiny_opt):
    history = History()
    dash = Dashboard(tiny_opt, callbacks=history, max_iter=2)
    assert dash.callbacks == [history]
    dash.close()


def test_from_model_builds_keras_vis_losses_and_a_layers_tab(tiny_model):
    dash = Dashboard.from_model(tiny_model, "pred", 2, input_range=(0.0, 1.0), tv_weight=5.0)
    losses = dash.optimizer.losses
    assert dash.optimizer.loss_names == ["ActivationMax Loss", "L-6.0 Norm Loss", TV]
    config = {"layer": "pred", "filter_indices": [2], "pre_activation": True}  # softmax: auto
    assert losses[0].get_config() == config
    assert dash.weights == {"ActivationMax Loss": 1.0, "L-6.0 Norm Loss": 10.0, TV: 5.0}
    assert dash.tabs.titles == ("Runs", "Sweep", "Layers", "Export")
    assert find(dash.widget, "vw-layer-grid") is dash.layers.grid
    assert dash.layers.layer_select.value == "pred"
    by_index = Dashboard.from_model(tiny_model, 1, None, pre_activation=False, layers_tab=False)
    assert by_index.optimizer.losses[0].layer.name == "conv"
    assert by_index.optimizer.losses[0].pre_activation is False
    assert by_index.layers is None and "Layers" not in by_index.tabs.titles
    dash.close()
    by_index.close()
