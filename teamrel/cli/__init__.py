"""The command-line interface: typer commands that parse, call the `Context`, render, exit.

Nothing outside this package imports it; typer and rich are used only here.
"""
