"""Property tests for the parsers: what a writer writes, the adapter reads back unchanged."""

from __future__ import annotations

import csv
import json
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autoknow_rdf.loaders.catalogue import products_jsonl
from autoknow_rdf.loaders.taxonomy import taxonomy_csv

label = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="|"), min_size=1, max_size=30).filter(lambda s: s.strip() == s and s)
ident = st.text(alphabet=string.ascii_lowercase + string.digits + "-_", min_size=1, max_size=10)


@st.composite
def trees(draw):
    ids = draw(st.lists(ident, min_size=1, max_size=15, unique=True))
    rows = []
    for i, node in enumerate(ids):
        parents = draw(st.lists(st.sampled_from(ids[:i]), max_size=2, unique=True)) if i else []
        rows.append((node, draw(label), parents, draw(st.lists(label, max_size=2))))
    return rows


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=trees())
def test_taxonomy_csv_round_trips(rows, tmp_path_factory):
    path = tmp_path_factory.mktemp("tax") / "taxonomy.csv"
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["id", "label", "parent", "synonyms"])
        for node, lab, parents, syns in rows:
            w.writerow([node, lab, "|".join(parents), "|".join(syns)])
    records = list(taxonomy_csv(path, "t"))
    assert [(r.ref.id, r.ref.label, [p.id for p in r.parents], [s for _, s in r.synonyms]) for r in records] == \
        [(n, l, p, s) for n, l, p, s in rows]
    assert [r.line for r in records] == [i + 2 for i in range(len(rows))] or any("\n" in l for _, l, _, _ in rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(title=label, value_at=st.integers(0, 5), attrs=st.dictionaries(ident, label, max_size=3))
def test_products_jsonl_round_trips_spans_and_attributes(title, value_at, attrs, tmp_path_factory):
    start = min(value_at, len(title) - 1)
    value = title[start:]
    obj = {"id": "p1", "title": title, "type": "tea", "attributes": attrs,
           "spans": [{"attribute": "flavor", "value": value, "start": start, "end": len(title)}]}
    path = tmp_path_factory.mktemp("p") / "products.jsonl"
    path.write_text(json.dumps(obj, ensure_ascii=False) + "\n", encoding="utf-8")
    (record,) = products_jsonl(path, "c")
    assert record.title == title
    spans = {(s.attribute, s.value, s.start, s.end) for s in record.attributes}
    assert ("flavor", value, start, len(title)) in spans
    assert {(a, v) for a, v in attrs.items()} <= {(s.attribute, s.value) for s in record.attributes}
