"""Schedules from the team's own Bitable (多维表格): bind, preview, confirm, re-read on a timer
(docs/feishu-native.md)."""
