"""The allow-list of harmless front-end errors lets through only what it names, where."""

from allowlist import unexpected_errors

NOTEBOOK_RACE = "pageerror: Cannot read properties of undefined (reading 'schema')"
VOILA_FONT = (
    "console: Failed to load resource: net::ERR_NAME_NOT_RESOLVED @ "
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@%5E5/css/all.min.css"
)
VOILA_FEDERATION = (
    "console: Error: The getter for the shared module is not a function. This may be "
    'caused by setting "shared.import: false" without the host providing the '
    "corresponding lib. #RUNTIME-012\n"
    'args: {"shareKey":"@jupyterlab/docregistry"} @ http://127.0.0.1:1/voila/render/x.ipynb'
)


def test_each_harmless_error_is_allowed_in_its_own_front_end_only():
    assert unexpected_errors([NOTEBOOK_RACE], {"notebook"}) == []
    assert unexpected_errors([NOTEBOOK_RACE], {"lab", "voila"}) == [NOTEBOOK_RACE]
    assert unexpected_errors([VOILA_FONT, VOILA_FEDERATION], {"voila"}) == []
    assert unexpected_errors([VOILA_FONT], {"lab"}) == [VOILA_FONT]


def test_other_errors_are_unexpected_everywhere():
    others = [
        "pageerror: Cannot read properties of undefined (reading 'value')",
        "pageerror: Cannot read properties of undefined (reading 'schema') in vis_widgets",
        "console: Failed to load resource: the server responded with a status of 404 "
        "(Not Found) @ http://127.0.0.1:1/voila/files/x.png",
        "console: Failed to load resource: net::ERR_NAME_NOT_RESOLVED @ https://cdn.example.org/x.js",
        'console: Error: #RUNTIME-012 args: {"shareKey":"@jupyter-widgets/base"} @ x',
    ]
    assert unexpected_errors(others, {"lab", "notebook", "voila"}) == others
