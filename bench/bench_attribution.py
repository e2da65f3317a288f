"""Attribution speed: this engine against tf-keras-vis 0.8.7, in one process, interleaved.

    .venv/bin/pip install -e ".[bench]"        # tf-keras-vis==0.8.7, bench only
    .venv/bin/python bench/bench_attribution.py --quick   # ~5 min: 1 round, no Score-CAM b8
    .venv/bin/python bench/bench_attribution.py           # 3 rounds, all rows: ~30 min

MobileNetV2 (weights=None, 128x128, linear logits, BatchNorm statistics set
on random images so that its maps are not all zero), inputs in MobileNetV2's
[-1, 1] range, batch 1 and 8. Rows: saliency, SmoothGrad (16 samples, noise
0.2 of each image's range), Grad-CAM and Score-CAM at `out_relu` (both
sides are given that layer, tf-keras-vis with `seek_penultimate_conv_layer=False`:
its own search would go down to `Conv_1`, before the BatchNorm and ReLU6).
Before timing, each row checks that both sides draw the same maps (Pearson
correlation of the normalized maps, and their largest difference):
saliency, SmoothGrad without noise (the noise itself is random) and
Grad-CAM at the feature map's resolution must correlate above 0.999 (the
compiled graph's fused kernels round differently from eager execution: up to
about 2e-2 on a normalized map), Score-CAM above 0.9 (the two upsample the
masks with different bilinear conventions, scipy's corner-aligned zoom and
`tf.image.resize`; measured 0.94 to 0.97). `tests/core/test_attribution.py`
checks this engine's Score-CAM against a loop reference to 1e-5. Each
timing is the median of `--rounds` calls per side, alternating ours and
theirs. Then the resident memory over `--calls` calls
with a new class at every call.
"""

import argparse
import os
import platform
import time
import warnings

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf

from vis_widgets.core.attribution import Attributor


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def calibrated_mobilenet():
    """MobileNetV2 (weights=None) whose BatchNorm statistics are those of random images.

    With its initial statistics (mean 0, variance 1) the random network's
    activations grow layer after layer until every ReLU6 saturates: every
    gradient and every map is then zero, and any two implementations
    "agree". One forward pass in training mode with momentum 0 sets each
    BatchNorm layer's statistics to the batch's.
    """
    model = keras.applications.MobileNetV2(
        weights=None, input_shape=(128, 128, 3), classifier_activation=None
    )
    norms = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    for layer in norms:
        layer.momentum = 0.0
    x = np.random.default_rng(1).uniform(-1, 1, (16, 128, 128, 3)).astype(np.float32)
    model(x, training=True)
    for layer in norms:
        layer.momentum = 0.99
    return model


def nondegenerate(maps):
    """True when every normalized map spans most of [0, 1]."""
    flat = maps.reshape(maps.shape[0], -1)
    return bool(np.all(flat.max(axis=1) - flat.min(axis=1) > 0.5))


