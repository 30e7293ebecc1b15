"""Small utilities: ping, help (later wakeup, rename, uwu)."""
