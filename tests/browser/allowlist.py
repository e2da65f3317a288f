"""Errors the front-ends themselves log or throw that are known to be harmless.

The browser tests fail on any console error or uncaught page error, in any
front-end, except those listed in `ALLOWED`, each for the front-ends where it was
seen and with the reason it is harmless.
"""

import re

# (front-ends, pattern, and why it is harmless). Patterns match the strings the
# `page` fixture records: "console: <text> @ <url>" and "pageerror: <message>".
ALLOWED = [
    (
        {"notebook"},
        r"^pageerror: Cannot read properties of undefined \(reading 'schema'\)$",
        # Notebook 7.6's keyboard-shortcuts plugin reads the settings of a plugin
        # that is not loaded yet, at start-up (jupyter/notebook#7862, a race). Only
        # the shortcuts' settings reload is affected; cells, outputs and widgets
        # are not.
    ),
    (
        {"voila"},
        r"^console: Failed to load resource: net::ERR_[A-Z_]+ @ "
        r"https://cdn\.jsdelivr\.net/npm/@fortawesome/",
        # Voila's "lab" template also links Font Awesome's CSS from a CDN, which
        # does not load with no network. The buttons' icons still show (the widget
        # manager bundles its own copy; see the Voila screenshot).
    ),
    (
        {"voila"},
        r"^console: Error: The getter for the shared module is not a function\..*"
        r"#RUNTIME-012.*\"shareKey\":\"@jupyterlab/docregistry\"",
        # Voila loads every installed Lab extension; Notebook 7's own
        # (@jupyter-notebook/lab-extension, Lab's "open in Notebook" buttons) needs
        # Lab's document registry, which Voila does not share, so it fails to load.
        # Voila has no such buttons; the widget manager is a separate extension.
    ),
]


def unexpected_errors(errors, frontends):
    """The `errors` that no `ALLOWED` entry of one of `frontends` matches."""
    allowed = [pattern for where, pattern in ALLOWED if where & set(frontends)]
    return [e for e in errors if not any(re.search(p, e, re.S) for p in allowed)]
