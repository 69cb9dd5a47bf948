"""voki_tui.ui"""
