"""The agents' console: server-rendered pages under /console/ for the desk's people."""
