"""`python -m cadextract.cli …`: the CLI without the fast exit of `cadextract.__main__`,
for tools that act after the program returns (python -m cProfile -m cadextract.cli)."""

from cadextract.cli import app

app()
