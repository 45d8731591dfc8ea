"""app.py greets over HTTP with Flask, which Debian's python3-flask provides."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "hello\n"


if __name__ == "__main__":
    app.run(host="0.0.0.0", port=8080)
