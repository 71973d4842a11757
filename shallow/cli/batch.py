"""``relu-shallow batch``: convert many models, one table row each, resumable.

Every model (a file, or each model file found under a folder, recursively, by the
suffixes of :data:`enumerator.loaders.FORMATS`) is converted in its own worker process:
load (any format), enumerate every realizable pattern over the domain, build the
shallow network, verify it, and write it to ``OUTDIR/<file name>.shallow.npz``.  A
model that fails, is unsupported, or runs past ``--timeout`` (its worker is killed) gets
a row with its status and error; the batch goes on.

Outputs, all written atomically (:func:`enumerator.files.atomic_output`) after every
finished model, so a kill at any moment leaves complete files that hold every model
finished so far: ``OUTDIR/batch.json`` (the settings and the rows) and
``OUTDIR/batch.csv`` (the rows).  Row fields: :data:`FIELDS`.  ``status`` is one of
``ok`` (converted and verified), ``failed`` (unreadable file, bad input, verification
FAIL, a crashed worker), ``unsupported`` (a layer or op this project does not handle),
``timeout`` (killed after ``--timeout`` seconds) and ``incomplete`` (``--max-regions``
reached: ``regions`` and ``patterns`` are lower bounds and no shallow network is written).

``--resume`` keeps the rows of ``OUTDIR/batch.json`` whose model has the same path and
the same content (SHA-256) and runs only the other models; the settings (domain,
solver, limits) must be those of the recorded run.

Workers die with the coordinator (:mod:`shallow.cli.lifeline`): a batch killed in any
way, SIGKILL included, leaves no worker running or writing.  A dangling symbolic link
with a model suffix inside a folder gets a ``failed`` row naming its missing target.

Exit codes (:mod:`shallow.cli.exits`): 0 every model ``ok``; 1 some model ``failed`` or
``unsupported``; 3 none of those, but some model ``timeout`` / ``incomplete`` or the
batch was interrupted (Ctrl-C: running workers are killed, their models stay to do).
"""

from __future__ import annotations

import csv
import hashlib
import json
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import click
from tqdm import tqdm

from enumerator.files import atomic_output
from enumerator.loaders import FORMATS
from shallow.cli import exits
from shallow.cli.lifeline import die_with, lifeline
from shallow.cli.options import command, domain_options, option, solver_option

__all__ = ["FIELDS", "BatchSettings", "Job", "convert_model", "find_models", "batch"]

FIELDS = ["file", "format", "architecture", "regions", "patterns", "shallow_widths", "verify", "max_abs_error",
          "seconds", "status", "error", "sha256", "output"]
TABLE_JSON, TABLE_CSV = "batch.json", "batch.csv"
_SUFFIXES = {s for suffixes in FORMATS.values() for s in suffixes}
#: modules a worker of each format imports (preloaded by the fork server)
_PRELOAD = {"torch": ("torch",), "pt2": ("torch",), "onnx": ("onnx",), "skops": ("sklearn.neural_network", "skops.io"),
            "safetensors": ("safetensors.numpy",)}


@dataclass(frozen=True)
class BatchSettings:
    """What every model is converted with (recorded in batch.json; --resume checks it)."""

    box: tuple[float, float] | None
    unbounded: bool
    polytope: str | None
    solver: str
    max_regions: int | None
    samples: int
    arch: str | None = None  # --arch for the state-dict and safetensors files


@dataclass(frozen=True)
class Job:
    """One model: its path, content hash and shallow-network output path."""

    file: str
    sha256: str
    output: str

    @property
    def key(self) -> tuple[str, str]:
        return os.path.abspath(self.file), self.sha256


def find_models(paths, outdir: Path) -> list[Path]:
    """Model files: each file given, and every file with a model suffix under each
    folder (recursively, sorted), except files inside ``outdir``.  A dangling symbolic
    link with a model suffix is kept (its row says the target is missing)."""
    out, seen = [], set()
    out_abs = outdir.resolve()
    for p in map(Path, paths):
        found = [p] if not p.is_dir() else sorted(
            f for f in p.rglob("*") if (f.is_file() or f.is_symlink() and not f.exists())
            and f.suffix.lower() in _SUFFIXES
            and out_abs not in f.resolve().parents)
        for f in found:
            if f.resolve() not in seen:
                seen.add(f.resolve())
                out.append(f)
    return out


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return ""
    return digest.hexdigest()


