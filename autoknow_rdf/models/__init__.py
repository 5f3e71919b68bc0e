"""Models: torch / scikit-learn estimators with save/load. They never see the store."""
