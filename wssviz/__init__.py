"""wssviz: see how wss:// works, one step at a time."""

__version__ = "0.1.0"