def make_jobs(files: list[Path], outdir: Path) -> list[Job]:
    """Jobs with output names ``<name>.shallow.npz`` (``<name>-<hash>`` when names clash)."""
    hashes = [_sha256(f) for f in files]
    names = [f.name for f in files]
    return [Job(str(f), h, str(outdir / (f"{f.name}-{h[:8]}" if names.count(f.name) > 1 else f.name))
                + ".shallow.npz") for f, h in zip(files, hashes)]


def convert_model(job: Job, settings: BatchSettings) -> dict:
    """Convert one model (runs in a worker process) with :func:`shallow.conversion.convert`;
    never raises: errors become the row."""
    from enumerator.files import atomic_output
    from enumerator.loaders import format_of, load_network
    from enumerator.network import UnsupportedModelError
    from enumerator.options import SearchOptions
    from shallow.cli.options import build_domain
    from shallow.conversion import IncompleteConversion, VerificationError, convert
    from shallow.io import save_shallow
    from solvers.errors import ReluShallowError

    t0 = time.perf_counter()
    row = {k: None for k in FIELDS} | {"file": job.file, "sha256": job.sha256, "status": "failed", "error": ""}
    try:
        if not os.path.exists(job.file) and os.path.islink(job.file):
            raise OSError(f"{job.file}: dangling symbolic link (its target {os.readlink(job.file)} does not exist)")
        row["format"] = format_of(job.file)
        network = load_network(job.file, arch=settings.arch if row["format"] in ("torch", "safetensors") else None)
        row["architecture"] = network.architecture
        domain = build_domain(network.n_inputs, settings.box, settings.unbounded, settings.polytope)
        result = convert(network, domain, backend=settings.solver,
                         options=SearchOptions(max_regions=settings.max_regions), verify_samples=settings.samples)
        row["regions"], row["patterns"] = result.stats.regions, result.stats.patterns
        row["shallow_widths"] = list(result.shallow.widths)
        row["verify"], row["max_abs_error"] = "PASS", result.report.max_abs_error
        with atomic_output(job.output) as tmp:
            save_shallow(result.shallow, tmp)
        row["status"], row["output"] = "ok", job.output
    except IncompleteConversion as exc:
        row["regions"], row["patterns"] = exc.stats.regions, exc.stats.patterns
        row["status"] = "incomplete"
        row["error"] = f"enumeration ended early ({exc.reason}); counts are lower bounds, no shallow network"
    except VerificationError as exc:
        row["verify"], row["max_abs_error"], row["error"] = "FAIL", exc.report.max_abs_error, str(exc)
    except UnsupportedModelError as exc:
        row["status"], row["error"] = "unsupported", str(exc)
    except (ReluShallowError, click.ClickException, OSError) as exc:
        row["error"] = exc.format_message() if isinstance(exc, click.ClickException) else str(exc)
    except Exception as exc:  # an unexpected error of one model must not stop the batch (its row says so)
        row["error"] = f"internal error: {type(exc).__name__}: {exc}"
    row["seconds"] = round(time.perf_counter() - t0, 3)
    return row


def _format_or_none(path: Path) -> str | None:
    return next((name for name, suffixes in FORMATS.items() if path.suffix.lower() in suffixes), None)


def _noop() -> None:
    pass


def _worker(conn, alive, job: Job, settings: BatchSettings) -> None:
    die_with(alive)  # no orphan keeps running or writes output
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and kills us
    conn.send(convert_model(job, settings))
    conn.close()


