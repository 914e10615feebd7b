"""Live-room data: Douyin Compass (抖音电商罗盘) exports read into plain tables.

``bot.data.parse`` reads an uploaded CSV/XLSX into ``Table`` objects (room summary, product
table, per-minute trend) without touching the database; ``bot.data.numbers`` holds the cell
parsers ("1.2万", "13.33%", "¥1,234.5", "1分30秒", full-width headers) it is built on.
"""
