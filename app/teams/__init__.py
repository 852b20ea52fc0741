"""Teams: the start page, members and invitations, team settings."""

from app.teams.views import bp

__all__ = ["bp"]
