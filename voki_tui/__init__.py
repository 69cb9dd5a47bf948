"""voki-tui: a terminal live-queue dashboard for the Voki customer-service platform."""

__version__ = "0.1.0"
