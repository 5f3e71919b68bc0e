"""A self-contained HTML report of a store: the facts-added accounting, per-stage metrics against
their baselines, plots, and sampled facts with their evidence and provenance.

Everything is inside one file (plots are PNGs drawn by matplotlib and inlined as data URIs), so
the page needs no network when it is opened. Every table and sample names the sparql/ query
that returns it, and the query text is on the page.
"""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path
from typing import Any

from .console import plain
from .quarantine import review_rows
from .stages.registry import STAGES
from .store import KnowledgeStore
from .vocab import graph_iri

__all__ = ["summary", "write_report"]



def summary(store: KnowledgeStore) -> dict[str, int]:
    """Headline counts (named query count_summary) as plain ints."""
    row = store.select("count_summary")[0]
    return {k: plain(v) for k, v in row.items()}


def _cell(v: Any) -> str:
    v = v if isinstance(v, float) else plain(v)  # plain() would turn a Python float into its full-length text
    if v is None:
        return ""
    if isinstance(v, float):
        return f"{v:.3f}"
    return html.escape(str(v))


def _table(rows: list[dict[str, Any]], limit: int = 50) -> str:
    if not rows:
        return "<p><em>none</em></p>"
    names = list(rows[0])
    head = "".join(f"<th>{html.escape(str(n))}</th>" for n in names)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r.get(n))}</td>" for n in names) + "</tr>" for r in rows[:limit])
    more = f"<p class=q>… {len(rows) - limit} more rows</p>" if len(rows) > limit else ""
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>{more}"


def _query_link(name: str) -> str:
    return f'query: <a href="#q-{name}"><code>sparql/{name}.rq</code></a>'


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return f'<img class=plot alt="plot" src="data:image/png;base64,{base64.b64encode(buf.getvalue()).decode()}">'


def _gate_plots(gates: dict[str, Any], plt) -> list[tuple[str, str, str]]:
    """Per stage with a gate: held-in precision against coverage (the share of held-in facts
    kept) per kind or attribute, and the reliability diagram of its calibrated probabilities."""
    import numpy as np

    out = []
    for stage, (gate, target) in gates.items():
        groups = [(g, gg) for g, gg in sorted(gate.groups.items()) if gg.probability]
        if not groups:
            continue
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
        for g, gg in groups:
            y, w = np.asarray(gg.right, float), np.asarray(gg.weight, float)
            precision = np.cumsum(w * y) / np.cumsum(w)
            left.plot(np.arange(1, len(y) + 1) / len(y), precision, label=g.rsplit("/", 1)[-1], lw=1.2)
            if gg.curve:
                right.plot([c["stated"] for c in gg.curve], [c["right"] for c in gg.curve], "o-", ms=3, lw=1,
                           label=f"{g.rsplit('/', 1)[-1]} (ECE {gg.ece:.3f})" if gg.ece is not None else g)
        left.axhline(target, color="#a00", ls="--", lw=1, label=f"gate target {target:.2f}")
        left.set(xlabel="coverage (share of held-in facts kept)", ylabel="held-in precision", ylim=(0, 1.02))
        right.plot([0, 1], [0, 1], color="#999", lw=1)
        right.set(xlabel="stated probability (2-fold cross-fitted)", ylabel="share right", xlim=(0, 1), ylim=(0, 1))
        left.legend(fontsize=6)
        right.legend(fontsize=6)
        out.append((f"{stage}: precision–coverage and reliability of its gates (held-in data)", "", _png(fig)))
    return out


