"""Session-wide test settings: quiet TensorFlow, a seeded start, and no skipped test.

Every test of the suite runs, in CI and locally: a skipped test (a `skip`
mark, `pytest.skip`, a missing `importorskip`) fails the session, so a test
that silently stops running cannot look like a pass. xfail is allowed: it
still runs. `VW_ALLOW_SKIPS=1` turns the rule off for a local experiment.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import keras
import pytest


@pytest.fixture(autouse=True)
def _seeded_and_channels_last():
    """Every test starts seeded (Python, numpy, TF) and in channels_last."""
    keras.utils.set_random_seed(1234)
    keras.config.set_image_data_format("channels_last")
    yield
    keras.config.set_image_data_format("channels_last")


def _skipped_reports(config):
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    return list(reporter.stats.get("skipped", [])) if reporter is not None else []


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    skipped = _skipped_reports(config)
    if skipped and os.environ.get("VW_ALLOW_SKIPS") != "1":
        terminalreporter.section("skipped tests fail the run", sep="=", red=True)
        for report in skipped:
            terminalreporter.line(f"SKIPPED {report.nodeid}: {report.longrepr}")


def pytest_sessionfinish(session, exitstatus):
    allowed = os.environ.get("VW_ALLOW_SKIPS") == "1"
    if exitstatus == 0 and not allowed and _skipped_reports(session.config):
        session.exitstatus = 1
