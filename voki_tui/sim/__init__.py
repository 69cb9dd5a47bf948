"""voki_tui.sim"""