def median_ms(fn, rounds):
    times = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 round, no Score-CAM at batch 8")
    parser.add_argument("--rounds", type=int, default=None, help="calls per side (default 3)")
    parser.add_argument("--calls", type=int, default=None, help="memory calls (default 1000)")
    parser.add_argument(
        "--only", nargs="*", default=None, help="rows to run: saliency smoothgrad gradcam scorecam"
    )
    args = parser.parse_args()
    rounds = args.rounds or (1 if args.quick else 3)
    calls = args.calls or (300 if args.quick else 1000)

    from tf_keras_vis.gradcam import Gradcam
    from tf_keras_vis.saliency import Saliency
    from tf_keras_vis.scorecam import Scorecam
    from tf_keras_vis.utils.scores import CategoricalScore

    warnings.filterwarnings("ignore", message="The structure of `inputs`")
    keras.utils.set_random_seed(0)
    model = calibrated_mobilenet()
    images = np.random.default_rng(0).uniform(-1, 1, (8, 128, 128, 3)).astype(np.float32)
    ours = Attributor(model, batch_size=32)
    layer = ours.cam_layer()
    assert layer.name == "out_relu", layer
    saliency, gradcam, scorecam = Saliency(model), Gradcam(model), Scorecam(model)

    def silent(fn):  # tf-keras-vis's Score-CAM prints a progress bar (model.predict)
        def run():
            with open(os.devnull, "w") as null:
                import contextlib

                with contextlib.redirect_stdout(null):
                    return fn()

        return run

    rows = []
    for batch in (1, 8):
        x = images[:batch]
        classes = [(3 + 5 * i) % 1000 for i in range(batch)]
        score = CategoricalScore(classes)
        cases = [
            (
                "saliency",
                lambda x=x, c=classes: ours.attribute(x, c),
                lambda x=x, s=score: saliency(s, x),
                lambda x=x, c=classes, s=score: (ours.attribute(x, c), saliency(s, x)),
            ),
            (
                "smoothgrad n=16",
                lambda x=x, c=classes: ours.attribute(x, c, "smoothgrad", samples=16, noise=0.2),
                lambda x=x, s=score: saliency(s, x, smooth_samples=16, smooth_noise=0.2),
                lambda x=x, c=classes, s=score: (
                    ours.attribute(x, c, "smoothgrad", samples=2, noise=0.0),
                    saliency(s, x, smooth_samples=2, smooth_noise=0.0),
                ),
            ),
            (
                "gradcam",
                lambda x=x, c=classes: ours.attribute(x, c, "gradcam"),
                lambda x=x, s=score: gradcam(
                    s, x, penultimate_layer="out_relu", seek_penultimate_conv_layer=False
                ),
                lambda x=x, c=classes, s=score: (
                    ours.attribute(x, c, "gradcam", upsample=False),
                    gradcam(
                        s,
                        x,
                        penultimate_layer="out_relu",
                        seek_penultimate_conv_layer=False,
                        expand_cam=False,
                    ),
                ),
            ),
        ]
        if batch == 1 or not args.quick:
            run_theirs = silent(
                lambda x=x, s=score: scorecam(
                    s, x, penultimate_layer="out_relu", seek_penultimate_conv_layer=False
                )
            )
            cases.append(
                (
                    "scorecam",
                    lambda x=x, c=classes: ours.attribute(x, c, "scorecam"),
                    run_theirs,
                    None,
                )
            )
        if args.only:
            cases = [case for case in cases if case[0].split()[0] in args.only]
        for name, run_ours, run_theirs, check in cases:
            # the first calls trace (ours) and warm up (theirs), outside the timing
            a, b = check() if check is not None else (run_ours(), run_theirs())
            assert nondegenerate(run_ours() if check is not None else a), name
            r = np.corrcoef(np.ravel(a), np.ravel(b))[0, 1]
            diff = np.abs(np.asarray(a) - np.asarray(b)).max()
            agreement = f"corr {r:.4f}, max diff {diff:.1e}"
            assert r > (0.999 if check is not None else 0.9), (name, agreement)
            if check is not None:
                run_theirs()
            t_ours, t_theirs = [], []
            for _ in range(rounds):  # interleaved: ours, theirs, ours, theirs...
                t_ours.append(median_ms(run_ours, 1))
                t_theirs.append(median_ms(run_theirs, 1))
            o, t = float(np.median(t_ours)), float(np.median(t_theirs))
            rows.append((name, batch, o, t, agreement))
            print(
                f"  {name:16s} b{batch}  ours {o:9.1f} ms  tf-keras-vis {t:9.1f} ms  "
                f"x{t / o:5.1f}  ({agreement})",
                flush=True,
            )

    print()
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"TF {tf.__version__}, Keras {keras.__version__}, rounds={rounds}"
    )
    print("| method | batch | ours (ms) | tf-keras-vis 0.8.7 (ms) | ratio | same maps |")
    print("|---|---|---|---|---|---|")
    for name, batch, o, t, agreement in rows:
        print(f"| {name} | {batch} | {o:.1f} | {t:.1f} | {t / o:.1f}x | {agreement} |")

    # memory over many calls with a new class each time (saliency and Grad-CAM alternating)
    warnings.simplefilter("ignore", RuntimeWarning)  # some classes have an all-zero CAM
    x = images[:1]
    for i in range(50):
        ours.attribute(x, i, "saliency" if i % 2 else "gradcam")
    traces = ours.trace_count
    before = rss_mb()
    t = time.perf_counter()
    for i in range(calls):
        ours.attribute(x, i % 1000, "saliency" if i % 2 else "gradcam")
    after = rss_mb()
    print(
        f"\nmemory over {calls} calls with changing classes: {before:.0f} -> {after:.0f} MB "
        f"(growth {after - before:+.1f} MB, target < 50 MB), "
        f"{1000 * (time.perf_counter() - t) / calls:.1f} ms per call, "
        f"new traces: {ours.trace_count - traces}"
    )


if __name__ == "__main__":
    main()
