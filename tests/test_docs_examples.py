"""The examples of README.md and docs/*.md run, so they cannot rot.

Conventions of the pages (docs/index.md says so for writers):

- a ```` ```python ```` block is executed;
- a ```` ```pycon ```` block (``>>>`` prompts) is run by :mod:`doctest` and its shown
  output must match (``...`` matches anything, whitespace is normalised);
- in a ```` ```console ```` block every line ``$ relu-shallow ARGS`` is run in this
  process through click's test runner and must exit 0; the other lines are shown
  output and are not compared (timings and other helpers' wording may change);
- ```` ```bash ```` and ```` ```text ```` blocks are shown, not run (installs, long
  benchmarks, clusters).

The blocks of one page run in order, in one namespace, in a fresh folder that holds
``demo-output/network.npz`` (the bundled model, as ``relu-shallow demo`` writes it) and
a copy of ``examples/``.
Shown outputs that are checked are facts with an independent source: the bundled
model's region count (``experiments/results/repro_training.json``) and closed-form
counts of tiny nets (lines in the plane).
"""

from __future__ import annotations

import doctest
import os
import re
import shlex
import shutil
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from shallow.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]
FENCE = re.compile(r"^```(\w+)[^\n]*\n(.*?)^```\s*$", re.M | re.S)
RUN = {"python", "pycon", "console"}


def blocks(page: Path) -> list[tuple[str, str, int]]:
    """The runnable fenced blocks of ``page``: (language, text, line number)."""
    text = page.read_text()
    return [(m.group(1), m.group(2), text.count("\n", 0, m.start()) + 1)
            for m in FENCE.finditer(text) if m.group(1) in RUN]


def run_console(text: str, where: str) -> None:
    for line in text.splitlines():
        if not line.startswith("$ relu-shallow"):
            continue
        args = shlex.split(line[len("$ relu-shallow"):].split("  #")[0])
        result = CliRunner().invoke(cli, args, catch_exceptions=False)
        assert result.exit_code == 0, f"{where}: `{line[2:]}` exited {result.exit_code}:\n{result.output}"


def run_pycon(text: str, namespace: dict, page: Path, line: int) -> None:
    parser = doctest.DocTestParser()
    test = parser.get_doctest(text, namespace, f"{page.name}:{line}", str(page), line)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    report: list[str] = []
    runner.run(test, out=report.append, clear_globs=False)
    namespace.update(test.globs)  # DocTest works on a copy of the namespace
    assert runner.failures == 0, "".join(report)


@pytest.mark.slow  # a page runs its commands and examples in order: about 1-10 s of CPU each
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)], ids=lambda p: p.name)
def test_page_examples(page: Path, tmp_path: Path, monkeypatch):
    found = blocks(page)
    (tmp_path / "demo-output").mkdir()
    shutil.copyfile(str(files("shallow") / "data" / "two_moons.npz"), tmp_path / "demo-output" / "network.npz")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    for language, text, line in found:
        where = f"{page.relative_to(ROOT)}:{line}"
        if language == "python":
            exec(compile(text, where, "exec"), namespace)
        elif language == "pycon":
            run_pycon(text, namespace, page, line)
        else:
            run_console(text, where)



def test_runner_fails_on_a_failing_command_or_a_wrong_output():
    with pytest.raises(AssertionError, match="exited 2"):
        run_console("$ relu-shallow count --no-such-option", "page.md:1")
    with pytest.raises(AssertionError, match="Expected"):
        run_pycon(">>> 1 + 1\n3\n", {}, Path("page.md"), 1)
    assert [language for language, _, _ in blocks(ROOT / "docs" / "getting-started.md")].count("console") == 1
