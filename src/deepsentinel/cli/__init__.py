"""The ``deepsentinel`` command line (entry point ``deepsentinel.cli.app:main``)."""
