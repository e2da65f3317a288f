"""Benchmark: the cost of watching a run live with LivePlot, against a headless run.

Run from the repository root (no display nor kernel needed):

    python bench/bench_widgets.py           # 9 alternating rounds (~1 min on 2 cores)
    python bench/bench_widgets.py --quick   # 3 rounds (~15 s)

Model: the 3-conv CNN on 32x32x3 of bench_engine.py, with keras-vis's three
losses (ActivationMaximization of the last layer's filter 0 weighted 1,
LPNorm weighted 10, TotalVariation weighted 10), `Jitter(0.05)`, 500
iterations from one fixed seed.

Modes, interleaved in one process (each round runs every mode once, the
order rotating between rounds), medians over rounds:
- headless:  `minimize(..., verbose=False)` and no callback;
- liveplot:  the same with `callbacks=[LivePlot()]`, the standalone use
  (rendering on LivePlot's render thread, the default);
- inline:    the same with `LivePlot(threaded=False)`, rendering on the
  optimizer's thread (for comparison);
- dashboard: what a `Dashboard` run adds: the dashboard's stop monitor
  callback before its LivePlot.

One LivePlot per mode is created before timing and reused by every round,
as a dashboard reuses its own; a warm-up run of every mode first traces the
steps and pays matplotlib's one-time font loading (reported separately).
Not in a notebook, LivePlot shows nothing but renders everything (the
widgets have no front-end to send to). Ratio target: liveplot / headless
<= 1.15. The exit code is 0 whatever the result; PASS/FAIL is printed.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import statistics
import threading
import time

import keras
import numpy as np
from bench_engine import small_cnn  # the same 3-conv CNN, from this folder

from vis_widgets.core import (
    ActivationMaximization,
    Jitter,
    LPNorm,
    Optimizer,
    TotalVariation,
)
from vis_widgets.dashboard import _StopMonitor
from vis_widgets.liveplot import LivePlot
from vis_widgets.render import CurvePlot, compose_frame, display_images, encode_png

ITERATIONS = 500
TARGET = 1.15


def make_optimizer(model):
    x = model.inputs[0]
    losses = [
        (ActivationMaximization(model.layers[-1], 0), 1.0),
        (LPNorm(x), 10.0),
        (TotalVariation(x), 10.0),
    ]
    return Optimizer(x, losses)


class Modes:
    """The four ways of running; each returns (seconds, LivePlot stats or None)."""

    def __init__(self, opt, seed):
        self.opt, self.seed = opt, seed
        self.live = LivePlot()
        self.inline_live = LivePlot(threaded=False)
        self.dash_live = LivePlot()
        self.stop_event = threading.Event()

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
        seconds = self._timed(
            input_modifiers=[Jitter(0.05)],
            callbacks=[_StopMonitor(self.stop_event), self.dash_live],
        )
        return seconds, dict(self.dash_live.stats)


def isolated_costs(opt, seed, repeats=30):
    """Per-frame costs measured alone on this thread (ms): image, full curves, blitted curves."""
    images = display_images(seed, opt.input_range, opt.data_format)

    def image_frame():
        encode_png(compose_frame(display_images(seed, opt.input_range, opt.data_format)))

    plot = CurvePlot()
    x = np.arange(ITERATIONS)
    series = {k: np.cumsum(np.random.randn(ITERATIONS)) for k in ("a", "b", "c", "overall")}

    def timed(fn):
        fn()
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return (time.perf_counter() - start) / repeats * 1000

    full = timed(lambda: (setattr(plot, "_background", None), plot.render(x, series, 500, "t")))
    blit = timed(lambda: plot.render(x, series, 500, "t"))
    return {"image": timed(image_frame), "curves_full": full, "curves_blit": blit}, images.shape


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 9")
    parser.add_argument("--rounds", type=int, default=None, help="rounds (default 9)")
    args = parser.parse_args()
    rounds = args.rounds or (3 if args.quick else 9)

    keras.utils.set_random_seed(0)
    opt = make_optimizer(small_cnn())
    seed = np.random.default_rng(0).uniform(100, 155, (1, 32, 32, 3)).astype(np.float32)
    modes = Modes(opt, seed)
    names = ["headless", "liveplot", "inline", "dashboard"]

    start = time.perf_counter()
    warm = {name: getattr(modes, name)()[0] for name in names}
    print(f"warm-up (tracing, first figure draw): {time.perf_counter() - start:.1f} s; " +
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
            img_fps = statistics.median(
                s["image_frames"] / t for s, t in zip(stats[n], seconds[n])
            )
            crv_fps = statistics.median(
                s["curve_frames"] / t for s, t in zip(stats[n], seconds[n])
            )
            ms_img = (
                1000
                * sum(s["image_seconds"] for s in stats[n])
                / sum(s["image_frames"] for s in stats[n])
            )
            ms_crv = (
                1000
                * sum(s["curve_seconds"] for s in stats[n])
                / sum(s["curve_frames"] for s in stats[n])
            )
            line += f" {img_fps:8.1f} {crv_fps:8.1f} {ms_img:7.1f} {ms_crv:7.1f}"
        print(line)
    frames = stats["liveplot"][-1]
    print(f"(last liveplot run: {frames['image_frames']} image and {frames['curve_frames']} "
          "curve frames, the first and last included; ms/img and ms/crv are render-thread "
          "wall times, GIL waits included)")  # fmt: skip

    costs, shape = isolated_costs(opt, seed)
    print(f"isolated, on one thread: image frame {costs['image']:.2f} ms "
          f"({shape[1]}x{shape[2]} -> 256 px PNG), curves full draw "
          f"{costs['curves_full']:.1f} ms, curves blit {costs['curves_blit']:.1f} ms "
          "(460x240 PNG)")  # fmt: skip
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


if __name__ == "__main__":
    main()
