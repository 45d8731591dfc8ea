"""A tiny guest book: GET / lists the entries, POST /sign adds one."""

import os

from flask import Flask, jsonify, redirect, render_template, request, url_for

app = Flask(__name__)
entries = [
    {"name": "Ada", "message": "Lovely place, will come back."},
    {"name": "Linus", "message": "The coffee was great."},
]


@app.get("/")
def index():
    return render_template("index.html", entries=entries)


@app.get("/api/entries")
def api_entries():
    return jsonify(entries)


@app.post("/sign")
def sign():
    name = request.form.get("name", "").strip()
    message = request.form.get("message", "").strip()
    if name and message:
        entries.append({"name": name, "message": message})
    return redirect(url_for("index"))


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=int(os.environ.get("PORT", "5000")))
