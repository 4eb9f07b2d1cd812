"""jakreg: registry and analysis toolkit for JAK-inhibitor therapy in inborn errors of immunity."""

__version__ = "0.1.0"
