"""Benchmark: the cost of watching a run live, and a layer's filters batched against one by one.

Run from the repository root (no display nor kernel needed):

    python bench/bench_widgets.py           # 9 rounds, 50 iterations per filter (~4 min)
    python bench/bench_widgets.py --quick   # 3 rounds, 10 iterations per filter (~1 min)

Part 1, the live view. Model: the 3-conv CNN on 32x32x3 of bench_engine.py,
with keras-vis's three losses (ActivationMaximization of the last layer's
filter 0 weighted 1, LPNorm weighted 10, TotalVariation weighted 10),
`Jitter(0.05)`, 500 iterations from one fixed seed. Modes, interleaved in
one process (each round runs every mode once, the order rotating between
rounds), medians over rounds:
- headless:  `minimize(..., verbose=False)` and no callback;
- liveplot:  the same with `callbacks=[LivePlot()]`, the standalone use
  (the picture and the curve panels on their render threads, the default);
- inline:    the same with `LivePlot(threaded=False)`, rendering on the
  optimizer's thread (for comparison);
- dashboard: a real `Dashboard` run (`run()` then `wait()`): its thread,
  stop monitor, live plot, run recorder and the record shown afterwards.
One LivePlot (and one Dashboard) is made before timing and reused by every
round, as a dashboard reuses its own; a warm-up run of every mode first
traces the steps (reported).
Not in a notebook, nothing is shown but everything is rendered (the widgets
have no front-end to send to). Target: liveplot / headless <= 1.15.

Part 2, the layer browser's batched run: 32 filters of MobileNetV2's
`block_6_expand` (weights=None, 96x96 input, input range [-1, 1]) with
keras-vis's three losses and `Jitter(0.05)`, as ONE batched `minimize` of
32 samples against 32 sequential runs of one sample, the same `max_iter`
each, on one optimizer traced for both shapes beforehand (so the
sequential side pays no retrace: the most favourable baseline); and, as a
keras-vis user would do it, 32 runs with a new Optimizer each (building
and tracing included; --quick measures 4 of them and scales by 8). The
memory rule's chunk for this layer is printed too. The exit code is 0
whatever the result; PASS/FAIL is printed for the live view.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import statistics
import time

import keras
import numpy as np
from bench_engine import small_cnn  # the same 3-conv CNN, from this folder

from vis_widgets.core import Jitter, Optimizer, keras_vis_losses
from vis_widgets.curves import CurvePanels
from vis_widgets.dashboard import Dashboard
from vis_widgets.display import returned_images, shown
from vis_widgets.layer_run import chunk_size, layer_recipe
from vis_widgets.liveplot import LivePlot
from vis_widgets.render import compose_frame, encode_png

ITERATIONS = 500
TARGET = 1.15
FILTERS = 32
LAYER = "block_6_expand"


def make_optimizer(model):
    losses = keras_vis_losses(model, -1, 0, pre_activation=False)
    return Optimizer(model.inputs[0], losses)


class Modes:
    """The four ways of running; each returns (seconds, LivePlot stats or None)."""

    def __init__(self, opt, seed):
        self.opt, self.seed = opt, seed
        self.live = LivePlot(auto_display=False)
        self.inline_live = LivePlot(auto_display=False, threaded=False)
        self.dash = Dashboard(opt, max_iter=ITERATIONS, jitter=0.05, seed_input=seed)

    def _timed(self, **kwargs):
        start = time.perf_counter()
        self.opt.minimize(self.seed, max_iter=ITERATIONS, verbose=False, **kwargs)
        return time.perf_counter() - start

    def headless(self):
        return self._timed(input_modifiers=[Jitter(0.05)]), None

    def liveplot(self):
        seconds = self._timed(input_modifiers=[Jitter(0.05)], callbacks=[self.live])
        return seconds, dict(self.live.stats)

    def inline(self):
        seconds = self._timed(input_modifiers=[Jitter(0.05)], callbacks=[self.inline_live])
        return seconds, dict(self.inline_live.stats)

    def dashboard(self):
        start = time.perf_counter()
        assert self.dash.run()
        self.dash.wait()
        seconds = time.perf_counter() - start
        assert self.dash.last_error is None, self.dash.last_error
        return seconds, dict(self.dash.live.stats)


def isolated_costs(opt, seed, repeats=20):
    """Per-frame costs measured alone on this thread (ms): an image frame, a curves frame."""

    def image_frame():
        picture = shown(returned_images(opt, seed), "stretched")
        encode_png(compose_frame(picture.images))

    panels = CurvePanels()
    x = np.arange(ITERATIONS)
    keys = ("ActivationMax Loss", "L-6.0 Norm Loss", "TV(2.0) Loss", "overall loss")
    series = {k: np.cumsum(np.random.default_rng(0).normal(size=ITERATIONS)) for k in keys}

    def timed(fn):
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - start) / repeats * 1000

    return {
        "image": timed(image_frame),
        "curves": timed(lambda: panels.render(x, series, ITERATIONS, "weighted losses")),
    }


def live_view(rounds):
    keras.utils.set_random_seed(0)
    opt = make_optimizer(small_cnn())
    seed = np.random.default_rng(0).uniform(100, 155, (1, 32, 32, 3)).astype(np.float32)
    modes = Modes(opt, seed)
    names = ["headless", "liveplot", "inline", "dashboard"]

    start = time.perf_counter()
    warm = {name: getattr(modes, name)()[0] for name in names}
    print(f"warm-up (tracing, first frames): {time.perf_counter() - start:.1f} s; " +
          ", ".join(f"{n} {s:.2f} s" for n, s in warm.items()))  # fmt: skip

    seconds = {name: [] for name in names}
    stats = {name: [] for name in names}
    for r in range(rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        for name in order:
            s, st = getattr(modes, name)()
            seconds[name].append(s)
            stats[name].append(st)
        print(f"round {r + 1}/{rounds}: " + ", ".join(
            f"{n} {seconds[n][-1] * 1000 / ITERATIONS:.3f} ms/it" for n in names))  # fmt: skip

    median = {n: statistics.median(seconds[n]) for n in names}
    print()
    print(f"{ITERATIONS} iterations, 3-conv CNN 32x32x3, medians of {rounds} rounds")
    print(f"{'mode':<10} {'ms/it':>7} {'ratio':>6} {'img fps':>8} {'crv fps':>8} "
          f"{'ms/img':>7} {'ms/crv':>7}")  # fmt: skip
    for n in names:
        line = (
            f"{n:<10} {median[n] * 1000 / ITERATIONS:7.3f} {median[n] / median['headless']:6.3f}"
        )
        if stats[n][0] is not None:
            runs = list(zip(stats[n], seconds[n]))
            img_fps = statistics.median(s["image_frames"] / t for s, t in runs)
            crv_fps = statistics.median(s["curve_frames"] / t for s, t in runs)
            ms_img = (
                1000
                * sum(s["image_seconds"] for s, _ in runs)
                / sum(s["image_frames"] for s, _ in runs)
            )
            ms_crv = (
                1000
                * sum(s["curve_seconds"] for s, _ in runs)
                / sum(s["curve_frames"] for s, _ in runs)
            )
            line += f" {img_fps:8.1f} {crv_fps:8.1f} {ms_img:7.1f} {ms_crv:7.1f}"
        print(line)
    frames = stats["liveplot"][-1]
    print(f"(last liveplot run: {frames['image_frames']} image and {frames['curve_frames']} "
          "curve frames: the images include the first iteration, both the last; "
          "ms/img and ms/crv are render-thread wall times, GIL waits included)")  # fmt: skip

    costs = isolated_costs(opt, seed)
    print(f"isolated, on one thread: image frame {costs['image']:.2f} ms (32x32 -> 256 px, "
          f"stretched, PNG), curves frame {costs['curves']:.2f} ms (4 panels of "
          f"{ITERATIONS} points, SVG)")  # fmt: skip
    paired = {
        n: statistics.median(a / b for a, b in zip(seconds[n], seconds["headless"]))
        for n in names[1:]
    }
    print("median of per-round ratios (each round's modes run back to back, so a burst of "
          "load from other processes hits both sides): " +
          ", ".join(f"{n} {r:.3f}" for n, r in paired.items()))  # fmt: skip
    ratio = median["liveplot"] / median["headless"]
    verdict = "PASS" if ratio <= TARGET else "FAIL"
    print(f"{verdict}: liveplot / headless = {ratio:.3f} (ratio of medians; target <= {TARGET})")
    modes.dash.close()


def layer_batch(max_iter, fresh):
    keras.utils.set_random_seed(0)
    model = keras.applications.MobileNetV2(weights=None, input_shape=(96, 96, 3))
    layer = model.get_layer(LAYER)
    built = layer_recipe(model, layer, (-1.0, 1.0), "keras-vis", pre_activation=False, jitter=0.0)
    opt, loss = built.optimizer, built.loss
    seed = opt.make_seed()
    batch = np.repeat(seed, FILTERS, axis=0)
    filters = list(range(FILTERS))

    def batched():
        loss.assign(filters)
        opt.minimize(batch, max_iter=max_iter, input_modifiers=[Jitter(0.05)], verbose=False)

    def sequential():
        for f in filters:
            loss.assign([f])
            opt.minimize(seed, max_iter=max_iter, input_modifiers=[Jitter(0.05)], verbose=False)

    start = time.perf_counter()
    loss.assign(filters)
    opt.minimize(batch, max_iter=1, input_modifiers=[Jitter(0.05)], verbose=False)
    loss.assign([0])
    opt.minimize(seed, max_iter=1, input_modifiers=[Jitter(0.05)], verbose=False)
    print(f"\nwarm-up (tracing both shapes): {time.perf_counter() - start:.1f} s")

    def one_optimizer_each(count):
        for f in filters[:count]:
            losses = keras_vis_losses(model, layer, f, pre_activation=False)
            each = Optimizer(model.inputs[0], losses, input_range=(-1.0, 1.0))
            each.minimize(seed, max_iter=max_iter, input_modifiers=[Jitter(0.05)], verbose=False)

    timings = {}
    for name, run in (("batched", batched), ("sequential", sequential)):
        start = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - start
    start = time.perf_counter()
    one_optimizer_each(fresh)
    timings["fresh"] = (time.perf_counter() - start) * FILTERS / fresh
    rule = chunk_size(model, layer, FILTERS)
    print(f"{FILTERS} filters of MobileNetV2 {LAYER} (96x96, weights=None), {max_iter} "
          f"iterations each (the memory rule's chunk here: {rule})")  # fmt: skip
    print(f"{'way':<46} {'seconds':>8} {'ms/filter/it':>13} {'ratio':>6}")
    fresh_label = f"32 runs, a new Optimizer each ({fresh} measured)"
    rows = (
        ("batched", "1 batched run of 32 (the layer browser)"),
        ("sequential", "32 sequential runs, one traced Optimizer"),
        ("fresh", fresh_label if fresh < FILTERS else "32 runs, a new Optimizer each"),
    )
    for name, label in rows:
        per = timings[name] * 1000 / (FILTERS * max_iter)
        ratio = timings[name] / timings["batched"]
        print(f"{label:<46} {timings[name]:8.2f} {per:13.2f} {ratio:6.2f}")
    print(f"sequential / batched = {timings['sequential'] / timings['batched']:.2f}x "
          f"(a new Optimizer per filter, as keras-vis's visualize_activation per filter: "
          f"{timings['fresh'] / timings['batched']:.2f}x)")  # fmt: skip


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds, 10 iterations per filter")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9)")
    parser.add_argument("--filter-iter", type=int, default=None, help="iterations per filter")
    args = parser.parse_args()
    live_view(args.rounds or (3 if args.quick else 9))
    layer_batch(args.filter_iter or (10 if args.quick else 50), 4 if args.quick else FILTERS)


if __name__ == "__main__":
    main()
