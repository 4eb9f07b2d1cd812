"""Generate docs/cli.md from the commands' own --help, so the CLI reference cannot drift."""

from __future__ import annotations

import os

import typer
from typer.testing import CliRunner

from jakreg.cli import app


def _name(info: typer.models.CommandInfo) -> str:
    if info.name:
        return info.name
    if info.callback is None:
        raise ValueError("a command without a name or callback")
    return info.callback.__name__.strip("_").replace("_", "-")


def commands(root: typer.Typer = app, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Every leaf command as its argument path, e.g. ('score-definition', 'check')."""
    found = [(*prefix, _name(c)) for c in root.registered_commands]
    for group in root.registered_groups:
        if group.typer_instance is None or group.name is None:
            continue
        found += commands(group.typer_instance, (*prefix, group.name))
    return sorted(found)


def help_text(path: tuple[str, ...]) -> str:
    env = {**os.environ, "COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1"}
    result = CliRunner().invoke(app, [*path, "--help"], env=env, prog_name="jakreg")
    if result.exit_code != 0:
        raise RuntimeError(f"jakreg {' '.join(path)} --help failed: {result.output}")
    return "\n".join(line.rstrip() for line in result.output.strip().splitlines())


def render() -> str:
    parts = [
        "# CLI reference",
        "",
        "Generated from each command's `--help` by `make docs` (`python -m jakreg.docs_cli`); "
        "a test fails when this file is out of date.",
        "",
    ]
    for path in commands():
        name = " ".join(("jakreg", *path))
        parts += [f"## `{name}`", "", "```text", help_text(path), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
