"""The ``deepsentinel`` command line (entry point ``deepsentinel.cli.app:main``; the Typer app is ``cli.root.app``)."""
