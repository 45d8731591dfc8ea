#!/usr/bin/env python3
"""statusd serves the state of the services in its SQLite database as JSON.

The database is made from schema.sql next to this file on the first start.

GET /health answers ok; GET /status lists every service; GET /status/NAME one.
"""

import configparser
import json
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, HTTPServer

config = configparser.ConfigParser()
config.read("/etc/statusd.conf")
DB = config.get("statusd", "database", fallback="/var/lib/statusd/status.db")
PORT = config.getint("statusd", "port", fallback=8080)
TITLE = config.get("statusd", "title", fallback="status")
SCHEMA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schema.sql")


def init_db():
    """Create the database from schema.sql on the first start."""
    if os.path.exists(DB):
        return
    with open(SCHEMA, encoding="utf-8") as f, sqlite3.connect(DB) as db:
        db.executescript(f.read())


def services(name=None):
    with sqlite3.connect(DB) as db:
        db.row_factory = sqlite3.Row
        if name is None:
            rows = db.execute("SELECT name, url, state FROM services ORDER BY name").fetchall()
        else:
            rows = db.execute("SELECT name, url, state FROM services WHERE name = ?", (name,)).fetchall()
    return [dict(r) for r in rows]


class Handler(BaseHTTPRequestHandler):
    def send(self, code, body, kind="application/json"):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/health":
            self.send(200, "ok\n", "text/plain")
        elif self.path == "/status":
            self.send(200, json.dumps({"title": TITLE, "services": services()}) + "\n")
        elif self.path.startswith("/status/"):
            found = services(self.path[len("/status/"):])
            if found:
                self.send(200, json.dumps(found[0]) + "\n")
            else:
                self.send(404, json.dumps({"error": "no such service"}) + "\n")
        else:
            self.send(404, json.dumps({"error": "not found"}) + "\n")

    def log_message(self, fmt, *args):
        print("statusd: " + fmt % args, flush=True)


if __name__ == "__main__":
    init_db()
    print(f"statusd: {TITLE} on port {PORT}, database {DB}", flush=True)
    HTTPServer(("", PORT), Handler).serve_forever()
