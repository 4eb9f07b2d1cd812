"""`jakreg-federated simulate NODE_EXTRACT...`: the whole federated analysis locally, through
vantage6's MockAlgorithmClient, written as report.json + report.html (marked federated)."""

from __future__ import annotations

import argparse
import contextlib
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


def simulate(
    extracts: list[Path],
    node_min_cell: int,
    bin_days: int | None = None,
    horizon_days: int | None = None,
) -> dict[str, Any]:
    kw: dict[str, Any] = {} if bin_days is None else {"bin_days": bin_days}
    if horizon_days is not None:
        kw["horizon_days"] = horizon_days
    tables = [_table(p) for p in extracts]
    sets = [[{"database": str(t), "db_type": t.suffix.lstrip(".")}] for t in tables]
    old = os.environ.get(MIN_CELL_ENV)
    os.environ[MIN_CELL_ENV] = str(node_min_cell)
    try:
        # vantage6's mock prints its progress to stdout: keep stdout for the results
        with contextlib.redirect_stdout(sys.stderr):
            client = MockAlgorithmClient(datasets=sets, module="jakreg_federated")
            task = client.task.create(input_={"method": "central", "kwargs": kw},
                                      organizations=[0])  # fmt: skip
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


Row = dict[str, Any]


def _diff(f: Any, p: Any) -> Any:
    ok = all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in (f, p))
    return f - p if ok else None


def _refused(part: dict[str, Any]) -> str:
    nodes = sorted({x["node"] for x in part.get("refused", [])})
    return f"incomplete: refused at {', '.join(nodes)}" if nodes else ""


def comparison(r: dict[str, Any], pooled: dict[str, Any]) -> list[Row]:
    """Federated next to pooled, with the difference and why they differ where they may."""
    rows: list[Row] = []

    def add(name: str, f: Any, p: Any, note: str = "") -> None:
        rows.append(
            {"result": name, "federated": f, "pooled": p, "difference": _diff(f, p), "note": note}
        )

    add("patients", r["patients"]["value"], pooled["n_patients"], _refused(r["patients"]))
    for k, v in pooled["response"].items():
        add(f"response {k}", r["response"][k]["value"], v, _refused(r["response"][k]))
    ae = r["adverse_event_rate"]
    add("adverse events", ae["events"], pooled["adverse_events"], _refused(ae))
    st = r["sign_test"]
    add("sign test p", st["p_value"], pooled["idda_paired_test"]["sign_test"]["p_value"],
        _refused(st))  # fmt: skip
    sr = r["stratified_signed_rank"]
    add("signed-rank p", sr["p_value"], pooled["idda_paired_test"]["wilcoxon"]["p_value"],
        "different tests: site-stratified (federated) vs pooled Wilcoxon")  # fmt: skip
    km = r["kaplan_meier"]
    bins = pooled.get("kaplan_meier_bin_days")
    if bins != km["bin_days"]:
        add("Kaplan-Meier", None, None,
            f"not compared: pooled bins {bins} days, federated {km['bin_days']} days")  # fmt: skip
    elif not km["complete"]:
        nodes = ", ".join(sorted({x["node"] for x in km["refused"]}))
        add("Kaplan-Meier", None, None,
            f"not compared: table refused at {nodes} (cells below the minimum cell count; "
            "wider --bin-days make larger cells)")  # fmt: skip
    else:
        horizon = km.get("horizon_days")
        for a in pooled["kaplan_meier_at_days"]:
            if horizon is not None and a["time"] > horizon:
                add(f"KM at day {a['time']:g}", None, a["estimate"],
                    f"not compared: beyond the horizon day {horizon}")  # fmt: skip
            else:
                add(f"KM at day {a['time']:g}", km_at(km, a["time"]), a["estimate"])
    return rows


def _fmt(x: Any) -> str:
    return "" if x is None else f"{x:.6g}" if isinstance(x, float) else str(x)


def table_text(rows: list[Row]) -> str:
    """The comparison as a plain-text table (what `simulate --pooled` prints)."""
    head = ("result", "federated", "pooled", "difference", "note")
    cells = [head] + [tuple(_fmt(r[k]) if k != "result" else r[k] for k in head) for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head) - 1)]
    lines = [
        "  ".join(c[i].ljust(widths[i]) for i in range(len(head) - 1)) + "  " + c[-1] for c in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths) + "  " + "-" * 4)
    return "\n".join(x.rstrip() for x in lines)


def _html(r: dict[str, Any], rows: list[Row]) -> str:
    e = html.escape
    num = _fmt

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
            "<h2>Federated vs pooled</h2><table><tr><th></th><th>federated</th><th>pooled</th>"
            "<th>difference</th><th>note</th></tr>"
        )
        for x in rows:
            parts.append(
                f"<tr><td>{e(x['result'])}</td><td>{num(x['federated'])}</td>"
                f"<td>{num(x['pooled'])}</td><td>{num(x['difference'])}</td>"
                f"<td>{e(x['note'])}</td></tr>"
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
        "--bin-days",
        type=int,
        default=30,
        help="width of the drug-survival (Kaplan-Meier) bins in days; wider bins, larger cells",
    )
    s.add_argument(
        "--km-horizon-days",
        type=int,
        help="count courses beyond this day as censored there (pools the sparse tail of the "
        "drug-survival table; the estimate up to the horizon is unchanged)",
    )
    s.add_argument(
        "--pooled", type=Path, help="pooled results (JSON) to print next to the federated ones"
    )
    a = ap.parse_args(argv)
    try:
        if a.bin_days < 1:
            raise ValueError(f"--bin-days must be a whole number of days ≥ 1, not {a.bin_days}")
        if a.km_horizon_days is not None and a.km_horizon_days < 1:
            raise ValueError(
                f"--km-horizon-days must be a whole number of days ≥ 1, not {a.km_horizon_days}"
            )
        r = simulate(a.extracts, a.node_min_cell, a.bin_days, a.km_horizon_days)
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
    if rows:
        print(table_text(rows))
    print(f"wrote {a.out / 'report.json'} and {a.out / 'report.html'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
