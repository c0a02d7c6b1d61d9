"""tps-connector: the sidecar that keeps a TPS in sync with aligner vendors' doctor portals."""

__version__ = "0.1.0"
