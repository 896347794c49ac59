"""The deployment files parse and keep the promises docs/operations.md makes about them."""

from __future__ import annotations

from typing import Any

import yaml

from kits.servers import ROOT

DEPLOY = ROOT / "deploy"


def _manifests() -> dict[str, dict[str, Any]]:
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "liveclass.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs}


def test_kubernetes_probes_drain_and_autoscaling() -> None:
    found = _manifests()
    assert {"Deployment", "Service", "HorizontalPodAutoscaler"} <= set(found)
    pod = found["Deployment"]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    env = {e["name"]: e for e in container["env"]}
    delay = float(env["LIVECLASS_SHUTDOWN_DELAY_SECONDS"]["value"])
    assert pod["terminationGracePeriodSeconds"] > delay + 10  # drain delay + 10 s graceful stop
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert {"LIVECLASS_DATABASE_URL", "LIVECLASS_REDIS_URL", "LIVECLASS_SECRET_KEY"} <= set(env)


def test_compose_runs_three_nodes_behind_a_balancer() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    nodes = [name for name in services if name.startswith("node")]
    assert len(nodes) == 3
    assert {"lb", "postgres", "redis"} <= set(services)
    upstream = (DEPLOY / "nginx.conf").read_text()
    assert all(f"{name}:8000" in upstream for name in nodes)
    assert "Upgrade $http_upgrade" in upstream


def test_dockerfile_runs_as_non_root_and_serves_on_all_interfaces() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert "USER liveclass" in dockerfile
    assert '"--host", "0.0.0.0"' in dockerfile
    copied = {line.split()[1] for line in dockerfile.splitlines() if line.startswith("COPY ")}
    packages = {"ops", "lms", "rooms", "realtime", "media", "persistence", "static"}
    assert packages <= copied
