"""The command line: parse, call the operations layer (cadextract.ops), render. No SQL here.

``cadextract.cli:app`` is the Typer app (the console script's target in older installs).
Commands are registered here, in the order ``--help`` lists them; each lives in the module
of its group: queue, results, work, web, admin. Errors become exit codes in ``base``.
"""

from __future__ import annotations

from cadextract.cli import admin, queue, results, web, work
from cadextract.cli.base import app, db_app

app.command()(queue.submit)
app.command()(work.work)
app.command()(work.run)
app.command()(queue.status)
app.command()(results.result)
app.command()(results.preview)
app.command()(web.serve)
app.command()(queue.jobs)
app.command()(queue.cancel)
app.command()(queue.retry)
app.command()(queue.purge)
app.command()(queue.watch)
app.command()(results.export)
app.command()(web.search)
app.command("index")(web.index)
app.command()(admin.doctor)
db_app.command("upgrade")(admin.db_upgrade)
db_app.command("status")(admin.db_status)
db_app.command("url")(admin.db_url)
db_app.command("stop")(admin.db_stop)
app.add_typer(db_app, name="db")

__all__ = ["app"]
