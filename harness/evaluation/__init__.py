"""Evaluation: the one package that imports lm_eval (``runner.py``, ``lm.py``, ``graders.py``).

``spec.py`` validates and resolves what a user asks for; ``lm.py`` is the lm-eval model that puts the
generation cache in front of a backend (``backends/``); ``runner.py`` runs lm-eval and writes the run record;
``task_hooks.py`` holds the functions the task YAMLs in ``tasks/`` call (it imports no lm_eval itself).
"""
