"""Packaging for vis-widgets.

`core/` sits at the repository root but is installed as the sub-package
`vis_widgets.core`, so nothing named plain `core` lands in site-packages.
"""

import re
from pathlib import Path

from setuptools import setup

HERE = Path(__file__).resolve().parent
long_description = (HERE / "README.md").read_text(encoding="utf-8")
# The version lives in vis_widgets/_version.py only (read, not imported: no TensorFlow here).
version = re.search(
    r'^__version__ = "([^"]+)"', (HERE / "vis_widgets" / "_version.py").read_text(), re.M
).group(1)

setup(
    name="vis-widgets",
    version=version,
    description=(
        "Interactive activation maximization for Jupyter: a compiled TF2 / Keras 3 "
        "port of keras-vis's Optimizer behind live ipywidgets controls."
    ),
    long_description=long_description,
    long_description_content_type="text/markdown",
    license="MIT",
    python_requires=">=3.10",
    packages=[
        "vis_widgets",
        "vis_widgets.core",
        "vis_widgets.core.attribution",
        "vis_widgets.core.utils",
        "vis_widgets.core.visualization",
        "vis_widgets.explorer",
    ],
    package_dir={"vis_widgets": "vis_widgets", "vis_widgets.core": "core"},
    package_data={"vis_widgets": ["data/*.keras", "data/*.json"]},
    include_package_data=True,
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy>=1.23",
        "ipywidgets>=8.0,<9",
        "ipykernel>=7.1",
        "traitlets>=5.9",
        "matplotlib>=3.6",
        "pillow>=9.0",
    ],
    extras_require={
        "lab": ["jupyterlab>=4.0"],
        # bench/bench_attribution.py compares against it; not needed to use the package
        "bench": ["tf-keras-vis==0.8.7"],
        "test": [
            "pytest>=7.4",
            "pytest-timeout>=2.1",
            "nbclient>=0.9",
            "nbformat>=5.9",
            "jupyterlab>=4.0",
            "notebook>=7.0",
            "voila>=0.5",
            "playwright>=1.40",
            "scikit-learn>=1.2",
            "ruff>=0.5",
        ],
    },
    classifiers=[
        "Framework :: Jupyter",
        "Programming Language :: Python :: 3",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
        "Topic :: Scientific/Engineering :: Visualization",
    ],
)
