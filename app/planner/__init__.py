"""The planner: month, week and agenda views of a team's posts, My posts, and the post panel
(views.py), the post form, its changes with their nudges, and the calendar's periods."""


def init_app(app) -> None:
    from app.planner.views import register

    register(app)
