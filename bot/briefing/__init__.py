"""The daily briefing (日报): one card per subscribed group each morning, weekly on Monday and
monthly on the 1st, fanned out without breaking Feishu's limits."""
