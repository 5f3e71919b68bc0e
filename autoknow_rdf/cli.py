"""The `autoknow` command: thin click commands over the Python API (no logic lives here)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import AutoknowError

def _store_spec(ctx, param, value: str) -> Path | str:
    """A directory stays a Path; a SPARQL server (http(s) URL or endpoints .json file) a string."""
    from .remote import is_remote

    return value if is_remote(value) else Path(value)


STORE_OPTION = click.option(
    "--store", "store_path", type=str, callback=_store_spec, default=lambda: os.environ.get("AUTOKNOW_STORE", "autoknow-store"),
    show_default="autoknow-store or $AUTOKNOW_STORE",
    help="Directory of the on-disk Oxigraph store, or a SPARQL 1.1 server: http://HOST:PORT/ (oxigraph serve) or a "
         "JSON file naming its query, update and store URLs.",
)
ENGINE_OPTION = click.option(
    "--engine", type=click.Choice(["local", "ray"]), default="local", show_default=True,
    help="Where the stages' model work runs: this process, or Ray workers (ray.init here, or the cluster RAY_ADDRESS names); same facts.")
MIN_PRECISION_OPTION = click.option(
    "--min-precision", type=click.FloatRange(0, 1, min_open=True), default=None,
    help="Held-in precision each kind of fact must reach to be written, in (0, 1] (default: the model's, 0.9).",
)


@click.group()
@click.version_option(__version__)
def cli() -> None:
    """autoknow-rdf: grow a product knowledge graph in an Oxigraph store, every fact with provenance."""


@cli.command()
@STORE_OPTION
def init(store_path: Path) -> None:
    """Create the store (if needed) and load the core ontology.

    Example: autoknow init --store ./kg
    """
    from .ontology import load_ontology
    from .store import open_store

    store = open_store(store_path)
    n = load_ontology(store)
    store.close()
    click.echo(f"{store_path}: ontology {'loaded (' + str(n) + ' quads)' if n else 'already loaded'}")


@cli.command()
@STORE_OPTION
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", default=None, help="Adapter name (see `autoknow formats`); guessed from file names if omitted.")
@click.option("--scheme", default=None, help="Namespace for ids of generic inputs (default: the file name).")
def ingest(store_path: Path, paths: tuple[Path, ...], fmt: str | None, scheme: str | None) -> None:
    """Load files or folders into the store, one named graph per file, with provenance.

    Re-ingesting a file with the same content is a no-op. Example:
    autoknow ingest ../shared/data/shopify_product_taxonomy my_products.jsonl
    """
    from .ingest import ingest_many, plan
    from .store import open_store

    files, skipped = plan(list(paths), fmt)
    store = open_store(store_path)
    try:
        results = ingest_many(store, files, scheme)
    finally:
        store.close()
    for r in results:
        state = "already ingested" if r.skipped else f"{r.records:,} records, {r.quads:,} quads"
        click.echo(f"{r.adapter:28s} {r.path}  {state}" + (f", {len(r.warnings):,} warnings" if r.warnings else ""))
    warnings = [w for r in results for w in r.warnings]
    for w in warnings[:20]:
        click.echo(f"warning: {w}", err=True)
    if len(warnings) > 20:
        click.echo(f"warning: … and {len(warnings) - 20:,} more", err=True)
    for p in skipped:
        click.echo(f"{'skipped (unknown kind)':28s} {p}")


@cli.command()
@STORE_OPTION
@click.argument("query")
@click.option("--bind", "binds", multiple=True, metavar="VAR=IRI", help="Bind a variable of a named query to an IRI (repeatable).")
@click.option("--output", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--limit", type=int, default=50, show_default=True, help="Rows shown in a table (0 = all).")
def query(store_path: Path, query: str, binds: tuple[str, ...], fmt: str, limit: int) -> None:
    """Run SPARQL: a named query from sparql/, a .rq file, or SPARQL text.

    Examples: autoknow query list_types --limit 10;
    autoknow query list_product_attributes --bind product=https://w3id.org/autoknow/id/product/gtin/0000101209159;
    autoknow query 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
    """
    from .console import render_rows
    from .queries import resolve
    from .store import open_store, rows

    text, bound = resolve(query, binds)
    store = open_store(store_path, read_only=True)
    result = store.run(text, **bound)
    if isinstance(result, bool) or type(result).__name__ == "QueryBoolean":
        click.echo("true" if bool(result) else "false")
        return
    if type(result).__name__ == "QueryTriples":
        from .console import plain
        for t in list(result)[: limit or None]:
            click.echo(f"{plain(t.subject)} {plain(t.predicate)} {plain(t.object)}")
        return
    out = render_rows(rows(result), fmt, limit=limit if fmt == "table" and limit else None)
    if out is not None:
        click.echo(out, nl=False)


@cli.command()
@STORE_OPTION
@click.option("--format", "fmt", type=click.Choice(["turtle", "trig", "nquads", "jsonld"]), default="trig", show_default=True)
@click.option("--graph", default=None, metavar="IRI", help="Export one named graph only.")
@click.option("--rdf11", is_flag=True, help="Write reifiers as rdf:Statement (RDF 1.1) instead of rdf:reifies triple terms.")
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output file.")
@click.option("--include-quarantined", is_flag=True, help="Also write facts the cleaning stage quarantined (left out by default).")
def export(store_path: Path, fmt: str, graph: str | None, rdf11: bool, out: Path, include_quarantined: bool) -> None:
    """Export the store (or one graph) as Turtle, TriG, N-Quads or JSON-LD.

    Example: autoknow export --format jsonld --out kg.jsonld
    """
    from pyoxigraph import NamedNode

    from .export import export as do_export
    from .store import open_store

    store = open_store(store_path, read_only=True)
    n = do_export(store, out, fmt, NamedNode(graph) if graph else None, rdf11, include_quarantined)
    click.echo(f"wrote {n:,} statements to {out}")


@cli.command()
@STORE_OPTION
@click.option("--output", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--limit", type=int, default=20, show_default=True, help="Types shown in the per-type table (0 = all).")
def stats(store_path: Path, fmt: str, limit: int) -> None:
    """Counts: headline, per graph (source or run), per taxonomy, per type."""
    from .console import render_rows
    from .store import open_store

    store = open_store(store_path, read_only=True)
    for title, name, limit in [("Summary", "count_summary", None), ("Per graph", "count_facts_by_graph", None),
                               ("Per taxonomy", "count_types_by_scheme", None),
                               ("Per type", "count_products_by_type", limit or None)]:
        out = render_rows(store.select(name), fmt, title=title, limit=limit)
        if out is not None:
            click.echo(f"# {title}\n{out}")


@cli.command()
@STORE_OPTION
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind; loopback unless --allow-remote.")
@click.option("--port", default=7878, show_default=True)
@click.option("--writable", is_flag=True, help="Accept SPARQL updates (locks the store for other writers).")
@click.option("--allow-remote", is_flag=True, help="Allow binding a non-loopback address.")
@click.option("--include-quarantined", is_flag=True, help="Also serve facts the cleaning stage quarantined (left out by default).")
def serve(store_path: Path, host: str, port: int, writable: bool, allow_remote: bool, include_quarantined: bool) -> None:
    """Serve the store over SPARQL 1.1 HTTP (oxigraph serve), read-only by default. Plain
    queries see the union of the graphs, without quarantined facts; GRAPH reaches one source or
    run. No prefixes are predefined: it prints the project's PREFIX lines.

    Example: autoknow serve --port 7878, then
    curl -H 'Accept: text/csv' --data-urlencode 'query=SELECT * {?s ?p ?o} LIMIT 3' http://127.0.0.1:7878/query
    """
    from .remote import is_remote
    from .server import serve as run_server

    if is_remote(store_path):
        raise click.UsageError(f"{store_path} is a SPARQL server already: serve an on-disk store")

    sys.exit(run_server(store_path, host, port, writable, allow_remote, include_quarantined, announce=click.echo))


@cli.command()
@click.option("--store", "store_path", type=click.Path(path_type=Path), default=Path("demo-store"), show_default=True)
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True)
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True)
@click.option("--no-restricted", is_flag=True, help="Leave out the research-only / non-commercial slices (SubjQA, Instacart).")
@click.option("--retrain", is_flag=True, help="Train every stage again even when a saved model exists.")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A folder laid out like demo/data (open/, restricted/); default: the shipped demo cut.")
@MIN_PRECISION_OPTION
def demo(store_path: Path, report_path: Path, models_dir: Path, no_restricted: bool, retrain: bool, data: Path | None,
         min_precision: float | None) -> None:
    """Build an on-disk store from the shipped demo data, train and run the stages, print a
    summary and write report.html."""
    from .demo import DEMO_DATA, run_demo

    result = run_demo(store_path, report_path, models_dir, data=data or DEMO_DATA, restricted=not no_restricted, retrain=retrain,
                      shapes_out=Path("shapes/generated") / f"{store_path.name}.ttl", min_precision=min_precision,
                      announce=_announce)
    _print_enrichment(result, f"Demo store {store_path}")
    click.echo(f"{sum(1 for r in result.ingested if not r.skipped)} files ingested, "
               f"{sum(1 for r in result.ingested if r.skipped)} already there; report: {result.report}")
    click.echo(f"next: autoknow stats --store {store_path} (or export AUTOKNOW_STORE={store_path} for every command)")


@cli.command()
@STORE_OPTION
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True)
@click.option("--report", "report_path", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True)
@click.option("--shapes-out", type=click.Path(path_type=Path), default=Path("shapes/generated/shapes.ttl"), show_default=True,
              help="Where the generated SHACL shapes are written as Turtle.")
@click.option("--retrain", is_flag=True, help="Train every stage again even when a current model exists.")
@click.option("--quick", is_flag=True, help="Train the stages it trains at their demo sizes (minutes, not hours, on a CPU).")
@MIN_PRECISION_OPTION
@ENGINE_OPTION
def enrich(store_path: Path, models_dir: Path, report_path: Path, shapes_out: Path, retrain: bool, quick: bool,
           min_precision: float | None, engine: str) -> None:
    """Grow your own store in one command: train the stages without a current model, run them all
    at their precision gates, generate shapes, validate, print the accounting and write the
    report. A re-run on unchanged input adds nothing.

    Example: autoknow init --store kg && autoknow ingest --store kg taxonomy.csv products.jsonl
    && autoknow enrich --store kg --quick
    """
    from .enrich import demo_sizes, enrich as run_enrich

    result = run_enrich(store_path, report_path, models_dir, retrain, shapes_out, min_precision,
                        demo_sizes() if quick else None, announce=_announce, engine=engine)
    _print_enrichment(result, f"Store {store_path}")
    click.echo("nothing new: every model was current and every run already in the store" if result.wrote_nothing
               else f"trained: {', '.join(result.trained) or 'none (models reused)'}; report: {result.report}")


def _announce(step: str) -> None:
    """A step starting, on stderr: a log shows where a long run is (a TTY also gets progress bars)."""
    click.echo(step, err=True)


def _print_enrichment(result, title: str) -> None:
    from pyoxigraph import Literal

    from .accounting import gate_rows, run_line, stage_summary
    from .console import render_rows

    render_rows([{k: Literal(v) for k, v in result.counts.items()}], title=title)
    render_rows(_accounting_rows(gate_rows(result.runs)), title="Precision gates (held-in data; autoknow run STAGE --min-precision)")
    render_rows(_accounting_rows(stage_summary(result.runs, result.kinds)), title="What each stage added, at its gates")
    for r in result.runs:
        click.echo(run_line(r, result.kinds.get(r.run_id, {})))
    render_rows(_accounting_rows(result.added), title="Facts-added accounting")
    if result.quarantined:
        render_rows(result.quarantined, title="Quarantined by cleaning, by source (autoknow quarantine list)")
    click.echo("validation: " + result.validation.summary())
    click.echo("time: " + ", ".join(f"{step} {seconds:.0f} s" for step, seconds in result.timings.items())
               + f" (total {sum(result.timings.values()) / 60:.1f} min)")
    c = result.cache
    click.echo(f"embedding cache: {c['hits']:,} of {c['hits'] + c['misses']:,} texts served from it ({100 * c['hit_rate']:.0f}%), "
               f"{c['encode_seconds']:.0f} s spent encoding the rest")


def _accounting_rows(rows: list[dict]) -> list[dict]:
    from pyoxigraph import Literal

    def cell(k, v):
        if v is None:
            return Literal("new" if k == "growth" else "")
        if k == "growth":
            return Literal(f"+{100 * v:.1f}%")
        return Literal(round(v, 3) if isinstance(v, float) else v)

    return [{k: cell(k, v) for k, v in r.items()} for r in rows]


@cli.command()
@STORE_OPTION
@click.option("--out", type=click.Path(path_type=Path), default=Path("report.html"), show_default=True)
@click.option("--metrics", "metrics_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A folder of `autoknow evaluate STAGE --json` results named <stage>.json (adds metrics, measured precision, PR curves; pipeline.json from `evaluate pipeline`).")
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True,
              help="Saved stage models: their gates' precision-coverage curves and reliability diagrams.")
def report(store_path: Path, out: Path, metrics_dir: Path | None, models_dir: Path) -> None:
    """Write a self-contained HTML report: accounting, metrics against baselines, plots, samples.

    Example: autoknow report --store demo-store --out report.html --metrics runs/
    """
    from .accounting import load_metrics
    from .pipeline import model_gates
    from .report import write_report
    from .store import open_store

    path = write_report(open_store(store_path, read_only=True), out, load_metrics(metrics_dir), gates=model_gates(models_dir))
    click.echo(f"wrote {path}")


@cli.command()
@STORE_OPTION
@click.argument("stage")
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True)
@MIN_PRECISION_OPTION
def train(store_path: Path, stage: str, models_dir: Path, min_precision: float | None) -> None:
    """Train a stage on the store's data and save the model (config, weights, checksum,
    calibrated gates).

    Example: autoknow train taxonomy --store demo-store
    """
    from .pipeline import train_stage
    from .store import open_store

    info = train_stage(open_store(store_path, read_only=True), stage, models_dir, min_precision=min_precision)
    click.echo(f"trained {info.name} {info.version} ({info.checksum}) into {models_dir / stage}")


@cli.command("run")
@STORE_OPTION
@click.argument("stage")
@click.option("--models", "models_dir", type=click.Path(path_type=Path), default=Path("models"), show_default=True)
@click.option("--run-id", default=None, help="Run id (default: fingerprint of model and inputs); re-running an id is a no-op.")
@MIN_PRECISION_OPTION
@ENGINE_OPTION
def run_command(store_path: Path, stage: str, models_dir: Path, run_id: str | None, min_precision: float | None,
                engine: str) -> None:
    """Run a trained stage over the store; its facts go into one new run graph with provenance.
    Only facts whose kind reaches the minimum precision on held-in data are written; the table
    says which kinds were emitted and which withheld.

    Example: autoknow run taxonomy --store demo-store --min-precision 0.95
    """
    from .accounting import gate_rows
    from .console import render_rows
    from .pipeline import run_stage
    from .store import open_store

    store = open_store(store_path)
    try:
        r = run_stage(store, stage, models_dir, run_id, min_precision=min_precision, engine=engine)
    finally:
        store.close()
    render_rows(_accounting_rows(gate_rows([r])), title=f"Precision gates at {r.min_precision:.2f} (held-in data)")
    click.echo(f"{stage} run {r.run_id}: " + ("already in the store" if r.skipped else f"{r.facts:,} facts, {r.quads:,} quads"))


@cli.command()
@click.argument("stage")
@click.option("--data", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A folder laid out like ../shared/data: dev splits are carved from it.")
@click.option("--train", "train_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Train on this folder (same layout) ...")
@click.option("--test", "test_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="... and score on this one only (refused if it shares items or texts with --train).")
@click.option("--model", "model_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="Score this saved stage model (a folder written by `autoknow train STAGE`) instead of training one.")
@click.option("--profile", type=click.Choice(["quick", "full"]), default="full", show_default=True,
              help="quick: one seed, sampled splits, fewer epochs (minutes, for iterating); full: the protocol to report.")
@click.option("--json", "json_out", type=click.Path(path_type=Path), default=None, help="Also write every metric as JSON.")
@MIN_PRECISION_OPTION
def evaluate(stage: str, data: Path | None, train_dir: Path | None, test_dir: Path | None, model_dir: Path | None,
             profile: str, json_out: Path | None, min_precision: float | None) -> None:
    """Evaluate a stage (or `all`) beside its baselines in the same run: on dev splits carved
    from --data, or trained on --train and scored on --test. `pipeline` is the masked
    re-discovery: facts of --data are hidden, the stages run at their gates (--min-precision),
    and what they added is judged against what was hidden.

    Examples: autoknow evaluate taxonomy --data ../shared/data --profile quick;
    autoknow evaluate pipeline --data demo/data --profile quick;
    autoknow evaluate synonyms --train ../shared/data --test my-labelled-data --json synonyms.json;
    autoknow evaluate cleaning --train ../shared/data --test my-labelled-data --model models/cleaning
    """
    import json

    from pyoxigraph import Literal

    from .console import render_rows
    from .pipeline import evaluate_stage
    from .stages.registry import STAGES

    if (data is None) == (train_dir is None):
        raise click.UsageError("give either --data DIR, or --train DIR with --test DIR")
    if train_dir is not None and test_dir is None:
        raise click.UsageError("--train needs --test (or use --data to carve dev splits)")
    names = list(STAGES) if stage == "all" else [stage]
    if stage == "all" and model_dir is not None:
        raise click.UsageError("--model names one stage's saved model: give that stage, not `all`")
    if min_precision is not None and stage != "pipeline":
        raise click.UsageError("--min-precision is for `evaluate pipeline` (a stage's evaluation reports every operating point)")
    from .rediscovery import evaluate_rediscovery

    results = {}
    for name in names:
        if name == "pipeline":  # the masked re-discovery of what every stage adds
            result = evaluate_rediscovery(data or train_dir, test_dir, model_dir, profile, min_precision)
        else:
            result = evaluate_stage(name, data or train_dir, test_dir, model_dir, profile)
        result["data"] = {"train": str(data or train_dir), "test": str(test_dir) if test_dir else "dev splits carved from --data"}
        results[name] = result
        for table, rows in result["tables"].items():
            rows = [{k: None if v is None else Literal(round(v, 3) if isinstance(v, float) else v) for k, v in r.items()}
                    for r in rows]
            render_rows(rows, title=f"{name} / {table} ({profile} profile)")
            sizes = {k: v for k, v in result.get(table, {}).items() if not isinstance(v, (dict, list))}
            click.echo("  " + ", ".join(f"{k}={v}" for k, v in sizes.items()))
        for samples, about in (("wrong samples", "judged wrong"), ("unjudged samples", "unjudged (for a person to read)")):
            for what, texts in result.get(samples, {}).items():
                if texts:
                    click.echo(f"  {about}, {what}: " + " | ".join(texts))
        for skipped in result.get("skipped", []):
            click.echo(f"  skipped: {skipped}")
        click.echo(f"{name}: {profile} profile ({result['profile']['about']}), {result['profile']['seconds']:.0f} s")
    if json_out is not None:
        json_out.write_text(json.dumps(results if stage == "all" else results[stage], indent=2, default=str), encoding="utf-8")


@cli.command()
@STORE_OPTION
@click.option("--out", "out", type=click.Path(path_type=Path), default=Path("shapes/generated/shapes.ttl"),
              show_default=True, help="Also write the shapes as Turtle here.")
def shapes(store_path: Path, out: Path) -> None:
    """Generate SHACL shapes from the store's applicability decisions (declared and predicted).

    Example: autoknow shapes --store demo-store --out shapes/generated/demo.ttl
    """
    from .shapes import write_shapes
    from .store import open_store

    store = open_store(store_path)
    try:
        graph, n = write_shapes(store, out)
    finally:
        store.close()
    click.echo(f"{n:,} shape facts in graph {graph.value}; Turtle: {out}")


@cli.command()
@STORE_OPTION
@click.option("--shapes-out", type=click.Path(path_type=Path), default=Path("shapes/generated/shapes.ttl"),
              show_default=True, help="Where the generated shapes are written as Turtle.")
@click.option("--limit", default=20, show_default=True, help="Results to print (all are stored).")
def validate(store_path: Path, shapes_out: Path, limit: int) -> None:
    """Validate the store's products against the generated shapes with pyshacl; the report is
    stored as RDF in its own graph (sparql/list_validation_results.rq) and printed as a table.

    Exit status 1 when a violation is found. Example: autoknow validate --store demo-store
    """
    from .console import render_rows
    from .shapes import validate as run_validation, write_shapes
    from .store import open_store

    store = open_store(store_path)
    try:
        graph, _ = write_shapes(store, shapes_out)
        v = run_validation(store, graph)
    finally:
        store.close()
    click.echo(f"{v.summary()}; stored in graph {v.graph.value}")
    if v.results:
        render_rows([{k: r[k] for k in ("focus", "path", "severity", "message")} for r in v.results[:limit]],
                    title=f"first {min(limit, len(v.results))} (autoknow query list_validation_results)")
    click.echo("conforms" if v.conforms else "does not conform")
    if not v.conforms:
        sys.exit(1)


@cli.group()
def quarantine() -> None:
    """Review facts the cleaning stage quarantined: list, release, confirm (nothing is deleted)."""


@quarantine.command("list")
@STORE_OPTION
@click.option("--pending", is_flag=True, help="Only facts no one has reviewed yet.")
@click.option("--limit", type=int, default=50, show_default=True, help="Rows shown (0 = all).")
@click.option("--output", "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
@click.option("--iris", is_flag=True, help="Also show the IRIs of the quarantine, product, attribute and value.")
def quarantine_list(store_path: Path, pending: bool, limit: int, fmt: str, iris: bool) -> None:
    """Quarantined facts, most suspect first: id, product title, attribute, value, score,
    reason, source and decision (release or confirm by the id).

    Example: autoknow quarantine list --store demo-store --pending
    """
    from .console import render_rows
    from .quarantine import list_quarantine, review_rows
    from .store import open_store

    rows = review_rows(list_quarantine(open_store(store_path, read_only=True), pending), iris)
    text = render_rows(rows, fmt, title=f"{len(rows):,} quarantined facts", limit=limit or None)
    if text is not None:
        click.echo(text, nl=False)


def _review(store_path: Path, ids: tuple[str, ...], decision: str, reviewer: str) -> None:
    from .quarantine import review
    from .store import open_store

    store = open_store(store_path)
    try:
        for ident in ids:
            node = review(store, ident, decision, reviewer)
            click.echo(f"{decision}: {node.value}")
    finally:
        store.close()


@quarantine.command("release")
@STORE_OPTION
@click.argument("ids", nargs=-1, required=True)
@click.option("--reviewer", default="reviewer", show_default=True, help="Who decided (recorded as a prov:Person).")
def quarantine_release(store_path: Path, ids: tuple[str, ...], reviewer: str) -> None:
    """Return quarantined facts to the default view, with their original provenance.

    Example: autoknow quarantine release --store demo-store 3f2a…  (the id's last segment or IRI)
    """
    _review(store_path, ids, "released", reviewer)


@quarantine.command("confirm")
@STORE_OPTION
@click.argument("ids", nargs=-1, required=True)
@click.option("--reviewer", default="reviewer", show_default=True, help="Who decided (recorded as a prov:Person).")
def quarantine_confirm(store_path: Path, ids: tuple[str, ...], reviewer: str) -> None:
    """Confirm that quarantined facts are wrong: they stay out of the default view.

    Example: autoknow quarantine confirm --store demo-store 3f2a…
    """
    _review(store_path, ids, "confirmed", reviewer)


@cli.group()
def audit() -> None:
    """Measure precision as a person does: sample what a run added, judge it, import, report."""


@audit.command("sample")
@STORE_OPTION
@click.option("--stage", required=True, help="The stage whose run is sampled.")
@click.option("--run", "run_id", default=None, help="Run id (default: the stage's newest run).")
@click.option("--n", type=click.IntRange(1), default=200, show_default=True, help="Facts drawn per kind of fact.")
@click.option("--kind", "kinds", multiple=True, help="Only this kind of fact (repeatable), e.g. 'sameAs link'.")
@click.option("--name", default=None, help="The sample's name (default: STAGE-RUN); the same name draws the same facts.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Only facts at or above this confidence: a sample of the region where a gate decides.")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("audit"), show_default=True,
              help="Where the sheet (sample.csv, sample.jsonl) and its strata (sample.weights.json) go.")
def audit_sample(store_path: Path, stage: str, run_id: str | None, n: int, kinds: tuple[str, ...], name: str | None,
                 min_confidence: float | None, folder: Path) -> None:
    """Draw a run's facts, stratified over confidence, into a sheet to judge (without scores).

    Example: autoknow audit sample --store demo-store --stage taxonomy --n 250 --dir audit/taxonomy
    """
    from .audit import write_sample
    from .console import render_rows
    from .store import open_store

    about = write_sample(open_store(store_path, read_only=True), stage, folder, run_id, n, name, kinds, min_confidence)
    among = "added by the run" if min_confidence is None else f"added by the run at confidence >= {min_confidence:g}"
    render_rows([{"kind": k, "drawn": v["drawn"], among: v["added"]} for k, v in about["kinds"].items()],
                title=f"sample {about['sample']} of {stage} run {about['run']} (min precision {about['min precision']})")
    click.echo(f"sheet: {folder / 'sample.csv'} and {folder / 'sample.jsonl'}; judge it with "
               f"`autoknow audit review --dir {folder}` or in the sheet, then `autoknow audit import`")


@audit.command("review")
@click.option("--dir", "folder", type=click.Path(path_type=Path), default=Path("audit"), show_default=True,
              help="The folder `audit sample` wrote.")
@click.option("--annotator", required=True, help="Your name: the judgements are saved as judged-NAME.jsonl.")
@click.option("--port", type=int, default=7880, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
def audit_review(folder: Path, annotator: str, port: int, host: str) -> None:
    """Judge the sample one fact at a time in a local web page (r/w/u, z to undo; resumable).

    Example: autoknow audit review --dir audit/taxonomy --annotator ana
    """
    from .audit.review import serve_review

    server = serve_review(folder, annotator, host, port)
    click.echo(f"review {folder} as {annotator}: http://{host}:{server.server_address[1]}/ (Ctrl-C stops; "
               f"judgements are saved as you go)")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


@audit.command("import")
@STORE_OPTION
@click.argument("sheets", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--annotator", default=None, help="Who judged (default: each row's annotator column).")
@click.option("--guideline", default=None, help="Version of docs/audit-guide.md judged by (default: the current one).")
def audit_import(store_path: Path, sheets: tuple[Path, ...], annotator: str | None, guideline: str | None) -> None:
    """Record judged sheets as judgements with provenance, all or nothing.

    Example: autoknow audit import --store demo-store audit/taxonomy/judged-ana.jsonl
    """
    from .audit import GUIDELINE_VERSION, import_sheets
    from .store import open_store

    store = open_store(store_path)
    try:
        r = import_sheets(store, list(sheets), annotator, guideline or GUIDELINE_VERSION)
    finally:
        store.close()
    click.echo(f"{r.judged:,} judged rows, {r.written:,} new judgements" + (f" in {r.graph}" if r.graph else "")
               + f"; {r.skipped:,} rows not judged yet")


@audit.command("report")
@STORE_OPTION
@click.option("--stage", default=None, help="Only this stage's judgements.")
@click.option("--output", "--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table", show_default=True)
def audit_report(store_path: Path, stage: str | None, fmt: str) -> None:
    """Audited precision per stage and kind with its 95% interval, by confidence bin beside the
    held-in estimate, and the annotators' agreement (Cohen's kappa).

    Example: autoknow audit report --store demo-store
    """
    import json as _json

    from .audit import audit_tables, judgements
    from .console import render_rows
    from .store import open_store

    tables = audit_tables(judgements(open_store(store_path, read_only=True), stage))
    if fmt == "json":
        click.echo(_json.dumps(tables, ensure_ascii=False, indent=1))
        return
    for key, title in (("precision", "audited precision (95% interval) beside the held-in estimate"),
                       ("bins", "by confidence bin"), ("agreement", "agreement of annotators")):
        text = render_rows(tables[key], fmt, title=title)
        if text is not None:
            click.echo(text, nl=False)


@audit.command("export")
@STORE_OPTION
@click.option("--out", type=click.Path(path_type=Path), required=True, help="TriG file.")
def audit_export(store_path: Path, out: Path) -> None:
    """Write every audit (judgements and their provenance) as TriG, to load into another store.

    Example: autoknow audit export --store demo-store --out demo/audit/judgements.trig
    """
    from .audit import export_audit
    from .store import open_store

    n = export_audit(open_store(store_path, read_only=True), out)
    click.echo(f"{n:,} quads written to {out}")


@audit.command("load")
@STORE_OPTION
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def audit_load(store_path: Path, path: Path) -> None:
    """Load an exported audit into the store (once; all or nothing), so its judgements fit the
    gates of the models they judged.

    Example: autoknow audit load --store kg demo/audit/judgements.trig
    """
    from .audit import load_audit
    from .store import open_store

    store = open_store(store_path)
    try:
        n = load_audit(store, path)
    finally:
        store.close()
    click.echo(f"{n:,} quads loaded" if n else "already loaded")


@cli.command()
def formats() -> None:
    """List the input adapters and the file names each recognises."""
    from .loaders import ADAPTERS

    for a in ADAPTERS.values():
        click.echo(f"{a.name:28s} {', '.join(a.patterns):40s} {a.summary}")


@cli.command("queries")
def list_queries() -> None:
    """List the named SPARQL queries in sparql/ with what they return."""
    from . import queries

    for name in queries.names():
        click.echo(f"{name}\n  " + queries.header(name).replace("\n", "\n  "))


def main() -> None:
    """Entry point: AutoknowError becomes one line on stderr and exit status 2."""
    try:
        cli(standalone_mode=True)
    except AutoknowError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
