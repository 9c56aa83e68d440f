"""Lambda layers the program builds from pinned requirements (see build.py)."""
