"""Script compliance checker: finds risky wording in live-stream scripts (pure, no I/O
besides reading the bundled term list).

    from bot.compliance import check, Checker, Exemption
    result = check("这款面霜是全网最好用的")
    result.verdict            # Verdict.BLOCK
    result.hits[0].category   # "绝对化"

Teams add terms and exemptions with ``Checker.load_default().with_team(...)`` or
``Checker(terms, extra_terms=[...], exemptions=[...])``. ``report.render_markdown`` turns a
result into Feishu card markdown; ``extract.extract_lines`` reads uploaded script files.
"""
from bot.compliance.matcher import (
    BLOCK, CATEGORIES, EXEMPTION_KINDS, WARN, Checker, CheckResult, Exemption, Hit, Term,
    Verdict, check, load_terms,
)

__all__ = [
    "BLOCK", "CATEGORIES", "EXEMPTION_KINDS", "WARN", "Checker", "CheckResult", "Exemption",
    "Hit", "Term", "Verdict", "check", "load_terms",
]
