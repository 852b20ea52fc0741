"""Cadence health: is the team's rhythm kept? Gaps on scheduled channels, who carries the
coming posts, and who publishes on time; on a page of the team and in a weekly admin email."""


def init_app(app) -> None:
    from app.cadence.views import bp

    app.register_blueprint(bp)
