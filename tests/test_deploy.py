"""Deployment files: Kubernetes manifests validated against the API schemas (kubernetes-validate),
the compose file, Dockerfile and systemd unit checked for what matters. No container engine
runs here, so images are not built."""
from __future__ import annotations

import configparser
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
    assert "-slim" in text.splitlines()[next(i for i, l in enumerate(text.splitlines()) if l.startswith("FROM"))]
    assert "\nUSER liveops" in text and "HEALTHCHECK" in text and 'CMD ["liveops", "run"]' in text


def test_systemd_unit():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.read_string((DEPLOY / "liveops.service").read_text())
    assert unit["Service"]["ExecStart"].endswith("liveops run")
    assert unit["Service"]["User"] == "liveops" and unit["Service"]["Restart"] == "always"
