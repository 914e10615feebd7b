"""Time-bound norms around a stream: checkpoints before it, the in-stream cadence, the
explanation timer, the after-stream deadlines, schedule announcements and optional norm
reminders. Defaults come from the norms table of the domain note; every number is
configurable per team (and the cadence per room) with /规范 and /节奏."""
