"""Partner teams: invitations between teams, and each team's partners page."""

from app.partners.views import bp

__all__ = ["bp"]
