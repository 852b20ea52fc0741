"""Schedules: recurring cadences that fill the calendar with slots, shared out by rotation."""
