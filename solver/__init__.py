"""Everything that runs the models: scenarios, geometry, backends, CLI and writers."""

__version__ = "0.1.0"