def _plots(store: KnowledgeStore, accounts: list[dict], metrics: dict[str, dict],
           gates: dict[str, Any] | None = None) -> list[tuple[str, str, str]]:
    """(title, query, <img>) for each plot the store, metrics and model gates allow."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    added = [r for r in accounts if r["stage"] != "all stages" and r["added"]]
    if added:
        fig, ax = plt.subplots(figsize=(8, 0.3 * len(added) + 1))
        labels = [f"{r['stage']}: {r['kind']}" for r in added]
        ax.barh(labels, [r["added"] for r in added], color="#4c72b0")
        ax.set_xscale("log")
        ax.invert_yaxis()
        ax.set_xlabel("facts added (log scale)")
        out.append(("Facts added per stage and kind", "count_facts_by_kind", _png(fig)))
    growth = [r for r in accounts if r["stage"] == "all stages" and r["kind"] in ("new type", "subClassOf edge", "product typed")]
    if growth:
        fig, ax = plt.subplots(figsize=(6, 2.8))
        x = range(len(growth))
        ax.bar([i - 0.2 for i in x], [r["ingested"] for r in growth], 0.4, label="ingested", color="#999999")
        ax.bar([i + 0.2 for i in x], [r["added"] for r in growth], 0.4, label="added by the stages", color="#dd8452")
        ax.set_xticks(list(x), [r["kind"] for r in growth])
        ax.set_ylabel("facts")
        ax.legend()
        out.append(("Taxonomy growth: types, subClassOf edges, product typings", "count_facts_by_kind", _png(fig)))
    conf: dict[str, list[float]] = {}
    for r in store.select("list_run_confidences"):
        conf.setdefault(r["stage"].value, []).append(float(r["confidence"].value))
    if conf:
        stages = [s for s in STAGES if s in conf] + sorted(set(conf) - set(STAGES))
        fig, axes = plt.subplots(1, len(stages), figsize=(2.6 * len(stages), 2.4), squeeze=False)
        for ax, s in zip(axes[0], stages):
            ax.hist(conf[s], bins=20, range=(0, 1), color="#55a868")
            ax.set_title(f"{s} ({len(conf[s]):,})", fontsize=9)
            ax.set_xlabel("confidence", fontsize=8)
        out.append(("Confidence of the facts each stage asserted", "list_run_confidences", _png(fig)))
    curves = [(stage, name, c) for stage, result in metrics.items() for name, c in result.get("curves", {}).items()]
    if curves:
        fig, ax = plt.subplots(figsize=(5.5, 4))
        for stage, name, c in curves:
            ax.plot(c["recall"], c["precision"], label=f"{stage}: {name}")
        ax.set_xlabel("recall")
        ax.set_ylabel("precision")
        ax.set_ylim(0, 1.02)
        ax.legend(fontsize=7)
        out.append(("Precision–recall on the dev splits (autoknow evaluate --json)", "", _png(fig)))
    return out + _gate_plots(gates or {}, plt)


def write_report(store: KnowledgeStore, out: Path, metrics: dict[str, dict] | None = None,
                 accounts: list[dict] | None = None, counts: dict[str, int] | None = None,
                 gates: dict[str, Any] | None = None) -> Path:
    """Write one self-contained HTML page; `metrics` are `autoknow evaluate --json` results by stage;
    `accounts` and `counts`, the accounting and summary when the caller has them already (they
    take a minute on a store of millions of quads)."""
    from . import queries
    from .accounting import accounting

    metrics = metrics or {}
    counts = counts if counts is not None else summary(store)
    accounts = accounts if accounts is not None else accounting(store, metrics)
    used = ["count_summary", "count_facts_by_kind", "list_run_confidences", "list_stage_samples", "list_synonym_links",
            "count_quarantined_by_source", "list_quarantine", "count_types_by_scheme", "count_facts_by_graph",
            "count_products_by_type"]
    parts = [f"<section><h2>Headline counts</h2><p class=q>{_query_link('count_summary')}</p>{_table([counts])}</section>"]
    shown = [{**r, "growth": f"+{100 * r['growth']:.1f}%" if r["growth"] is not None else "new"} for r in accounts]
    parts.append("<section><h2>What the stages added (facts-added accounting)</h2>"
                 f"<p class=q>{_query_link('count_facts_by_kind')}; growth = added / ingested of the same kind; mean "
                 "confidence = the stage's calibrated probability that its facts are right; measured precision = "
                 "from an audit (people's judgements, <code>autoknow audit report</code>; the sample is named), else "
                 "from <code>autoknow evaluate pipeline --json</code> (the masked re-discovery of what each stage added), "
                 "else from <code>autoknow evaluate STAGE --json</code> on its dev split, when given.</p>"
                 f"{_table(shown, 80)}</section>")
    from .audit import audit_tables, judgements

    judged = judgements(store)
    if judged:
        tables = audit_tables(judged)
        parts.append("<section><h2>Audited precision (people's judgements, docs/audit-guide.md)</h2>"
                     "<p class=q>autoknow audit report; precision weighted to each run's mix of confidence, with its "
                     "95% interval, beside the held-in estimate (the facts' mean calibrated confidence)</p>"
                     f"{_table(tables['precision'], 40)}<h3>By confidence bin (the reliability diagram on real "
                     f"candidates)</h3>{_table(tables['bins'], 80)}<h3>Agreement of annotators</h3>"
                     f"{_table(tables['agreement'], 40)}</section>")
    for title, query, img in _plots(store, accounts, metrics, gates):
        link = f"<p class=q>{_query_link(query)}</p>" if query else ""
        parts.append(f"<section><h2>{html.escape(title)}</h2>{link}{img}</section>")
    for stage in [s for s in STAGES if s in metrics] + sorted(set(metrics) - set(STAGES)):
        tables = metrics[stage].get("tables", {})
        body = "".join(f"<h3>{html.escape(name)}</h3>{_table(rows, 40)}" for name, rows in tables.items())
        profile = metrics[stage].get("profile", {}).get("name", "full")
        parts.append(f"<section><h2>Metrics: {html.escape(stage)} (model beside its baselines; {html.escape(profile)} "
                     f"profile)</h2>{body}</section>")
    from pyoxigraph import Literal

    samples = []
    graphs = [a["graph"] for a in store.select("list_activities")]
    for stage in STAGES:  # bound to each run's graph: one scan of the whole store per stage is minutes
        runs = [g for g in graphs if g.value.startswith(graph_iri("run", stage).value + "/")]
        rows = [r for g in runs for r in store.select("list_stage_samples", stage=Literal(stage), graph=g)][:6]
        if rows:
            samples.append(f"<h3>{stage}</h3>{_table(rows, 6)}"
                           f"<p class=q>autoknow query list_stage_samples --bind stage='\"{stage}\"'</p>")
    parts.append(f"<section><h2>Sampled facts per stage, with evidence and provenance</h2>"
                 f"<p class=q>{_query_link('list_stage_samples')}</p>{''.join(samples) or '<p><em>no stage has run</em></p>'}</section>")
    for title, name, limit in [("Strongest synonym links", "list_synonym_links", 15),
                               ("Quarantined by cleaning, by source", "count_quarantined_by_source", 50),
                               ("Quarantined facts to review, most suspect first (autoknow quarantine release|confirm ID)",
                                "list_quarantine", 50),
                               ("Types per taxonomy", "count_types_by_scheme", 50),
                               ("Alignment across taxonomies (types linked, to how many types, products they hold)",
                                "count_alignment_by_scheme", 50),
                               ("Graphs and their sources", "count_facts_by_graph", 50),
                               ("Most populated types", "count_products_by_type", 20)]:
        rows = store.select(name)
        rows = review_rows(rows) if name == "list_quarantine" else rows
        parts.append(f"<section><h2>{html.escape(title)}</h2><p class=q>{_query_link(name)}</p>{_table(rows, limit)}</section>")
    texts = "".join(f'<details id="q-{n}"><summary><code>sparql/{n}.rq</code></summary><pre>{html.escape(queries.text(n))}</pre></details>'
                    for n in used)
    ok = not store.ask("find_facts_without_provenance")
    page = f"""<!doctype html><html lang=en><head><meta charset=utf-8><title>autoknow-rdf report</title>
<style>body{{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:.5em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:left;font-size:13px;max-width:420px;overflow-wrap:anywhere}}
th{{background:#f3f3f3}}.q{{color:#666}}.ok{{color:#070}}.bad{{color:#a00}}img.plot{{max-width:100%;border:1px solid #eee}}
pre{{background:#f8f8f8;padding:.5em;overflow:auto}}</style></head><body>
<h1>autoknow-rdf report</h1>
<p>Store: <code>{html.escape(str(store.path or 'in memory'))}</code>, {len(store):,} quads.
Provenance check (<code>sparql/find_facts_without_provenance.rq</code>):
<span class={'ok' if ok else 'bad'}>{'every fact is traced to its activity' if ok else 'some facts lack provenance'}</span>.</p>
{''.join(parts)}
<section><h2>The queries behind this page</h2>{texts}</section>
<script>window.addEventListener("load",function(){{var n=0;document.querySelectorAll("img.plot").forEach(function(i){{if(i.complete&&i.naturalWidth>0)n++}});document.body.setAttribute("data-plots-rendered",String(n))}});</script>
</body></html>"""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(page, encoding="utf-8")
    return out
