"""Reporting: leaderboards (``board.py`` builds, ``render.py`` writes markdown/CSV/HTML) and the regression gate
(``regress.py``). Everything here reads run records only."""
