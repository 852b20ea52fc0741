"""The WSGI entry point (Zappa's ``app_function``, and ``flask --app app.wsgi``)."""

from app import create_app

app = create_app()
