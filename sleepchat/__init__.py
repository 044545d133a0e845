"""sleepchat: a terminal chat assistant for a local model that thinks while you are idle."""

__version__ = "0.1.0"
