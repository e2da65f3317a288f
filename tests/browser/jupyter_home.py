"""An isolated Jupyter home for a test server: temporary dirs and the environment for them.

A `JupyterHome` holds a copy of the notebooks to serve and its own config, data,
runtime and IPython dirs, so no user settings or saved workspaces leak in, with
news and update checks off and Lab's and Notebook 7's cells never windowed.
"""

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

# Lab and Notebook 7 settings for a quiet, deterministic UI: no news or update
# toasts, and every cell kept in the DOM (no windowing) so selectors see all outputs.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none",
    },
}

# Where Jupyter looks for extensions (data) and their switches (config).
EXTENSION_PATH_VARS = {
    "JUPYTER_PATH": ("share", "jupyter"),
    "JUPYTER_CONFIG_PATH": ("etc", "jupyter"),
}


def merged_lab_dir(dest):
    """Joins the Lab application dirs of a venv and of its base Python, if both exist.

    In a venv made with --system-site-packages, JupyterLab's schemas and static files
    may sit in the base Python's ``share/jupyter/lab`` while a package installed in
    the venv (Notebook 7) puts its own schemas in the venv's; each front-end then finds
    only one half ("Schema not found"). `dest` gets both halves, the venv's first,
    and becomes ``JUPYTERLAB_DIR``: the small schemas and themes are copied (the
    themes' file handler refuses symlinks that leave its folder), the large static
    folder is linked.

    Args:
        dest: the folder to create.

    Returns:
        `dest`, or None when there is only one application dir (nothing to join).
    """
    prefixes = dict.fromkeys([sys.prefix, sys.base_prefix])
    found = [Path(p, "share", "jupyter", "lab") for p in prefixes]
    found = [d for d in found if d.is_dir()]
    if len(found) < 2:
        return None
    for app_dir in found:
        for sub in ("static", "settings"):
            if (app_dir / sub).is_dir() and not (dest / sub).exists():
                dest.mkdir(parents=True, exist_ok=True)
                (dest / sub).symlink_to(app_dir / sub)
        for sub in ("schemas", "themes"):
            # <sub>/<@namespace>/<package>: copy each package the first time it is seen.
            for package in (app_dir / sub).glob("@*/*"):
                copy = dest / sub / package.parent.name / package.name
                if package.is_dir() and not copy.exists():
                    shutil.copytree(package, copy)
    return dest


class JupyterHome:
    """Temporary dirs for one server, and the environment that points Jupyter at them.

    Example:
        home = JupyterHome("lab", {"": Path("notebooks")})
        env = home.env(token="abc")  # JUPYTER_CONFIG_DIR=<home.tmp>/config, ...
        home.remove()

    Args:
        name: a word in the temporary folder's name.
        sources: maps a sub-folder of the served root ("" for the root itself) to a
            folder whose files are copied there.

    Attributes:
        tmp: the temporary folder holding everything below.
        root_dir: the folder to serve.
        runtime_dir: where connection files go.
    """

    def __init__(self, name, sources):
        self.tmp = Path(tempfile.mkdtemp(prefix=f"vw-{name}-"))
        self.root_dir = self.tmp / "root"
        self.runtime_dir = self.tmp / "runtime"
        for sub in ("config", "data", "ipython", "runtime", "root"):
            (self.tmp / sub).mkdir()
        for dest, src in sources.items():
            if Path(src).is_dir():
                shutil.copytree(
                    src,
                    self.root_dir / dest,
                    dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
                )
        self.lab_dir = merged_lab_dir(self.tmp / "lab")
        config_dir = self.tmp / "config"
        settings_dir = config_dir / "lab" / "user-settings"
        for rel, value in USER_SETTINGS.items():
            path = settings_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        (config_dir / "jupyter_server_config.json").write_text(
            json.dumps(
                {
                    "LabApp": {
                        "news_url": None,
                        "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                    }
                }
            )
        )

    def env(self, token):
        """This process's environment, pointed at the home, with `token` as JUPYTER_TOKEN."""
        env = dict(os.environ)
        for name in list(env):
            # Another server's or notebook's settings must not leak in; the paths
            # where extensions are looked up may stay.
            if name.startswith(("JUPYTER", "JPY_")) and name not in EXTENSION_PATH_VARS:
                del env[name]
        if sys.prefix != sys.base_prefix:
            # A venv made with --system-site-packages sees the base Python's packages
            # but not their Jupyter data and config (ipywidgets' Lab extension, the
            # server extensions' switches): add the base's folders after the venv's.
            # The venv's own come first, as without the variable: these paths are
            # searched before the venv's, and Voila would find nbconvert's "lab"
            # template in the base before its own in the venv.
            for var, sub in EXTENSION_PATH_VARS.items():
                paths = [p for p in env.get(var, "").split(os.pathsep) if p]
                for prefix in (sys.prefix, sys.base_prefix):
                    folder = Path(prefix, *sub)
                    if folder.is_dir() and str(folder) not in paths:
                        paths.append(str(folder))
                env[var] = os.pathsep.join(paths)
        env.update(
            JUPYTER_TOKEN=token,
            JUPYTER_CONFIG_DIR=str(self.tmp / "config"),
            JUPYTER_DATA_DIR=str(self.tmp / "data"),
            JUPYTER_RUNTIME_DIR=str(self.runtime_dir),
            JUPYTER_PLATFORM_DIRS="0",
            IPYTHONDIR=str(self.tmp / "ipython"),
            PYTHONUNBUFFERED="1",
            TF_CPP_MIN_LOG_LEVEL=env.get("TF_CPP_MIN_LOG_LEVEL", "3"),
        )
        if self.lab_dir is not None:
            env["JUPYTERLAB_DIR"] = str(self.lab_dir)
        env.pop("MPLBACKEND", None)  # the kernel picks its own inline backend
        return env

    def remove(self):
        """Deletes the temporary folder."""
        shutil.rmtree(self.tmp, ignore_errors=True)
