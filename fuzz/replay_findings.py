"""Run every saved finding (fuzz/findings/<target>/*.bin) through its target once,
in strict mode, and say which still fail on the code as it is now.

    python fuzz/replay_findings.py [target ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(targets: list[str]) -> int:
    env = {k: v for k, v in os.environ.items() if k != "WSSVIZ_FUZZ_KEEP_GOING"}
    still = 0
    for folder in sorted((HERE / "findings").iterdir()) if (HERE / "findings").is_dir() else []:
        if targets and folder.name not in targets:
            continue
        for case in sorted(folder.glob("*.bin")):
            proc = subprocess.run([sys.executable, str(HERE / f"fuzz_{folder.name}.py"), str(case)],
                                  capture_output=True, text=True, env=env, timeout=300)
            lines = (proc.stdout + "\n" + proc.stderr).splitlines()
            mark = "=== Uncaught Python exception: ==="
            last = next((lines[i + 1] for i, ln in enumerate(lines) if mark in ln and i + 1 < len(lines)),
                        next((ln for ln in lines if "ERROR: libFuzzer" in ln), ""))
            frames = [ln.strip() for ln in lines if ln.strip().startswith('File "') and "/wssviz/" in ln]
            if frames:
                where = frames[-1].split('"')[1].split("/wssviz/", 1)[-1]
                line = frames[-1].split("line ")[-1].split(",")[0]
                last += f"  [wssviz/{where}:{line}]"
            ok = proc.returncode == 0
            still += not ok
            print(f"{'fixed ' if ok else 'FAILS '} {folder.name}/{case.name}" + ("" if ok else f"\n       {last}"))
    return 1 if still else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
