"""deploy/: the Prometheus alert rules and the Grafana dashboard parse, have the shape their
tools load, and name only metrics that GET /metrics really shows (promtool is not
installed here; this is the check instead)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from tests.stats.rows import add_jobs
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job.models import DEFAULT_OWNER

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
METRIC = re.compile(r"\b(abstrakt_[a-z_]+|video_generation_latency[a-z_]*)\b")
SUFFIXES = ("_bucket", "_count", "_sum", "_total")
DURATION = re.compile(r"\d+[smhd]")


def exprs() -> list[str]:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    found = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    board = json.loads((DEPLOY / "grafana" / "abstrakt-queue.json").read_text())
    return found + [t["expr"] for panel in board["panels"] for t in panel["targets"]]


def family(name: str) -> str:
    for suffix in SUFFIXES:
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def balanced(expr: str) -> bool:
    depth: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    for char in expr:
        if char in "([{":
            depth.append(char)
        elif char in pairs and (not depth or depth.pop() != pairs[char]):
            return False
    return not depth


def test_alert_rules_have_the_shape_prometheus_loads() -> None:
    rules: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())
    names = set()
    for group in rules["groups"]:
        assert group["name"]
        for rule in group["rules"]:
            assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"])
            assert DURATION.fullmatch(rule["for"])
            assert rule["labels"]["severity"] in ("warning", "critical")
            assert rule["annotations"]["summary"]
            assert balanced(rule["expr"]), rule["expr"]
            names.add(rule["alert"])
    # What the issue asks to be alerted on: a growing queue, p99 over budget, an open circuit.
    assert {
        "AbstraktQueueDepthGrowing",
        "AbstraktLatencyP99OverBudget",
        "AbstraktProviderCircuitOpen",
    } <= names


def test_dashboard_has_the_shape_grafana_imports() -> None:
    board = json.loads((DEPLOY / "grafana" / "abstrakt-queue.json").read_text())
    assert board["uid"]
    assert board["title"]
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"]["uid"] == "${datasource}"
        assert set(panel["gridPos"]) == {"x", "y", "w", "h"}
        for target in panel["targets"]:
            assert balanced(target["expr"]), target["expr"]


def test_every_metric_they_name_is_on_the_page(client: TestClient) -> None:
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=50, now=utcnow(), seed=11)
    body = client.get("/metrics").text
    shown = {f.name for f in text_string_to_metric_families(body)}
    named = {family(name) for expr in exprs() for name in METRIC.findall(expr)}
    assert named
    assert named <= shown, named - shown
