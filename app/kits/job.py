"""The nudge job's part in share kits: finish offering a kit a request left half-done, and
nudge, half-way through its window, those who have neither taken it nor passed."""

from app.kits import offering
from app.store import kits, reminders
from app.store.models import Reminder


def run(job, reminder: Reminder) -> None:
    """Act on a claimed kit reminder (``job``: the run, app.nudges.job.Job)."""
    kit = kits.kit(reminder.team_id, reminder.post_id)
    if reminder.kind == kits.OFFERS_KIND:
        if kit is not None:
            offering.bring_in_line(kit, job.now)  # deletes the marker when it is done
        else:
            reminders.finish(reminder, job.run_id, "cancelled", "kit_deleted", None)
        return
    nudged = offering.nudge_undecided(kit, job.now) if kit is not None else 0
    reminders.finish(reminder, job.run_id, "sent", f"kit_nudged_{nudged}", None)
