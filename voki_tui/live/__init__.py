"""voki_tui.live"""
