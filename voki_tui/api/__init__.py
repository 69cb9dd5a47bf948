"""voki_tui.api"""
