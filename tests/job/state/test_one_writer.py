"""The house rules of job state, checked on the source: one writer of `status` and
`submit_state`, one writer of phase rows, and no listener on every SQLAlchemy session."""

from __future__ import annotations

import ast
from pathlib import Path

import workers

WORKERS = Path(workers.__file__).parent
TRANSITIONS = WORKERS / "job" / "state" / "transitions.py"
PHASES = WORKERS / "job" / "state" / "phases.py"
STATE_FIELDS = frozenset({"status", "submit_state"})


def sources() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in WORKERS.rglob("*.py")]


def writes_of(tree: ast.Module, fields: frozenset[str]) -> list[int]:
    """Lines that assign one of `fields` as an attribute (`x.status = …`, `+=`, tuple
    targets) or pass it to an UPDATE (`.values(status=…)`)."""
    lines: list[int] = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for leaf in ast.walk(target):
                if isinstance(leaf, ast.Attribute) and leaf.attr in fields:
                    lines.append(leaf.lineno)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "values"
        ):
            lines.extend(kw.value.lineno for kw in node.keywords if kw.arg in fields)
        if isinstance(node, ast.Call) and _called(node) in {"setattr"}:
            field = node.args[1] if len(node.args) > 1 else None
            if isinstance(field, ast.Constant) and field.value in fields:
                lines.append(node.lineno)
    return lines


def constructions_of(tree: ast.Module, name: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and _called(node) == name
    ]


def _called(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


class TestOneWriter:
    def test_status_and_submit_state_are_assigned_only_by_transitions(self) -> None:
        elsewhere = [
            f"{path.relative_to(WORKERS.parent)}:{line}"
            for path, tree in sources()
            if path != TRANSITIONS
            for line in writes_of(tree, STATE_FIELDS)
        ]
        assert elsewhere == [], "status/submit_state written outside transitions.py"
        assert writes_of(ast.parse(TRANSITIONS.read_text()), STATE_FIELDS), "the check is blind"

    def test_new_jobs_get_their_status_from_transitions(self) -> None:
        for path, tree in sources():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _called(node) == "Job":
                    given = {kw.arg for kw in node.keywords}
                    assert not given & STATE_FIELDS, f"{path}:{node.lineno} sets a state field"

    def test_phase_rows_are_made_only_by_phases(self) -> None:
        elsewhere = [
            f"{path.relative_to(WORKERS.parent)}:{line}"
            for path, tree in sources()
            if path != PHASES
            for line in constructions_of(tree, "JobPhase")
        ]
        assert elsewhere == []
        assert constructions_of(ast.parse(PHASES.read_text()), "JobPhase"), "the check is blind"

    def test_no_listener_on_every_session(self) -> None:
        """Session hooks go on the project's sessionmaker (`workers.db.engine`), never on
        the `Session` class, where they would run for every session in the process."""
        for path, tree in sources():
            for node in ast.walk(tree):
                if isinstance(node, ast.Call) and _called(node) in {"listen", "listens_for"}:
                    target = node.args[0] if node.args else None
                    assert not (isinstance(target, ast.Name) and target.id == "Session"), (
                        f"{path}:{node.lineno} listens on every Session"
                    )


class TestTheCheckItself:
    """The scanner finds each way of writing a field, so a passing test means something."""

    def test_finds_every_form_of_write(self) -> None:
        code = (
            "job.status = 'x'\n"
            "a.b, job.submit_state = 1, 2\n"
            "session.execute(update(Job).values(status='failed'))\n"
            "setattr(job, 'status', 'x')\n"
            "job.other = 1\n"
        )
        assert sorted(writes_of(ast.parse(code), STATE_FIELDS)) == [1, 2, 3, 4]
