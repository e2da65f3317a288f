"""The report of bench_quality: the table, the targets and the figure."""

import platform
import subprocess

import numpy as np
from quality_kit import CLASSES

from vis_widgets.demo import DEMO_INPUT_RANGE

TARGETS = (  # (column, label, test); the column's mean over seeds is tested
    ("top1_a", "robust judge top-1 >= 9/10", lambda v: v >= 9),
    ("top1_b", "clean judge top-1 >= 9/10", lambda v: v >= 9),
    ("p", "robust judge p >= 0.85", lambda v: v >= 0.85),
    ("hf", "HF <= 0.12", lambda v: v <= 0.12),
    ("contrast", "contrast >= 0.2", lambda v: v >= 0.2),
)
WORSE_IS_HIGHER = {"hf"}
COLUMNS = (  # (key, header, format)
    ("top1_a", "{a} top-1", "{:.1f}"),
    ("top1_b", "{b} top-1", "{:.1f}"),
    ("p", "p ({a})", "{:.3f}"),
    ("hf", "HF", "{:.3f}"),
    ("tv", "TV/px", "{:.3f}"),
    ("contrast", "contrast", "{:.3f}"),
    ("seconds", "time (s)", "{:.1f}"),
)


def summarize(runs):
    """`{column: (mean, min, max)}` over the seeds' runs."""
    summary = {}
    for key, _, _ in COLUMNS:
        values = np.array([run[key] for run in runs], np.float64)
        summary[key] = (float(values.mean()), float(values.min()), float(values.max()))
    return summary


def _cell(stat, fmt, spread):
    mean, lo, hi = stat
    text = fmt.format(mean)
    if spread and fmt.format(lo) != fmt.format(hi):
        text += f" ({fmt.format(lo)}-{fmt.format(hi)})"
    return text


def print_table(rows, natural, judges, spread):
    names = {"a": judges[0], "b": judges[1]}
    headers = ["recipe"] + [header.format(**names) for _, header, _ in COLUMNS]
    print("| " + " | ".join(headers) + " |")
    print("|" + "---|" * len(headers))
    for label, summary in rows:
        cells = [_cell(summary[key], fmt, spread) for key, _, fmt in COLUMNS]
        print(f"| {label} | " + " | ".join(cells) + " |")
    print(
        f"| natural digits (held out) | | | | {natural['hf']:.3f} | {natural['tv']:.3f} | "
        f"{natural['contrast']:.3f} | |"
    )


def check_targets(label, summary):
    """Prints PASS/FAIL per target; returns whether all passed."""
    print(f"\nTargets for {label!r} (mean over seeds; worst seed in brackets):")
    passed = True
    for key, text, test in TARGETS:
        mean, lo, hi = summary[key]
        ok = test(mean)
        passed &= ok
        worst = hi if key in WORSE_IS_HIGHER else lo
        print(f"- {text}: {mean:.3f} ({worst:.3f}) {'PASS' if ok else 'FAIL'}")
    return passed


def best_new(rows, entries):
    """The new recipe at its defaults that meets most targets (ties: the higher p)."""
    candidates = [
        (label, summary)
        for (label, summary), entry in zip(rows, entries)
        if entry.new and not entry.overrides and not entry.deprocess
    ]
    if not candidates:
        return None

    def score(row):
        summary = row[1]
        return sum(test(summary[key][0]) for key, _, test in TARGETS), summary["p"][0]

    return max(candidates, key=score)


def save_figure(path, labels, pictures, probabilities, judge_name):
    """A grid PNG: one row per recipe (the first: natural digits), each digit titled with its p."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = len(labels)
    fig, axes = plt.subplots(rows, CLASSES, figsize=(12.5, 1.32 * rows + 0.5), squeeze=False)
    lo, hi = DEMO_INPUT_RANGE
    for r, (label, images, probs) in enumerate(zip(labels, pictures, probabilities)):
        for k in range(CLASSES):
            ax = axes[r, k]
            ax.imshow(images[k, ..., 0], cmap="gray", vmin=lo, vmax=hi, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{k}: p={probs[k]:.2f}", fontsize=8)
        axes[r, 0].set_ylabel(label.replace(", ", ",\n"), fontsize=9, rotation=0, ha="right")
        axes[r, 0].yaxis.set_label_coords(-0.12, 0.35)
    fig.suptitle(
        f"Held-out digits, then the ten digits drawn on a normally trained CNN by each recipe "
        f"(p: the {judge_name}'s probability of the digit)",
        fontsize=10,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def cpu_model():
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    for line in out.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"
