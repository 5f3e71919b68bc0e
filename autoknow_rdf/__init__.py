"""autoknow-rdf: grow a product knowledge graph in an Oxigraph store, every fact with provenance."""

__version__ = "0.1.0"
__all__ = ["__version__"]
