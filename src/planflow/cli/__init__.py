"""The ``planflow`` command line.

Every command takes the database from ``PLANFLOW_DATABASE_URL`` (or
``--database-url``), like the web UI and the scheduler. Errors are one line
on stderr: exit code 2 for bad arguments, 1 for a refused operation.
"""

from __future__ import annotations

import sys

import click

from planflow.cli.app import cli
from planflow.errors import PlanflowError
from planflow.storage.db_errors import DRIVER_ERRORS, describe_driver_error

__all__ = ["cli", "main"]


def main(argv: list[str] | None = None) -> int:
    try:
        # Without standalone mode click *returns* the code of a raised Exit.
        result = cli.main(args=argv, prog_name="planflow", standalone_mode=False)
    except click.UsageError as exc:
        if exc.ctx is not None and not (argv if argv is not None else sys.argv[1:]):
            click.echo(exc.ctx.get_help(), err=True)  # bare "planflow": show the help
            return 2
        hint = f" (see '{exc.ctx.command_path} --help')" if exc.ctx else ""
        click.echo(f"planflow: error: {exc.format_message()}{hint}", err=True)
        return 2
    except click.exceptions.Abort:
        click.echo("planflow: aborted", err=True)
        return 1
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"planflow: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except PlanflowError as exc:
        click.echo(f"planflow: error: {exc}", err=True)
        return 1
    except DRIVER_ERRORS as exc:
        click.echo(f"planflow: error: database: {describe_driver_error(exc)}", err=True)
        return 1
    return result if isinstance(result, int) else 0
