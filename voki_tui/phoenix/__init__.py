"""voki_tui.phoenix"""
