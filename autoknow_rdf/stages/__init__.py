"""The ML stages behind one interface (base.Stage), found by name in the registry."""
