"""Posts shared with a partner team (issue 11, phase 2): sharing one, and the partner side's
page of it."""

from app.sharing.views import bp, init_app

__all__ = ["bp", "init_app"]
