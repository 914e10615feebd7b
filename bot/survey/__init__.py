"""The monthly cross-department satisfaction survey (KPI ≥ 4.5 of 5, docs/feishu-native.md)."""