class _Pool:
    """Up to ``workers`` worker processes, one per model, each killed after ``timeout``."""

    def __init__(self, settings: BatchSettings, workers: int, timeout: float | None, formats: set[str]):
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
        self.ctx = multiprocessing.get_context(method)
        if method == "forkserver":  # import once in the server, not once per model (missing ones are skipped)
            self.ctx.set_forkserver_preload(["shallow.cli.batch"] + sorted(
                {m for f in formats for m in _PRELOAD.get(f, ())}))
        self.settings, self.workers, self.timeout = settings, workers, timeout
        self.running: dict = {}  # process -> (job, receiving end, start time)
        self._alive, self._alive_w = lifeline(self.ctx)  # the writing end closes only when we end
        warm = self.ctx.Process(target=_noop, daemon=True)  # the server's imports do not count as model time
        warm.start()
        warm.join()

    def start(self, job: Job) -> None:
        recv, send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker, args=(send, self._alive, job, self.settings), daemon=True)
        proc.start()
        send.close()
        self.running[proc] = (job, recv, time.monotonic())

    def finished(self):
        """Wait a little; yield ``(job, row)`` for every worker that ended or timed out."""
        waitables = [p.sentinel for p in self.running] + [r for _, r, _ in self.running.values()]
        multiprocessing.connection.wait(waitables, timeout=0.2)
        for proc, (job, recv, t0) in list(self.running.items()):
            row = None
            if recv.poll():
                try:
                    row = recv.recv()
                except EOFError:
                    row = None
                proc.join(5.0)
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            elif not proc.is_alive():
                row = _dead_row(job, f"worker died (exit code {proc.exitcode})", time.monotonic() - t0)
            elif self.timeout is not None and time.monotonic() - t0 > self.timeout:
                proc.kill()
                proc.join()
                row = _dead_row(job, f"no result within {self.timeout:g} s; worker killed", time.monotonic() - t0)
                row["status"] = "timeout"
            else:
                continue
            if row is None:
                row = _dead_row(job, f"worker died (exit code {proc.exitcode})", time.monotonic() - t0)
            recv.close()
            del self.running[proc]
            yield job, row

    def kill_all(self) -> None:
        for proc, (_, recv, _) in self.running.items():
            proc.kill()
            proc.join()
            recv.close()
        self.running.clear()


def _dead_row(job: Job, error: str, seconds: float) -> dict:
    return {k: None for k in FIELDS} | {"file": job.file, "sha256": job.sha256, "status": "failed",
                                         "error": error, "seconds": round(seconds, 3)}


def _write_tables(outdir: Path, settings: BatchSettings, rows: list[dict], complete: bool) -> None:
    with atomic_output(outdir / TABLE_JSON) as tmp:
        tmp.write_text(json.dumps({"settings": asdict(settings), "complete": complete, "rows": rows}, indent=1))
    with atomic_output(outdir / TABLE_CSV) as tmp:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            for row in rows:
                writer.writerow({**row, "shallow_widths": "-".join(map(str, row["shallow_widths"] or []))})


