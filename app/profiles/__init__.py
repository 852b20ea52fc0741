"""People's own profiles (issue 12): channels a person owns and posts on in every team."""


def init_app(app) -> None:
    from app.profiles.views import bp

    app.register_blueprint(bp)
