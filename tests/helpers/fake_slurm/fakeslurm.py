"""A fake Slurm for tests: ``sbatch``, ``srun``, ``squeue``, ``sacct`` and ``scancel`` that run batch jobs
as local background processes. State lives in ``$FAKE_SLURM_DIR`` (one ``<id>.json`` per job).

- ``sbatch SCRIPT``: records the ``#SBATCH`` flags, starts ``bash SCRIPT`` detached with the ``SLURM_*``
  variables a job sees, prints ``Submitted batch job <id>``. ``FAKE_SLURM_REFUSE=1`` makes it fail.
- ``srun [--output F] [--error F] [flags] CMD...``: runs CMD with its output appended to F (``%j``, ``%t``).
  A job whose name contains ``$FAKE_SLURM_KILL`` (at sbatch time) dies instead, as a time limit would.
- ``sacct -o JobID,State,NodeList --parsable2 -j ID ...``: PENDING/RUNNING/COMPLETED/FAILED/CANCELLED.
- ``squeue``: the jobs still running. ``scancel ID``: kills the job's process group, state CANCELLED.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

STATE = Path(os.environ.get("FAKE_SLURM_DIR", "/tmp/fake-slurm"))


def _path(jid: str) -> Path:
    return STATE / f"{jid}.json"


def _load(jid: str) -> dict | None:
    try:
        return json.loads(_path(jid).read_text())
    except (OSError, ValueError):
        return None


def _save(jid: str, rec: dict) -> None:
    tmp = _path(jid).with_suffix(".tmp")
    tmp.write_text(json.dumps(rec))
    os.replace(tmp, _path(jid))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _state(jid: str) -> str:
    rec = _load(jid)
    if rec is None:
        return "UNKNOWN"
    if rec.get("state") in ("CANCELLED", "COMPLETED", "FAILED"):
        return rec["state"]
    rc_file = STATE / f"{jid}.rc"
    if rc_file.is_file():
        return "COMPLETED" if rc_file.read_text().strip() == "0" else "FAILED"
    return "RUNNING" if _alive(rec["pid"]) else "FAILED"


def sbatch(argv: list[str]) -> int:
    if os.environ.get("FAKE_SLURM_REFUSE"):
        print("sbatch: error: invalid partition specified: nope", file=sys.stderr)
        return 1
    script = Path(argv[-1])
    STATE.mkdir(parents=True, exist_ok=True)
    counter = STATE / "counter"
    jid = str(int(counter.read_text()) + 1 if counter.is_file() else 1000)
    counter.write_text(jid)
    flags = dict(re.findall(r"^#SBATCH --([\w-]+)(?:=(.*))?$", script.read_text(), re.M))
    env = {
        **os.environ,
        "SLURM_JOB_ID": jid,
        "SLURM_NTASKS": "1",
        "SLURM_JOB_NUM_NODES": "1",
        "SLURM_NODEID": "0",
        "SLURM_PROCID": "0",
        "SLURM_LOCALID": "0",
        "SLURM_JOB_NODELIST": "fakenode1",
        "SLURM_JOB_PARTITION": flags.get("partition", "default"),
    }
    kill = os.environ.get("FAKE_SLURM_KILL")
    if kill and kill in flags.get("job-name", ""):  # this job dies as if Slurm killed it (see srun)
        env["FAKE_SLURM_KILLED"] = "1"
    gpus = int(flags.get("gpus-per-node") or 0)
    if gpus:  # fake GPUs: what Slurm's gres plugin would set
        env["CUDA_VISIBLE_DEVICES"] = ",".join(str(i) for i in range(gpus))
    out = (flags.get("output") or f"slurm-{jid}.out").replace("%j", jid).replace("%t", "0")
    rc = STATE / f"{jid}.rc"
    with open(out, "a") as fh:
        proc = subprocess.Popen(
            ["bash", "-c", f'bash "$0"; echo $? > "{rc}"', str(script)],
            env=env,
            stdout=fh,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
    _save(jid, {"pid": proc.pid, "flags": flags, "script": str(script), "state": "RUNNING"})
    print(f"Submitted batch job {jid}")
    return 0


def srun(argv: list[str]) -> int:
    jid = os.environ.get("SLURM_JOB_ID", "0")
    out = err = None
    i = 0
    while i < len(argv) and argv[i].startswith("-"):
        if argv[i] in ("--output", "--error"):
            value = argv[i + 1].replace("%j", jid).replace("%t", "0")
            out, err = (value, err) if argv[i] == "--output" else (out, value)
            i += 2
        else:
            i += 1
    cmd = argv[i:]
    if os.environ.get("FAKE_SLURM_KILLED"):
        with open(err or out or os.devnull, "a") as fh:
            fh.write(f"slurmstepd: error: *** JOB {jid} ON fakenode1 CANCELLED DUE TO TIME LIMIT ***\n")
        return 137
    o = open(out, "a") if out else None  # noqa: SIM115
    e = open(err, "a") if err else None  # noqa: SIM115
    return subprocess.call(cmd, stdout=o, stderr=e)


def sacct(argv: list[str]) -> int:
    ids = [argv[i + 1] for i, a in enumerate(argv) if a == "-j"]
    print("JobID|State|NodeList")
    for jid in ids:
        if _load(jid) is not None:
            print(f"{jid}|{_state(jid)}|fakenode1")
    return 0


def squeue(argv: list[str]) -> int:
    print("JOBID PARTITION NAME ST")
    for p in sorted(STATE.glob("*.json")):
        rec = _load(p.stem)
        if rec and _state(p.stem) == "RUNNING":
            print(f"{p.stem} {rec['flags'].get('partition', 'default')} {rec['flags'].get('job-name', '')} R")
    return 0


def scancel(argv: list[str]) -> int:
    for jid in [a for a in argv if a.isdigit()]:
        rec = _load(jid)
        if rec is None:
            continue
        if _state(jid) == "RUNNING":
            with contextlib.suppress(OSError):
                os.killpg(rec["pid"], signal.SIGTERM)
            rec["state"] = "CANCELLED"
            _save(jid, rec)
    return 0


if __name__ == "__main__":
    tools = {"sbatch": sbatch, "srun": srun, "sacct": sacct, "squeue": squeue, "scancel": scancel}
    sys.exit(tools[sys.argv[1]](sys.argv[2:]))