def _recorded(outdir: Path, settings: BatchSettings) -> dict:
    """Rows of the recorded run by model key; UsageError if it used other settings."""
    path = outdir / TABLE_JSON
    if not path.exists():
        return {}
    try:
        data = json.loads(path.read_text())
        recorded, rows = data["settings"], data["rows"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise click.ClickException(f"{path}: cannot resume from it ({type(exc).__name__}: {exc})") from None
    current = json.loads(json.dumps(asdict(settings)))
    recorded = {"arch": None, **recorded} if isinstance(recorded, dict) else recorded  # tables before --arch
    if recorded != current:
        diff = sorted(k for k in current if recorded.get(k) != current[k])
        raise click.UsageError(f"--resume: {path} was made with other settings ({', '.join(diff)}); "
                               "use the same options or another OUTDIR")
    return {(os.path.abspath(r["file"]), r["sha256"]): r for r in rows}


@command("Convert many models; one row each in a CSV/JSON table.")
@click.argument("models", nargs=-1, required=True, type=click.Path(exists=True), metavar="MODELS_OR_DIRS...")
@option("-o", "--outdir", heading="Output", required=True, type=click.Path(file_okay=False),
        help="Folder for tables and networks.")
@option("--workers", heading="Parallel", type=click.IntRange(min=1), default=1, show_default=True,
        help="Models converted at once.")
@option("--timeout", heading="Limits and checkpoints", type=click.FloatRange(min=0, min_open=True), default=None,
        metavar="SECONDS", help="Kill a model's worker after this long (status timeout).")
@option("--max-regions", heading="Limits and checkpoints", type=click.IntRange(min=0), default=None,
        help="Stop a model's enumeration after this many regions (status incomplete).")
@option("--samples", heading="Search", type=click.IntRange(min=1), default=500, show_default=True,
        help="Random verification probes per model (plus boundary walks).")
@domain_options
@solver_option
@option("--resume", heading="Limits and checkpoints", is_flag=True,
        help="Skip the models already in OUTDIR/batch.json (same path and content).")
@option("--arch", heading="Network", default=None, metavar="SPEC",
        help="Architecture of the state-dict and safetensors files (the --arch of count); other formats "
             "carry their graph and ignore it.")
def batch(models, outdir, workers, timeout, max_regions, samples, box, unbounded, polytope, solver, resume, arch):
    """Convert every model in MODELS_OR_DIRS (files, or folders searched for model
    files) to OUTDIR/<file name>.shallow.npz, each in its own worker process, with
    a row per model in OUTDIR/batch.csv and OUTDIR/batch.json (file, format,
    architecture, regions, patterns, shallow widths, verify result, seconds,
    status, error).

    \b
    Statuses: ok; failed (unreadable, bad input, verify FAIL, crashed worker);
    unsupported (a layer or op not handled); timeout (killed after --timeout);
    incomplete (--max-regions reached: counts are lower bounds, nothing written).

    The tables are rewritten atomically after every model; --resume skips the
    models they already hold (same path and content).  Exit codes: 0 all models
    ok, 1 some model failed or unsupported, 3 some model timed out or incomplete,
    or the batch was interrupted (continue with --resume).
    """
    if sum(map(bool, (box, unbounded, polytope))) > 1:
        raise click.UsageError("choose one domain, not several of --box, --unbounded, --polytope")
    if arch is not None:
        from enumerator.loaders.layers import parse_arch

        try:
            parse_arch(arch)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    settings = BatchSettings(tuple(box) if box else None, unbounded,
                             os.path.abspath(polytope) if polytope else None, solver, max_regions, samples, arch)
    jobs = make_jobs(find_models(models, out), out)
    if not jobs:
        raise click.UsageError(f"no model files found in {', '.join(models)} "
                               f"(suffixes: {', '.join(sorted(_SUFFIXES))})")
    done = _recorded(out, settings) if resume else {}
    rows = {job.key: done[job.key] for job in jobs if job.key in done}
    todo = [job for job in jobs if job.key not in rows]
    resumed = len(rows)
    pool = _Pool(settings, workers, timeout, {_format_or_none(Path(j.file)) for j in todo})
    interrupted = False
    _write_tables(out, settings, [rows[j.key] for j in jobs if j.key in rows], complete=not todo)
    with tqdm(total=len(jobs), initial=len(rows), desc="models", unit=" model", file=sys.stderr,
              disable=None) as bar:
        try:
            queue = list(reversed(todo))
            while queue or pool.running:
                while queue and len(pool.running) < workers:
                    pool.start(queue.pop())
                for job, row in pool.finished():
                    rows[job.key] = row
                    bar.update()
                    _write_tables(out, settings, [rows[j.key] for j in jobs if j.key in rows],
                                  complete=len(rows) == len(jobs))
        except KeyboardInterrupt:
            interrupted = True
            pool.kill_all()
    ordered = [rows[j.key] for j in jobs if j.key in rows]
    _write_tables(out, settings, ordered, complete=len(ordered) == len(jobs))
    counts = {s: sum(r["status"] == s for r in ordered) for s in ("ok", "failed", "unsupported", "timeout",
                                                                   "incomplete")}
    summary = ", ".join(f"{v} {k}" for k, v in counts.items() if v)
    click.echo(f"{len(ordered)} of {len(jobs)} models done ({summary}; {resumed} from the recorded run)"
               f" -> {out / TABLE_CSV}")
    for r in ordered:
        if r["status"] != "ok":
            error = r["error"] if r["error"].startswith(r["file"]) else f"{r['file']}: {r['error']}"
            click.echo(f"  {r['status']:<11} {error}")
    if interrupted:
        click.echo(f"INTERRUPTED: {len(jobs) - len(ordered)} models left; continue with --resume")
    if counts["failed"] or counts["unsupported"]:
        sys.exit(exits.ERROR)
    if interrupted or counts["timeout"] or counts["incomplete"]:
        sys.exit(exits.INCOMPLETE)
