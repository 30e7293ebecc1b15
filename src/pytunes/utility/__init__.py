"""Small utilities: ping, help, wakeup, rename, uwu; the keyword reactions cog is loaded from here."""
