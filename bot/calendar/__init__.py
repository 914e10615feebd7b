"""Streams in Feishu Calendar: a shared "直播排期" calendar the bot creates as the app (one per
team, or one per room), one event per stream, kept in step with the schedule (docs/feishu-native.md)."""
