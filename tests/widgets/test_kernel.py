"""The dashboard in a real ipykernel (nbclient, headless): thread updates reach iopub."""

import nbclient
import nbformat
import pytest

SETUP = """
import os
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
import time
import keras
from vis_widgets import Dashboard, LivePlot
inp = keras.Input((12, 12, 3))
h = keras.layers.Conv2D(4, 3, activation="relu")(inp)
h = keras.layers.GlobalAveragePooling2D()(h)
model = keras.Model(inp, keras.layers.Dense(4, activation="softmax", name="pred")(h))
dash = Dashboard.from_model(model, "pred", 1, input_range=(0.0, 1.0), max_iter=1_000_000)
dash
"""
RUN = """
dash.run_button.click()
deadline = time.time() + 60
while dash.state.iteration < 20 and time.time() < deadline:
    time.sleep(0.05)
print("running", dash.running)
"""
STEER = """
dash.weight_sliders["TV(2.0) Loss"].value = 2.0
print("weight", dash.optimizer.get_weight("TV(2.0) Loss"))
"""
STOP = """
dash.stop_button.click()
print("idle", dash.wait(30))
print("iterations", dash.result.iterations, dash.result.stopped)
"""
ALONE = """
live = LivePlot()
_ = dash.optimizer.minimize(max_iter=5, callbacks=[live], verbose=False)
"""


@pytest.mark.notebook
def test_dashboard_runs_steers_and_stops_in_a_real_kernel():
    cells = [nbformat.v4.new_code_cell(src) for src in (SETUP, RUN, STEER, STOP, ALONE)]
    nb = nbformat.v4.new_notebook(cells=cells)
    nbclient.NotebookClient(nb, timeout=180, kernel_name="python3").execute()

    def stdout(cell):
        return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")

    view = "application/vnd.jupyter.widget-view+json"
    assert any(view in o.get("data", {}) for o in nb.cells[0].outputs)
    assert "running True" in stdout(nb.cells[1])
    assert "weight 100.0" in stdout(nb.cells[2])
    out = stdout(nb.cells[3])
    assert "idle True" in out
    iterations = int(out.split("iterations ")[1].split()[0])
    assert 20 <= iterations < 1_000_000 and "True" in out.split("iterations ")[1]
    # LivePlot alone: exactly one display, no stacked outputs
    assert [view in o.get("data", {}) for o in nb.cells[4].outputs] == [True]
    # the final widget state nbclient rebuilt from the comm messages sent by the threads
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    progress = [
        m["state"] for m in state.values() if "vw-progress" in m["state"].get("_dom_classes", [])
    ]
    assert sorted(p["value"] for p in progress) == [5, iterations]
