"""``relu-shallow heuristics``: the heuristics a search can use -- built-ins, branching
orders, installed plug-ins and plug-in files -- with their hooks and where they come from."""

from __future__ import annotations

import click

from shallow.cli.options import command


@command("List the pruning heuristics: built-ins, orders and plug-ins.")
@click.option("--heuristic-file", "heuristic_files", multiple=True, type=click.Path(dir_okay=False),
              metavar="FILE.py", help="Also load and validate these plug-in files (repeatable).")
def heuristics(heuristic_files):
    """List every heuristic by name with its hooks (enumerator/hookspec.py) and origin;
    built-ins say whether they are on by default.  Loading installed plug-ins
    (entry point group relu_shallow.heuristics) and FILEs validates them: a broken one
    is a usage error naming it (exit 2)."""
    from enumerator.heuristics.builtin import BUILTIN_PLUGINS
    from enumerator.options import HEURISTIC_NAMES, Heuristics
    from enumerator.plugins import PluginError, discover_entry_points, load_heuristic_file

    try:
        plugins = discover_entry_points() + [load_heuristic_file(path) for path in heuristic_files]
    except PluginError as exc:
        raise click.UsageError(str(exc)) from None
    defaults = Heuristics()
    rows = [("name", "hooks", "default / origin"),
            ("geometry", "(compiled core)", "on" if defaults.geometry else "off"),
            ("given", "(layer order)", "order, default")]
    for name, plugin in BUILTIN_PLUGINS.items():
        state = ("on" if getattr(defaults, name) else "off") if name in HEURISTIC_NAMES else "order"
        rows.append((name, ", ".join(plugin.hook_names), state))
    rows += [(p.name, ", ".join(p.hook_names), p.origin) for p in plugins]
    width = max(len(r[0]) for r in rows)
    hooks = max(len(r[1]) for r in rows)
    for name, hook_names, origin in rows:
        click.echo(f"{name:<{width}}  {hook_names:<{hooks}}  {origin}")
