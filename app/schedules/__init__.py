"""Schedules: recurring cadences that fill the calendar with slots, shared out by rotation."""


def init_app(app) -> None:
    from app.planner.history import BOOKKEEPING
    from app.schedules.views import bp

    app.register_blueprint(bp)
    # The post panel's history leaves out what re-planning a slot records for itself.
    app.jinja_env.globals["bookkeeping"] = BOOKKEEPING
