"""Findings rendered as text, JSON, SARIF 2.1.0 (code hosts show it) or GitHub workflow
annotations. Pure functions from findings to a string."""

from __future__ import annotations

import json

from dbshift.lint.findings import SEVERITIES, Finding

FORMATS = ("text", "json", "sarif", "github")
SARIF_LEVELS = {"error": "error", "warning": "warning", "info": "note"}
GITHUB_COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def summary(findings: list[Finding]) -> str:
    """``2 errors, 1 warning`` (or ``no findings``)."""
    counts = [(s, sum(f.severity == s for f in findings)) for s in SEVERITIES]
    parts = [f"{n} {s}{'s' if n != 1 else ''}" for s, n in counts if n]
    return ", ".join(parts) if parts else "no findings"


def as_text(findings: list[Finding]) -> str:
    """One block per finding: ``file:line: severity code: problem``, the statement, the fix."""
    lines = []
    for f in findings:
        where = f"{f.file}:{f.line}" + (f" ({f.section})" if f.section == "down" else "")
        lines.append(f"{where}: {f.severity} {f.code}: {f.problem}")
        if f.statement:
            lines.append(f"    {f.statement}")
        lines.append(f"    fix: {f.fix}")
    lines.append(summary(findings))
    return "\n".join(lines) + "\n"


def as_json(findings: list[Finding]) -> str:
    """``{"findings": [...], "summary": {...}}``."""
    counts = {s: sum(f.severity == s for f in findings) for s in SEVERITIES}
    return json.dumps({"findings": [f.as_json() for f in findings], "summary": counts}, indent=2) + "\n"


def as_sarif(findings: list[Finding], rules: dict) -> str:
    """A SARIF 2.1.0 log with one run of dbshift lint."""
    used = sorted({f.code for f in findings})
    driver = {
        "name": "dbshift lint",
        "rules": [
            {"id": code, "shortDescription": {"text": rules[code].title}, "help": {"text": rules[code].fix}}
            for code in used
            if code in rules
        ],
    }
    results = [
        {
            "ruleId": f.code,
            "level": SARIF_LEVELS[f.severity],
            "message": {"text": f"{f.problem}. Fix: {f.fix}"},
            "locations": [
                {
                    "physicalLocation": {
                        "artifactLocation": {"uri": _uri(f.file)},
                        "region": {"startLine": max(f.line, 1)},
                    }
                }
            ],
        }
        for f in findings
    ]
    log = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }
    return json.dumps(log, indent=2) + "\n"


def _uri(path: str) -> str:
    """A path as the URI reference SARIF's ``artifactLocation.uri`` is (spaces, ``#``, ``%`` escaped;
    an absolute path a ``file://`` URI)."""
    from urllib.parse import quote

    quoted = quote(path.replace("\\", "/"), safe="/")
    return "file://" + quoted if quoted.startswith("/") else quoted


def _escape_github(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property_value else text


def as_github(findings: list[Finding]) -> str:
    """GitHub Actions workflow commands (``::error file=...,line=...,title=...::message``)."""
    lines = [
        f"::{GITHUB_COMMANDS[f.severity]} file={_escape_github(f.file, True)},line={max(f.line, 1)},"
        f"title={_escape_github(f.code, True)}::{_escape_github(f.problem + '. Fix: ' + f.fix)}"
        for f in findings
    ]
    return "\n".join(lines) + ("\n" if lines else "")


def render(findings: list[Finding], format: str, rules: dict) -> str:
    """``findings`` in ``format`` (one of :data:`FORMATS`)."""
    if format == "sarif":
        return as_sarif(findings, rules)
    return {"text": as_text, "json": as_json, "github": as_github}[format](findings)
