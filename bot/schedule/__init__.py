"""Live rooms, the team's people and their job titles, and the stream schedule.

Other features use ``bot.schedule.service`` (plain functions over a session: ``stream_by_id``,
``streams_between``, ``live_stream_in_room``, ``current_streams``, ``room_by_name``,
``find_person``, ``mark_live``/``mark_ended`` …) and ``bot.schedule.cards`` (``week_card``,
``month_card`` for timed announcements). Tables are in ``bot.schedule.models``.
"""
