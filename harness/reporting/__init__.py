"""Reporting: leaderboards (``board_spec.py`` loads, ``board.py`` builds, ``render.py`` writes markdown/CSV/HTML
with ``formats.py``, ``notes.py``, ``page.py`` and ``charts.py``) and the regression gate (``regress.py``).
Everything here reads run records only."""
