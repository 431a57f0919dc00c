"""The yardstick for bench/api_load.py: a Flask app whose one endpoint answers JSON and does
nothing else, served by gunicorn with the same settings as Linli."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/bare")
def bare() -> dict[str, bool]:
    return {"ok": True}
