"""Spreadsheets: a calendar view exported as CSV, and a team's plan imported from CSV."""


def init_app(app) -> None:
    from app.spreadsheets.views import bp, export_url

    app.register_blueprint(bp)
    app.jinja_env.globals["csv_export_url"] = export_url
