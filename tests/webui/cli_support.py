"""Running the ``kap12`` command in-process for tests: exit code, stdout and stderr apart."""
from __future__ import annotations

from click.testing import CliRunner

from webui.cli import main


def invoker():
    runner = CliRunner()

    def invoke(*args):
        result = runner.invoke(main, list(args), catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    return invoke
