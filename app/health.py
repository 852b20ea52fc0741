"""``/healthz``: 200 when the store answers, 503 otherwise."""

from flask import Blueprint, jsonify

from app import store

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    if store.ping():
        return jsonify(status="ok")
    return jsonify(status="unavailable"), 503
