"""Period names (bot.periods): one set for every command that takes a period."""
TEXTS = {
    "period.today": "today",
    "period.yesterday": "yesterday",
    "period.tomorrow": "tomorrow",
    "period.week": "this week",
    "period.last_week": "last week",
    "period.next_week": "next week",
    "period.month": "this month",
    "period.last_month": "last month",
    "period.next_month": "next month",
    "period.days": "the last {n} days",
}
