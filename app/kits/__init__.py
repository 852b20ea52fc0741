"""Share kits (issue 12): something worth telling that a team offers its people, who each
post it on their own profile in their own words, or pass."""


def init_app(app) -> None:
    from app.kits.views import bp

    app.register_blueprint(bp)
