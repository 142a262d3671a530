"""Migration scripts, applied in order by ``intakeguard db upgrade``."""
