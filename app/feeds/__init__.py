"""Calendar feeds: secret-address iCal subscriptions of a person's posts or a team's calendar."""


def init_app(app) -> None:
    from app.feeds import logs
    from app.feeds.views import bp

    logs.redact_feed_addresses()
    app.register_blueprint(bp)
