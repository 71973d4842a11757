"""Sphinx configuration of the relu-shallow documentation.

Build (warnings are errors, as in CI)::

    sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, not an installed copy

project = "relu-shallow"
author = "the relu-shallow authors"
copyright = "the relu-shallow authors (MIT licence)"
release = version = "0.1.0"

extensions = [
    "myst_parser",
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx_click",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]
myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

autodoc_member_order = "bysource"
autodoc_default_options = {"members": True, "show-inheritance": True}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "alabaster"
html_title = "relu-shallow"
html_static_path: list[str] = []
html_theme_options = {"description": "Exact linear regions of ReLU networks and the equivalent three-layer network"}


def _escape_bars(app, ctx, lines):
    """Click help is plain text: a ``|f|`` in it is not a reStructuredText substitution."""
    lines[:] = [line.replace("|", r"\|") for line in lines]


def setup(app):
    for event in ("sphinx-click-process-description", "sphinx-click-process-options",
                  "sphinx-click-process-arguments", "sphinx-click-process-epilog", "sphinx-click-process-usage"):
        app.connect(event, _escape_bars)
