"""`jakreg-federated simulate NODE_EXTRACT...`: the whole federated analysis locally, through
vantage6's MockAlgorithmClient, written as report.json + report.html (marked federated)."""

from __future__ import annotations

import argparse
import html
import json
import os
import sys
from pathlib import Path
from typing import Any

from vantage6.algorithm.tools.mock_client import MockAlgorithmClient

from jakreg_federated.central import km_at
from jakreg_federated.partial import MIN_CELL_ENV


def _table(path: Path) -> Path:
    if path.is_dir():
        for name in ("jakreg-federated.csv", "jakreg-federated.parquet"):
            if (path / name).exists():
                return path / name
        raise FileNotFoundError(f"{path}: no jakreg-federated.csv or .parquet in this folder")
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file")
    return path


def simulate(extracts: list[Path], node_min_cell: int) -> dict[str, Any]:
    tables = [_table(p) for p in extracts]
    sets = [[{"database": str(t), "db_type": t.suffix.lstrip(".")}] for t in tables]
    old = os.environ.get(MIN_CELL_ENV)
    os.environ[MIN_CELL_ENV] = str(node_min_cell)
    try:
        client = MockAlgorithmClient(datasets=sets, module="jakreg_federated")
        task = client.task.create(input_={"method": "central", "kwargs": {}}, organizations=[0])
        result = client.wait_for_results(task_id=task["id"])[0]
    finally:
        if old is None:
            os.environ.pop(MIN_CELL_ENV, None)
        else:
            os.environ[MIN_CELL_ENV] = old
    result["simulated_nodes"] = {
        f"mock-{i} (organization {i})": str(t) for i, t in enumerate(tables)
    }
    return result


def comparison(r: dict[str, Any], pooled: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    rows: list[tuple[str, Any, Any]] = [("patients", r["patients"]["value"], pooled["n_patients"])]
    rows += [(f"response {k}", r["response"][k]["value"], v) for k, v in pooled["response"].items()]
    rows.append(("adverse events", r["adverse_event_rate"]["events"], pooled["adverse_events"]))
    rows.append(
        (
            "sign test p",
            r["sign_test"]["p_value"],
            pooled["idda_paired_test"]["sign_test"]["p_value"],
        )
    )
    if r["kaplan_meier"]["complete"]:
        for a in pooled["kaplan_meier_at_days"]:
            rows.append(
                (f"KM at day {a['time']:g}", km_at(r["kaplan_meier"], a["time"]), a["estimate"])
            )
    return rows


def _html(r: dict[str, Any], rows: list[tuple[str, Any, Any]]) -> str:
    e = html.escape

    def num(x: Any) -> str:
        return "" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)

    parts = [
        "<!doctype html><html lang='en'><meta charset='utf-8'><title>jakreg federated analysis</title>",
        "<h1>jakreg analysis — FEDERATED (simulated, vantage6 mock client)</h1>",
        f"<p>Nodes: {e(', '.join(r['nodes']))}. Minimum cell count per node: {e(json.dumps(r['min_cell']))}.</p>",
    ]
    if r["node_failures"]:
        parts.append("<h2>Node failures</h2><ul>")
        parts += [f"<li>{e(f['node'])}: {e(f['error'])}</li>" for f in r["node_failures"]]
        parts.append("</ul>")
    ae, st, sr = r["adverse_event_rate"], r["sign_test"], r["stratified_signed_rank"]
    parts.append("<h2>Results</h2><table><tr><th>result</th><th>value</th><th>method</th></tr>")
    res = [
        ("patients", num(r["patients"]["value"]), "sum of node counts"),
        *[
            (
                f"response {k}",
                f"{v['value']} ({num(v['proportion'])}; 95% CI {num(v['ci_lower'])}–{num(v['ci_upper'])})",
                r["response_method"],
            )
            for k, v in r["response"].items()
        ],
        (
            "AE rate /100 PY",
            f"{num(ae['rate_per_100py'])} (95% CI {num(ae['ci_lower'])}–{num(ae['ci_upper'])})",
            ae["method"],
        ),
        (
            "sign test",
            f"{st['n_positive']}+ / {st['n_negative']}−, p = {num(st['p_value'])}",
            st["method"],
        ),
        ("stratified signed-rank", f"z = {num(sr['z'])}, p = {num(sr['p_value'])}", sr["method"]),
        (
            "Kaplan–Meier",
            "complete" if r["kaplan_meier"]["complete"] else "refused by a node",
            r["kaplan_meier"]["method"],
        ),
    ]
    parts += [f"<tr><td>{e(a)}</td><td>{e(b)}</td><td>{e(c)}</td></tr>" for a, b, c in res]
    parts.append("</table>")
    if rows:
        parts.append(
            "<h2>Federated vs pooled</h2><table><tr><th></th><th>federated</th><th>pooled</th><th>difference</th></tr>"
        )
        for name, f, p in rows:
            d = f - p if isinstance(f, (int, float)) and isinstance(p, (int, float)) else None
            parts.append(
                f"<tr><td>{e(name)}</td><td>{num(f)}</td><td>{num(p)}</td><td>{num(d)}</td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Per-node contributions after suppression</h2>")
    parts.append(f"<pre>{e(json.dumps(r['contributions'], indent=1))}</pre></html>")
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="jakreg-federated")
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("simulate", help="run the federated analysis locally on node extracts")
    s.add_argument("extracts", nargs="+", type=Path, help="extract folders or tables, one per node")
    s.add_argument("--out", type=Path, default=Path("jakreg-federated-report"))
    s.add_argument(
        "--node-min-cell",
        type=int,
        default=3,
        help="minimum cell count every simulated node applies",
    )
    s.add_argument(
        "--pooled", type=Path, help="pooled results (JSON) to print next to the federated ones"
    )
    a = ap.parse_args(argv)
    try:
        r = simulate(a.extracts, a.node_min_cell)
        pooled = json.loads(a.pooled.read_text()) if a.pooled else None
    except (OSError, ValueError) as exc:
        print(f"jakreg-federated: {exc}", file=sys.stderr)
        return 2
    rows = comparison(r, pooled) if pooled else []
    a.out.mkdir(parents=True, exist_ok=True)
    (a.out / "report.json").write_text(json.dumps({**r, "comparison_with_pooled": rows}, indent=1))
    (a.out / "report.html").write_text(_html(r, rows))
    for f in r["node_failures"]:
        print(f"node failed: {f['node']}: {f['error']}")
    for name, f, p in rows:
        print(f"{name:22} federated {f!s:24} pooled {p}")
    print(f"wrote {a.out / 'report.json'} and {a.out / 'report.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
