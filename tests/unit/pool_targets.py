"""Functions run inside pool workers by test_pool.py."""

import os
import time


def work(kind: str, arg: int):
    if kind == "sleep":
        time.sleep(arg)
    if kind == "crash":
        os._exit(3)
    if kind == "raise":
        raise ValueError("boom")
    return arg
