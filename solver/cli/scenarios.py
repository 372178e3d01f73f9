"""``dingdian scenarios``: list the shipped scenarios and their variants, show one resolved.

Registered in :mod:`dingdian.cli.main` with ``main.add_command(scenarios)``. Bad input prints one
``error:`` line and exits 2, as in ``dingdian validate``.
"""

from __future__ import annotations

from pathlib import Path

import click
import yaml

import dingdian
from dingdian.cli.common import CONTEXT, EXIT_INPUT, fail


def _rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return str(path)


@click.group(context_settings=CONTEXT)
def scenarios() -> None:
    """List scenarios and their variants, and show one resolved (情景与变体).

    A variant is a YAML file that names a base scenario (`base: ../scenario.yaml`) and
    overrides any of its keys (mappings merge key by key, lists and scalars replace), plus
    single rows of its tables under `overrides:` (targets, county_quotas, street_quotas,
    facilities). Solve it like any scenario: `dingdian solve VARIANT.yaml --out OUT`.

    \b
    Examples:
      dingdian scenarios list
      dingdian scenarios show published
      dingdian solve scenarios/zhangye/variants/published.yaml --out out/published
    """


@scenarios.command("list", context_settings=CONTEXT)
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.pass_context
def list_command(ctx: click.Context, directory: Path | None) -> None:
    """List every scenario and variant under DIRECTORY (default: scenarios/).

    One block per file: the scenario's name and file, for a variant its base, then its title
    and the first sentence of its description. A file that does not resolve is listed with its
    error (exit 2 at the end).

    \b
    Example:
      dingdian scenarios list scenarios
    """
    try:
        entries = dingdian.list_scenarios(directory)
    except dingdian.ScenarioError as exc:
        fail(ctx, exc)
    width = max(len(e.name) for e in entries)
    for e in entries:
        head = f"{e.name:<{width}}  {_rel(e.path)}"
        if e.is_variant:
            head += f"  (基于 base: {e.base_name})"
        click.echo(head)
        if e.error:
            click.echo(f"    error: {e.error}")
            continue
        if e.title:
            click.echo(f"    {e.title}")
        if e.one_line:
            click.echo(f"    {e.one_line}")
    bad = sum(1 for e in entries if e.error)
    plain = sum(1 for e in entries if not e.is_variant and not e.error)
    click.echo(f"{plain} scenario(s), {sum(1 for e in entries if e.is_variant)} variant(s)"
               + (f", {bad} with errors" if bad else ""))
    if bad:
        ctx.exit(EXIT_INPUT)


@scenarios.command("show", context_settings=CONTEXT)
@click.argument("name_or_path")
@click.option("--dir", "directory", type=click.Path(path_type=Path, file_okay=False),
              default=None, help="Where to look a name up (default: scenarios/).")
@click.pass_context
def show_command(ctx: click.Context, name_or_path: str, directory: Path | None) -> None:
    """Print a scenario resolved, as YAML, and what it changes relative to its base.

    NAME_OR_PATH is a file, a scenario directory, or a name: the scenario's `name:`, its file
    name without .yaml (`published`) or its path under DIRECTORY (`zhangye/variants/published`).
    For a variant, the YAML is followed by the changes relative to its base, one per line,
    with the base's value and the variant's (overrides: the table value before and after).
    Paths in the YAML are relative to the base-most scenario's directory. The data files are
    not read: `dingdian validate NAME_OR_PATH` checks them.

    \b
    Examples:
      dingdian scenarios show published
      dingdian scenarios show scenarios/zhangye/variants/tight_exits.yaml
    """
    try:
        view = dingdian.show_scenario(name_or_path, directory)
    except dingdian.ScenarioError as exc:
        fail(ctx, exc)
        return
    path, cfg, res, base_cfg = view.path, view.config, view.resolved, view.base_config
    data = cfg.model_dump(mode="json", exclude_none=True)
    if not cfg.overrides:
        data.pop("overrides", None)
    else:
        data["overrides"] = {k: v for k, v in data["overrides"].items() if v}
    click.echo(f"# {cfg.name}: {_rel(path)}")
    if res.is_variant:
        chain = " → ".join(_rel(p) for p in res.chain)
        click.echo(f"# resolved over {chain}; paths relative to {_rel(res.root)}/")
    click.echo(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100,
                              default_flow_style=None).rstrip())
    if base_cfg is None:
        click.echo("# no base: a plain scenario")
        return
    changes = list(view.changes)
    click.echo(f"变体改动 changes relative to {base_cfg.name} ({_rel(res.chain[1])}):")
    for line in changes or ["(none)"]:
        click.echo(f"  - {line}")
