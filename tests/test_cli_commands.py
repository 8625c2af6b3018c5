"""The operator CLI registers every listed command, and a command that cannot load says why."""

from __future__ import annotations

import pytest

from ingest_app.cli import COMMAND_MODULES, build_parser


def test_every_listed_command_is_registered():
    parser = build_parser()
    choices = next(a.choices for a in parser._actions if a.dest == "command")
    assert {"db", "user", "companies", "ingest", "worker", "stale-check", "demo-site"} <= set(choices)
    assert len(choices) >= len(COMMAND_MODULES)


def test_a_command_whose_module_is_missing_fails_loudly_with_the_module_name():
    with pytest.raises(SystemExit) as exc:
        build_parser(("ingest", "no_such_command"))
    assert "ingest_app.commands.no_such_command" in str(exc.value.code)
    assert "no_such_command" in str(exc.value.code)
