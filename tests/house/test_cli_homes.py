"""A command loads only its own module (cli.COMMAND_HOMES): the map must name every command
where it is registered, or the command would vanish from `dbshift COMMAND`."""

from __future__ import annotations

import importlib
import subprocess
import sys

from dbshift import cli


def _registered() -> dict[str, str]:
    for module in cli.COMMAND_MODULES:
        importlib.import_module(module)
    return {
        info.name or info.callback.__name__.replace("_", "-"): info.callback.__module__
        for info in cli.app.registered_commands
    }


def test_every_command_is_found_in_its_own_module():
    assert cli.COMMAND_HOMES == _registered()


def test_a_command_run_alone_builds_only_its_module(tmp_path):
    """`dbshift lint` in a fresh process loads commands.lint and no other command module."""
    code = (
        "import sys; from dbshift.cli import main\n"
        "try:\n    main(['lint', '--all', '--dialect', 'postgresql'])\n"
        "except SystemExit:\n    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('dbshift.commands.')))"
    )
    (tmp_path / "migrations").mkdir()
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "['dbshift.commands.lint']"
