"""Files shipped inside the package (ontology, named queries, JSON-LD context, demo cut).

They are read through importlib.resources, so an installed wheel finds them as well as a
checkout does (pip installs wheels unzipped: the resources are real files on disk).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["RESOURCES", "ONTOLOGY_DIR", "SPARQL_DIR", "DEMO_DATA", "DEMO_AUDIT"]

RESOURCES = Path(str(files(__package__) / "resources"))
ONTOLOGY_DIR = RESOURCES / "ontology"
SPARQL_DIR = RESOURCES / "sparql"
DEMO_DATA = RESOURCES / "demo_data"
DEMO_AUDIT = RESOURCES / "demo_audit" / "judgements.trig.gz"  # the project's frozen audit of the demo (demo/audit/)
