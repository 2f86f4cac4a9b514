"""Evaluation: the one package that imports lm_eval (``graders.py`` today; backends and the runner next).

``lm_glue`` holds the functions the task YAMLs in ``tasks/`` call; it imports no lm_eval itself.
"""
