"""The baseline: the smallest Flask app, served by the same gunicorn settings as the LMS."""

from flask import Flask

app = Flask(__name__)


@app.route("/", methods=["GET", "POST"])
def hello() -> str:
    return "Hello, World!"
