"""Offline events (tastings, fairs, open days) and the post series each one drives."""


def init_app(app) -> None:
    from app.events.views import bp

    app.register_blueprint(bp)
