"""`autoknow audit review`: judge a sample one fact at a time in a local web page.

The page shows what the sheet shows (never the score), takes right / wrong / unsure from the
keyboard (r, w, u or 1, 2, 3), goes back with z or Backspace (undo: the last judgement is cleared)
and moves with the arrow keys. Every judgement is saved at once, whole, to the annotator's sheet
(`judged-<annotator>.jsonl` beside the sample), so a closed page or a killed server loses nothing
and the next start resumes at the first fact not yet judged. The server listens on loopback only.
"""

from __future__ import annotations

import ipaddress
import json
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from ..errors import AutoknowError
from .sheet import READ_COLUMNS, SAMPLE_JSONL, VERDICTS, judged_path, read_sheet, write_sheet

__all__ = ["Review", "serve_review"]


class Review:
    """One annotator's judgements of the sample in `folder`, saved after every change."""

    def __init__(self, folder: Path, annotator: str):
        self.folder, self.annotator = Path(folder), annotator
        self.path = judged_path(self.folder, annotator)
        sample = self.folder / SAMPLE_JSONL
        if not sample.is_file():
            raise AutoknowError(f"{sample}: no sample here; draw one with `autoknow audit sample`")
        self.rows = [row for _, row in read_sheet(self.path if self.path.is_file() else sample)]
        for row in self.rows:
            row["annotator"] = annotator if row["judgement"] else row.get("annotator", "")
        self.lock = threading.Lock()

    def state(self) -> dict[str, Any]:
        judged = sum(1 for r in self.rows if r["judgement"])
        first_open = next((i for i, r in enumerate(self.rows) if not r["judgement"]), len(self.rows))
        return {"annotator": self.annotator, "total": len(self.rows), "judged": judged, "next": first_open,
                "columns": list(READ_COLUMNS),
                "items": [{k: r.get(k, "") for k in ("item", "kind", *READ_COLUMNS, "judgement")} for r in self.rows]}

    def judge(self, index: int, verdict: str) -> dict[str, Any]:
        if verdict not in VERDICTS:
            raise ValueError(f"a judgement is one of {', '.join(VERDICTS)}, not {verdict!r}")
        with self.lock:
            row = self.rows[index]
            row.update(judgement=verdict, annotator=self.annotator,
                       **{"judged at": datetime.now(timezone.utc).isoformat(timespec="microseconds")})
            write_sheet(self.path, self.rows)
            return self.state()

    def undo(self) -> dict[str, Any]:
        """Clear the latest judgement; the state says which fact it was (`undone`)."""
        with self.lock:
            done = [i for i, r in enumerate(self.rows) if r["judgement"]]
            if not done:
                return {**self.state(), "undone": None}
            last = max(done, key=lambda i: self.rows[i].get("judged at", ""))
            self.rows[last].update(judgement="", annotator="", **{"judged at": ""})
            write_sheet(self.path, self.rows)
            return {**self.state(), "undone": last}


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>autoknow audit review</title>
<style>
body{font:16px/1.45 system-ui,sans-serif;max-width:52em;margin:2em auto;color:#222}
#progress{color:#555} dl{display:grid;grid-template-columns:10em 1fr;gap:.3em 1em}
dt{color:#666} dd{margin:0} #claim{font-size:1.25em;font-weight:600;margin:1em 0}
button{font-size:1em;margin-right:.6em;padding:.4em 1em} .done{color:#070}
#verdict{font-weight:600} kbd{border:1px solid #999;border-radius:3px;padding:0 .3em}
</style></head><body>
<h1>Audit review</h1>
<p id="progress"></p>
<p id="kind"></p><p id="claim"></p>
<dl id="fields"></dl>
<p>Verdict: <span id="verdict"></span></p>
<p><button id="right"><kbd>r</kbd> right</button><button id="wrong"><kbd>w</kbd> wrong</button>
<button id="unsure"><kbd>u</kbd> unsure</button><button id="undo"><kbd>z</kbd> undo</button>
<button id="prev">&larr;</button><button id="next">&rarr;</button></p>
<p>Judge each fact against docs/audit-guide.md, by reading it; the model's score is not shown.</p>
<script>
let state = null, at = 0;
const LABELS = {"claim": "claim", "title": "title / name", "product types": "current types", "attribute": "attribute",
  "value": "value / other", "type path": "type path", "other path": "other path", "evidence": "evidence"};
function show() {
  const n = state.total, item = state.items[at];
  document.getElementById("progress").textContent = `${state.judged} of ${n} judged` +
    (state.judged === n ? " — all done" : "") + ` · fact ${Math.min(at + 1, n)} of ${n} · annotator ${state.annotator}`;
  if (!item) { document.getElementById("claim").textContent = "Every fact is judged."; return; }
  document.getElementById("kind").textContent = item.kind;
  document.getElementById("claim").textContent = item.claim;
  const dl = document.getElementById("fields"); dl.innerHTML = "";
  for (const c of state.columns) {
    if (c === "claim" || !item[c]) continue;
    const dt = document.createElement("dt"), dd = document.createElement("dd");
    dt.textContent = LABELS[c] || c; dd.textContent = item[c]; dd.dataset.column = c; dl.append(dt, dd);
  }
  document.getElementById("verdict").textContent = item.judgement || "—";
}
async function call(path, body) {
  const r = await fetch(path, {method: body ? "POST" : "GET", headers: {"Content-Type": "application/json"},
                                body: body ? JSON.stringify(body) : undefined});
  if (!r.ok) throw new Error(await r.text());
  return r.json();
}
async function judge(verdict) {
  if (at >= state.total) return;
  state = await call("/api/judge", {index: at, verdict});
  at = Math.min(at + 1, state.total); show();
}
async function undo() {
  state = await call("/api/undo", {});
  if (state.undone !== null) at = state.undone; show();
}
document.addEventListener("keydown", e => {
  const k = e.key.toLowerCase();
  if (k === "r" || k === "1") judge("right");
  else if (k === "w" || k === "2") judge("wrong");
  else if (k === "u" || k === "3") judge("unsure");
  else if (k === "z" || k === "backspace") { e.preventDefault(); undo(); }
  else if (k === "arrowleft") { at = Math.max(0, at - 1); show(); }
  else if (k === "arrowright") { at = Math.min(state.total, at + 1); show(); }
});
for (const v of ["right", "wrong", "unsure"]) document.getElementById(v).onclick = () => judge(v);
document.getElementById("undo").onclick = undo;
document.getElementById("prev").onclick = () => { at = Math.max(0, at - 1); show(); };
document.getElementById("next").onclick = () => { at = Math.min(state.total, at + 1); show(); };
call("/api/state").then(s => { state = s; at = s.next; show(); document.body.dataset.ready = "1"; });
</script></body></html>
"""


def _handler(review: Review):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet: the terminal shows the URL only
            pass

        def _send(self, code: int, body: str, kind: str = "application/json") -> None:
            data = body.encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/":
                self._send(200, PAGE, "text/html")
            elif self.path == "/api/state":
                self._send(200, json.dumps(review.state()))
            else:
                self._send(404, json.dumps({"error": "not found"}))

        def do_POST(self) -> None:
            try:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/api/judge":
                    index = int(body["index"])
                    if not 0 <= index < len(review.rows):
                        raise ValueError(f"no fact {index}")
                    self._send(200, json.dumps(review.judge(index, str(body["verdict"]))))
                elif self.path == "/api/undo":
                    self._send(200, json.dumps(review.undo()))
                else:
                    self._send(404, json.dumps({"error": "not found"}))
            except (ValueError, KeyError, TypeError) as exc:
                self._send(400, json.dumps({"error": str(exc)}))

    return Handler


def serve_review(folder: Path, annotator: str, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """A review server over the sample in `folder` (not started: call serve_forever); loopback only."""
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = host == "localhost"
    if not loopback:
        raise AutoknowError(f"audit review listens on loopback only, not {host}")
    return ThreadingHTTPServer((host, port), _handler(Review(folder, annotator)))
