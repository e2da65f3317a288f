"""The package's public names are lazy: `import vis_widgets` loads no widget module."""

import subprocess
import sys

import vis_widgets


def test_public_names_are_lazy():
    assert vis_widgets.Dashboard.__name__ == "Dashboard"
    assert vis_widgets.LivePlot.__name__ == "LivePlot"
    assert vis_widgets.LayerBrowser.__name__ == "LayerBrowser"
    assert {"Dashboard", "LivePlot", "LayerBrowser", "RunRecord"} <= set(dir(vis_widgets))
    code = "import sys, vis_widgets\nprint('ipywidgets' in sys.modules)\n"
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"TF_CPP_MIN_LOG_LEVEL": "3", "PATH": "/usr/bin:/bin"},
    )
    assert out.stdout.strip() == "False"
