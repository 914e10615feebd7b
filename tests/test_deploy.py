"""Deployment files: Kubernetes manifests validated against the API schemas (kubernetes-validate),
the compose file, Dockerfile and systemd unit checked for what matters. No container engine
runs here, so images are not built."""
from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
MANIFESTS = sorted((DEPLOY / "k8s").glob("*.yaml"))


@pytest.mark.parametrize("path", MANIFESTS, ids=[p.name for p in MANIFESTS])
def test_manifest_is_valid_kubernetes(path):
    for doc in yaml.safe_load_all(path.read_text()):
        kubernetes_validate.validate(doc, "1.30", strict=True)


def _docs() -> dict[str, dict]:
    return {d["kind"]: d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text())}


def test_deployment_runs_replicas_with_probes():
    docs = _docs()
    dep = docs["Deployment"]
    assert dep["spec"]["replicas"] >= 2
    container = dep["spec"]["template"]["spec"]["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    refs = {next(iter(r)) for r in container["envFrom"]}
    assert refs == {"configMapRef", "secretRef"}
    assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
    assert docs["PodDisruptionBudget"]["spec"]["minAvailable"] >= 1
    assert {"Service", "ConfigMap", "Secret"} <= set(docs)


def test_compose_file():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    bot, db = compose["services"]["bot"], compose["services"]["db"]
    assert bot["depends_on"]["db"]["condition"] == "service_healthy" and "healthcheck" in db
    assert bot["environment"]["DATABASE_URL"].startswith("postgresql://")
    assert bot["env_file"] and "/readyz" in " ".join(bot["healthcheck"]["test"])
    named = set(compose["volumes"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in named


def test_dockerfile():
    text = (DEPLOY / "Dockerfile").read_text()
    assert "-slim" in text.splitlines()[next(i for i, line in enumerate(text.splitlines()) if line.startswith("FROM"))]
    assert "\nUSER liveops" in text and "HEALTHCHECK" in text and 'CMD ["liveops", "run"]' in text
    assert "--sandbox" not in text  # without credentials the image refuses to start, it never plays sandbox


def test_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((DEPLOY / "liveops.service").read_text())
    assert unit["Service"]["ExecStart"].endswith("liveops run")
    assert unit["Service"]["User"] == "liveops" and unit["Service"]["Restart"] == "always"


# -- monitoring: Prometheus alert rules and the Grafana dashboard ------------------------------
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts_test.yml"
DASHBOARD = DEPLOY / "grafana" / "liveops.json"
PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is not installed (Debian: apt-get install "
                                                           "prometheus; .ci/run installs it)")
TARGET_LABELS = {"job", "instance"}  # added by Prometheus to every scraped series


def promtool(*args: str, cwd: Path = DEPLOY) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def rule_exprs() -> list[str]:
    doc = yaml.safe_load(ALERTS.read_text())
    return [rule["expr"] for group in doc["groups"] for rule in group["rules"]]


def dashboard_exprs() -> list[str]:
    """Every query of the dashboard, with Grafana's variables filled in as Grafana would."""
    board = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    exprs += [a["expr"] for a in board["annotations"]["list"] if "expr" in a]
    exprs += [v["query"]["query"] for v in board["templating"]["list"] if isinstance(v.get("query"), dict)]
    return exprs


def _filled(expr: str) -> str:
    return expr.replace("$__rate_interval", "5m").replace("$job", "liveops").replace("$instance", ".*")


@needs_promtool
def test_alert_rules_pass_promtool():
    result = promtool("check", "rules", str(ALERTS))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 16 rules found" in result.stdout


@needs_promtool
def test_example_prometheus_config_loads_the_rules():
    result = promtool("check", "config", "prometheus.example.yml", cwd=ALERTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 16 rules found" in result.stdout


@needs_promtool
def test_alert_rules_fire_as_intended():
    result = promtool("test", "rules", ALERT_TESTS.name, cwd=ALERT_TESTS.parent)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_dashboard_queries_are_valid_promql(tmp_path):
    queries = [e for e in map(_filled, dashboard_exprs()) if not e.startswith("label_values(")]
    rules = {"groups": [{"name": "dashboard", "rules": [
        {"record": f"dashboard:query_{i}", "expr": expr} for i, expr in enumerate(queries)]}]}
    path = tmp_path / "dashboard_rules.yml"
    path.write_text(yaml.safe_dump(rules, allow_unicode=True))
    result = promtool("check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.fixture
async def exported(tmp_path) -> tuple[set[str], dict[str, set[str]]]:
    """Series names the real bot's /metrics page declares, and each metric's label names."""
    import aiohttp

    from bot.app import LiveOpsBot
    from bot.config import Settings
    from bot.server import serve

    bot = LiveOpsBot(Settings(database_url=f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}", transport="ws"))
    runner, port = await serve(bot.web_app(), "127.0.0.1", 0)
    try:
        async with aiohttp.ClientSession() as s:
            async with s.get(f"http://127.0.0.1:{port}/metrics") as r:
                assert r.status == 200
                page = await r.text()
    finally:
        await runner.cleanup()
        await bot.platform.close()
        await bot.db.close()
    names: set[str] = set()
    for line in page.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            base = name.removesuffix("_total")
            names |= {"counter": {name, f"{base}_total", f"{base}_created"},
                      "histogram": {f"{name}_bucket", f"{name}_count", f"{name}_sum", f"{name}_created"},
                      }.get(kind, {name})
    labels: dict[str, set[str]] = {}
    for metric in vars(bot.metrics).values():  # the label names each metric is declared with
        if hasattr(metric, "_labelnames"):
            for suffix in ("", "_total", "_created", "_bucket", "_count", "_sum"):
                labels.setdefault(metric._name + suffix, set()).update(metric._labelnames)
    return names, labels


SELECTOR = re.compile(r"\b(liveops_[a-z0-9_]+)\b(\{[^}]*\})?")
MATCHER = re.compile(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)")
GROUPING = re.compile(r"\b(?:by|on|without|ignoring)\s*\(([^)]*)\)")


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_named_is_one_the_bot_exports(exported, source):
    names, labels = exported
    exprs = rule_exprs() if source == "alerts" else dashboard_exprs()
    named = set()
    for expr in exprs:
        used_here = set()
        for metric, selector in SELECTOR.findall(expr):
            assert metric in names, f"{metric} is not on the bot's /metrics page ({expr})"
            named.add(metric)
            used_here |= labels.get(metric, set())
            for label in MATCHER.findall(selector or ""):
                assert label in labels.get(metric, set()) | TARGET_LABELS, f"{metric} has no label {label} ({expr})"
        for group in GROUPING.findall(expr):
            for label in filter(None, (g.strip() for g in group.split(","))):
                assert label in used_here | TARGET_LABELS | {"le"}, f"no metric here has label {label} ({expr})"
    must = {"liveops_handler_errors_total", "liveops_timers_total", "liveops_timer_lateness_seconds_bucket",
            "liveops_send_failures_total", "liveops_longconn_connected", "liveops_outbox_oldest_age_seconds"}
    if source == "dashboard":
        must |= {"liveops_briefings_total", "liveops_sla_breaches_total", "liveops_imports_total",
                 "liveops_import_rejected_rows_total", "liveops_open_faults"}
    assert must <= named, must - named
