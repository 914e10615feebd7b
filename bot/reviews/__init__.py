"""Post-stream reviews (复盘): highlights, shortcomings, improvements; improvements become tasks."""
