"""Image-quality benchmark of the recipes: do other networks recognise the pictures?

Run from the repository root:

    python bench/bench_quality.py                  # 3 seeds, the figure (a few minutes)
    python bench/bench_quality.py --quick          # 1 seed, no figure (development)
    python bench/bench_quality.py --target robust  # draw on the robust demo model instead
    python bench/bench_quality.py --size 64 --quick  # the digits at 64 px (about 4 minutes)
    python bench/bench_quality.py --only fourier \\
        --variant "decay 2.5=fourier:small_image_decay_power=2.5 transform_amounts.jitter=16"

What it does, deterministically given its seeds (`enable_op_determinism`,
`keras.utils.set_random_seed`):

1. Trains two normally trained ("clean") digits CNNs on `load_split`'s
   training split, 15 epochs of Adam each, no augmentation, and prints their
   held-out accuracy: "clean CNN 1" (seed 1; conv 16-32, max pooling, dense
   64) and "clean CNN 2" (seed 2; another architecture: conv 24-48, average
   pooling, dense 128). The robust judge is the shipped demo model
   (`load_demo_model`, PGD-trained).
2. For each recipe, at the defaults `build_recipe` gives (or with the
   overrides of a `--variant`), the ten digits are drawn as ONE batch of 10
   on the target (clean CNN 1; with `--target robust`, the demo model):
   sample k maximizes the logit of class k (per-sample weights), from the
   recipe's own random start.
3. Two judges that never saw the optimization score the returned pictures:
   the robust demo model and clean CNN 2 (with `--target robust`: the two
   clean CNNs).

`--size N` checks how the recipes carry to larger images: the digits are
resized to N px (bilinear), the clean CNNs get one more conv-and-pool block
(16 filters) per doubling above 16 px and are trained at N px, and the robust
judge sees the pictures area-resized to its 16 px.

Per recipe it prints the mean over the seeds with the spread (min-max):

- top-1: for each judge, how many of the 10 classes its top-1 gets right;
- p: the first judge's mean probability of the target class;
- HF: the fraction of the picture's spectral energy above 0.25 cycles/pixel,
  mean removed (`f = sqrt(fx^2 + fy^2)` from `fftfreq`);
- TV/px: `(mean |dy| + mean |dx|) / 2` of the picture in [0, 1] units;
- contrast: the standard deviation of the picture in [0, 1] units;
- time: the wall time of one run of the batch of 10, seconds (the optimizer
  built fresh, so tracing included).

The natural digits (the held-out split) are measured the same way, for scale.
Targets for the best new recipe at its defaults, on the clean target: both
judges right for >= 9 of 10 classes, the robust judge's p >= 0.85, HF <=
0.12, contrast >= 0.2; PASS/FAIL per target, on the mean over the seeds (the
worst seed is printed beside it). The figure (a row of held-out digits,
then the ten digits by each recipe, first seed, each titled with the first
judge's p) goes to notebooks/images/recipes.png (`--figure` for another
path). Per-seed lines go to stderr. The exit code is 0 whatever the results.

The judges and the metrics live in bench/quality_kit.py, the table, the
targets and the figure in bench/quality_report.py.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import argparse
import ast
import dataclasses
import datetime
import platform
import sys
import time
import types
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from quality_kit import (
    CLASSES,
    CLEAN_MODELS,
    EPOCHS,
    accuracy,
    judge,
    picture_stats,
    resize,
    train_clean,
)
from quality_report import (
    best_new,
    check_targets,
    cpu_model,
    print_table,
    save_figure,
    summarize,
)

from vis_widgets.core import (
    RECIPES,
    ActivationMaximization,
    LPNorm,
    Optimizer,
    TotalVariation,
    build_recipe,
    deprocess_input,
    get_recipe,
)
from vis_widgets.core.random_transforms import LUCID_TRANSFORMS
from vis_widgets.demo import DEMO_INPUT_RANGE, DEMO_INPUT_SHAPE, load_demo_model, load_split

ROOT = Path(__file__).resolve().parents[1]
FIGURE = ROOT / "notebooks" / "images" / "recipes.png"
SEEDS = (0, 1, 2)
# Rows beside the three recipes: the new ones as Lucid set them (the defaults before tuning).
LUCID_ROWS = (
    (
        "robust pixel, Lucid's transforms",
        "robust pixel",
        (("transform_amounts", types.MappingProxyType(dict(LUCID_TRANSFORMS))),),
    ),
    (
        "fourier, Lucid's step and transforms",
        "fourier",
        (
            ("small_image_learning_rate", None),
            ("transform_amounts", types.MappingProxyType(dict(LUCID_TRANSFORMS))),
        ),
    ),
)


# ----------------------------------------------------------------- recipes
@dataclasses.dataclass(frozen=True)
class Entry:
    """A row: its label, a recipe name and the `build_recipe` overrides (none: the defaults)."""

    label: str
    recipe: str
    overrides: tuple = ()
    deprocess: bool = False  # judge the pictures de-processed, as keras-vis's path returns them

    @property
    def new(self):
        return get_recipe(self.recipe).parameterization is not None


def parse_variant(text):
    """`"label=recipe:field=value field=value"` -> an `Entry`.

    Values are Python literals; `transform_amounts.jitter=16` changes one
    transform amount of the recipe's own; `deprocess=True` judges the
    pictures after `deprocess_input` (per sample), as keras-vis's path would
    return them.
    """
    label, _, spec = text.partition("=")
    recipe, _, settings = spec.partition(":")
    if not label.strip() or recipe.strip() not in RECIPES:
        raise SystemExit(
            f"--variant must be 'label=recipe:field=value ...' with a recipe in {list(RECIPES)}. "
            f"Received: {text!r}"
        )
    recipe = recipe.strip()
    overrides, amounts, deprocess = {}, dict(get_recipe(recipe).transform_amounts), False
    for item in settings.split():
        field, _, value = item.partition("=")
        try:
            value = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            raise SystemExit(f"--variant: {item!r} is not field=<Python literal>") from None
        if field == "deprocess":
            deprocess = bool(value)
        elif field.startswith("transform_amounts."):
            amounts[field.split(".", 1)[1]] = value
            overrides["transform_amounts"] = types.MappingProxyType(amounts)
        else:
            overrides[field] = value
    return Entry(label.strip(), recipe, tuple(overrides.items()), deprocess)


def draw_digits(model, entry, seed):
    """The ten digits as one batch by one recipe on `model`: (images in input units, seconds).

    `build_recipe` gives the recipe's settings (parameterization, step size,
    modifiers, weights, iterations); its one activation loss becomes ten, one
    per class, weighted per sample (sample k: class k), for one batched run.
    """
    keras.utils.set_random_seed(seed)
    start = time.perf_counter()
    prepared = build_recipe(
        model, "predictions", 0, entry.recipe, DEMO_INPUT_RANGE, **dict(entry.overrides)
    )
    recipe, settings = prepared.recipe, prepared.optimizer
    x = model.inputs[0]
    head = model.get_layer("predictions")
    pre_activation = True if recipe.pre_activation is None else recipe.pre_activation
    one_hot = np.eye(CLASSES)
    losses = [
        (ActivationMaximization(head, k, pre_activation), recipe.act_max_weight * one_hot[k])
        for k in range(CLASSES)
    ]
    losses += [(LPNorm(x), recipe.lp_norm_weight), (TotalVariation(x), recipe.tv_weight)]
    optimizer = Optimizer(
        x,
        losses,
        input_range=DEMO_INPUT_RANGE,
        parameterization=settings.parameterization,
        learning_rate=settings.learning_rate,
    )
    images, _, _ = optimizer.minimize(
        seed_input=optimizer.make_seed(samples=CLASSES),
        max_iter=prepared.max_iter,
        input_modifiers=prepared.input_modifiers,
        verbose=False,
    )
    images = np.asarray(images, np.float32)
    if entry.deprocess:
        images = np.stack([deprocess_input(image, DEMO_INPUT_RANGE) for image in images])
    return images, time.perf_counter() - start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed, no figure")
    parser.add_argument("--seeds", type=int, nargs="+", help=f"the run seeds (default {SEEDS})")
    parser.add_argument(
        "--target",
        choices=("clean", "robust"),
        default="clean",
        help="draw on clean CNN 1 (default; the targets apply) or on the robust demo model",
    )
    parser.add_argument("--only", nargs="+", help="the recipes to run (default: all, and Lucid's)")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        help="an extra row 'label=recipe:field=value ...' (Recipe fields, Python literals)",
    )
    parser.add_argument(
        "--size", type=int, default=16, help="the digits' size in px (default 16; targets: 16)"
    )
    parser.add_argument("--figure", default=str(FIGURE), help="where to save the figure")
    parser.add_argument("--no-figure", action="store_true")
    args = parser.parse_args(argv)
    argv = sys.argv[1:] if argv is None else argv
    seeds = tuple(args.seeds or (SEEDS[:1] if args.quick else SEEDS))
    figure = None if (args.quick or args.no_figure) else Path(args.figure)

    tf.get_logger().setLevel("ERROR")  # fresh optimizers per run: TF's retracing notes
    tf.config.experimental.enable_op_determinism()
    if args.size != DEMO_INPUT_SHAPE[0] and args.target == "robust":
        parser.error("--target robust draws on the 16 px demo model: use it without --size")
    if args.size < DEMO_INPUT_SHAPE[0]:
        parser.error(f"--size must be >= {DEMO_INPUT_SHAPE[0]}. Received: {args.size}")
    unknown = sorted(set(args.only or ()) - set(RECIPES))
    if unknown:
        parser.error(f"--only: unknown recipe(s) {unknown}; expected some of {list(RECIPES)}")
    entries = [Entry(name, name) for name in (args.only or RECIPES)]
    if not args.only:
        entries += [Entry(*row) for row in LUCID_ROWS]
    entries += [parse_variant(text) for text in args.variant]

    print(f"# bench_quality, {datetime.date.today()}, target: {args.target}, {args.size} px")
    print(f"- command: python bench/bench_quality.py {' '.join(argv)}".rstrip())
    print(
        f"- TF {tf.__version__}, Keras {keras.__version__}, Python {platform.python_version()}; "
        f"{cpu_model()}, {os.cpu_count()} cores; 1-min load average {os.getloadavg()[0]:.2f}"
    )
    (x_train, y_train), (x_test, y_test) = load_split()
    x_train, x_test = resize(x_train, args.size), resize(x_test, args.size)
    split = (x_train, y_train), (x_test, y_test)
    models = {"robust judge": load_demo_model()}
    print(
        f"- robust judge: the shipped demo model (PGD-trained), held-out accuracy "
        f"{accuracy(models['robust judge'], x_test, y_test):.3f}"
    )
    for name, (seed, arch) in CLEAN_MODELS.items():
        models[name], acc, seconds = train_clean(name, split)
        print(
            f"- {name}: seed {seed}, {arch}, {EPOCHS} epochs, held-out accuracy {acc:.3f} "
            f"(trained in {seconds:.1f} s)"
        )
    if args.target == "clean":
        target, judges = "clean CNN 1", ("robust judge", "clean CNN 2")
    else:
        target, judges = "robust judge", ("clean CNN 1", "clean CNN 2")
    print(f"- drawn on: {target}; judged by: {judges[0]} and {judges[1]}; seeds {list(seeds)}\n")

    rows, firsts = [], []
    for entry in entries:
        runs = []
        for seed in seeds:
            images, seconds = draw_digits(models[target], entry, seed)
            run = {
                **judge(images, models[judges[0]], models[judges[1]]),
                **picture_stats(images),
                "seconds": seconds,
            }
            runs.append(run)
            print(
                f"  {entry.label}, seed {seed}: top-1 {run['top1_a']}/10 and {run['top1_b']}/10, "
                f"p {run['p']:.3f}, HF {run['hf']:.3f}, TV/px {run['tv']:.3f}, contrast "
                f"{run['contrast']:.3f}, {seconds:.1f} s",
                file=sys.stderr,
                flush=True,
            )
            if len(runs) == 1:
                firsts.append((entry.label, images, run["p_each"]))
        rows.append((entry.label, summarize(runs)))

    spread = len(seeds) > 1
    print(f"Mean over {len(seeds)} seed(s)" + (", (min-max)" if spread else "") + ":\n")
    print_table(rows, picture_stats(x_test), judges, spread)

    if args.target == "clean" and args.size == DEMO_INPUT_SHAPE[0]:
        best = best_new(rows, entries)
        if best is not None:
            print(f"\nBest new recipe at its defaults: {best[0]!r}")
            passed = check_targets(*best)
            print(f"\nAll targets for {best[0]!r}: {'PASS' if passed else 'FAIL'}")
    else:
        print("\n(The targets apply to the clean target at 16 px: run without --target, --size.)")

    if figure is not None:
        natural = np.stack([x_test[y_test == k][0] for k in range(CLASSES)])
        firsts.insert(
            0,
            (
                "natural digits",
                natural,
                judge(natural, models[judges[0]], models[judges[1]])["p_each"],
            ),
        )
        save_figure(figure, *zip(*firsts), judges[0])
        shown = figure.relative_to(ROOT) if figure.is_relative_to(ROOT) else figure
        print(f"\nFigure: {shown}")
    return 0


if __name__ == "__main__":
    main()
    sys.exit(0)
