"""Tasks with owners and deadlines: models, service, cards, reminders."""
