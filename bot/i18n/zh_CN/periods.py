"""Period names (bot.periods): one set for every command that takes a period."""
TEXTS = {
    "period.today": "今天",
    "period.yesterday": "昨天",
    "period.tomorrow": "明天",
    "period.week": "本周",
    "period.last_week": "上周",
    "period.next_week": "下周",
    "period.month": "本月",
    "period.last_month": "上月",
    "period.next_month": "下月",
    "period.days": "近{n}天",
}
