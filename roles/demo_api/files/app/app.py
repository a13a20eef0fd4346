"""The demo API (Flask), served on the port given by $APP_PORT."""
import os

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/")
def index():
    return jsonify(service=os.environ.get("DD_SERVICE", "demo-api"),
                   env=os.environ.get("DD_ENV", ""),
                   version=os.environ.get("DD_VERSION", ""))


@app.route("/health")
def health():
    return jsonify(status="ok")


if __name__ == "__main__":
    app.run(host=os.environ.get("APP_HOST", "127.0.0.1"),
            port=int(os.environ.get("APP_PORT", "8081")))
