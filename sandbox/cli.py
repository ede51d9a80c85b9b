"""``amazon-bluecherry sandbox ...``: the other parties, for tests, demo and rehearsal."""

from __future__ import annotations


def register(subparsers) -> None:
    sandbox = subparsers.add_parser("sandbox", help="run the simulated trading partners (not for production)")
    sandbox_commands = sandbox.add_subparsers(dest="sandbox_command", metavar="PARTY")
    for module_name in ("sandbox.bluecherry.cli", "sandbox.amazon.cli"):
        import importlib

        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        module.register(sandbox_commands)
