"""The offline demo model: loads without scikit-learn, is accurate, and dreams digits."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from vis_widgets import demo
from vis_widgets.core import ActivationMaximization, Jitter, LPNorm, Optimizer, TotalVariation


@pytest.fixture(scope="module")
def model():
    return demo.load_demo_model()


@pytest.fixture(scope="module")
def info():
    return demo.demo_model_info()


def test_files_are_small_and_metadata_matches_the_model(model, info):
    assert demo.MODEL_PATH.stat().st_size < 400_000
    assert tuple(model.input_shape[1:]) == demo.DEMO_INPUT_SHAPE == tuple(info["input_shape"])
    assert tuple(info["input_range"]) == demo.DEMO_INPUT_RANGE == (0.0, 255.0)
    assert info["class_names"] == list(demo.DEMO_CLASS_NAMES) == [str(d) for d in range(10)]
    assert info["num_train"] + info["num_test"] == 1797
    for key in ("seed", "split_seed", "test_size", "tensorflow_version", "keras_version", "date"):
        assert key in info
    assert info["file_bytes"] == demo.MODEL_PATH.stat().st_size
    assert info["num_params"] == model.count_params()
    # The model rescales its 0..255 input itself: a user feeds pixel values.
    assert model.layers[1].name == "rescale"
    assert info["robust_training"]["epsilon_input_units"] == pytest.approx(51.0)
    predictions = model.get_layer("predictions")
    assert predictions is model.layers[-1]
    assert predictions.units == 10
    assert predictions.activation.__name__ == "softmax"


def test_demo_model_info_returns_a_new_dict():
    first = demo.demo_model_info()
    first["test_accuracy"] = -1
    assert demo.demo_model_info()["test_accuracy"] != -1


@pytest.mark.slow
def test_loading_does_not_import_sklearn():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["sklearn"] = None  # any `import sklearn` now raises ImportError
        import numpy as np
        from vis_widgets.demo import load_demo_model, demo_model_info, load_split
        model = load_demo_model()
        info = demo_model_info()
        probabilities = model.predict(np.zeros((2, *info["input_shape"])), verbose=0)
        assert probabilities.shape == (2, 10), probabilities.shape
        assert sys.modules["sklearn"] is None
        try:
            load_split()
        except ImportError:
            print("LOADED; load_split blocked")
        """
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "LOADED; load_split blocked" in result.stdout


def test_preprocess_digits_scales_and_upsamples():
    raw = np.zeros((2, 8, 8))
    raw[0, 2:6, 3:5] = 16
    x = demo.preprocess_digits(raw)
    assert x.shape == (2, 16, 16, 1)
    assert x.dtype == np.float32
    assert x.min() == 0.0
    assert x.max() == pytest.approx(255.0)
    assert np.all(x[1] == 0)
    with pytest.raises(ValueError, match="images"):
        demo.preprocess_digits(np.zeros((2, 16, 16)))


@pytest.mark.slow
def test_recorded_accuracy_is_reproduced_on_the_held_out_split(model, info):
    assert info["test_accuracy"] >= 0.95
    (x_train, _), (x_test, y_test) = demo.load_split(info["split_seed"], info["test_size"])
    assert (len(x_train), len(x_test)) == (info["num_train"], info["num_test"])
    assert x_test.shape[1:] == demo.DEMO_INPUT_SHAPE
    assert x_test.min() >= 0.0 and x_test.max() <= 255.0
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=1)
    accuracy = float(np.mean(predicted == y_test))
    assert accuracy == pytest.approx(info["test_accuracy"], abs=0.005)


@pytest.mark.slow
@pytest.mark.parametrize("digit", range(10))
def test_dreamed_digit_is_classified_as_that_digit(model, digit):
    # One Optimizer per digit, as a user asks for one class (notebook 02 does all ten
    # in one batched call). The quickstart's weights (TV 0: this model's dreams are
    # smooth without it).
    x = model.inputs[0]
    losses = [
        (ActivationMaximization(model.get_layer("predictions"), digit, pre_activation=True), 1.0),
        (LPNorm(x), 10.0),
        (TotalVariation(x), 0.0),
    ]
    opt = Optimizer(x, losses, input_range=demo.DEMO_INPUT_RANGE)
    img, _, _ = opt.minimize(max_iter=200, input_modifiers=[Jitter(1, seed=digit)], verbose=False)
    # `img` is the de-processed best input: what the user is shown.
    assert img.shape == demo.DEMO_INPUT_SHAPE
    assert img.min() >= 0.0 and img.max() <= 255.0
    probabilities = model.predict(img[None], verbose=0)[0]
    raw_probabilities = model.predict(opt.best_input, verbose=0)[0]
    assert probabilities[digit] >= 0.9, (
        f"digit {digit}: shown image {np.round(probabilities, 3)}, "
        f"raw best input {np.round(raw_probabilities, 3)}"
    )
