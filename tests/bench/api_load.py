"""API read load from a process of its own, so it does not share our CPU: ``wrk`` (Debian's
package) when installed, else an async httpx client (a slower generator: at high rates it
measures itself as much as the server).

The httpx generator runs as ``python -m tests.bench.api_load URL TOKEN PATHS_FILE SECONDS
CONCURRENCY`` and prints one JSON line with requests per second and latencies.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from tests.bench.servers import BenchError
from tests.bench.smtp_load import percentile
from tests.support import REPO


async def _load(
    url: str, token: str, paths: list[str], seconds: float, concurrency: int
) -> dict[str, Any]:
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    rng = random.Random(1)
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                response = await client.get(rng.choice(paths))
                latencies.append(time.perf_counter() - started)
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    ok = statuses.get(200, 0)
    return {
        "requests": len(latencies),
        "statuses": {str(k): v for k, v in statuses.items()},
        "req_per_s": round(ok / wall, 1),
        "latency_ms_median": round(1000 * sorted(latencies)[len(latencies) // 2], 2),
        "latency_ms_p99": round(1000 * percentile(latencies, 99), 2),
    }


def run_load(
    url: str, token: str, paths: list[str], seconds: float, concurrency: int, scratch: Path
) -> dict[str, Any]:
    """Load ``paths`` (in turn) for ``seconds`` from ``concurrency`` connections."""
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.write_text("\n".join(paths) + "\n")
    wrk = shutil.which("wrk")
    if wrk is not None:
        return _run_wrk(wrk, url, token, scratch, seconds, concurrency)
    command = [
        sys.executable,
        "-m",
        "tests.bench.api_load",
        url,
        token,
        str(scratch),
        str(seconds),
        str(concurrency),
    ]
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode != 0:
        raise BenchError(f"the API load generator failed: {done.stderr.strip()[-400:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return {**result, "generator": "httpx"}


# wrk requests each path of the file in turn.
_WRK_SCRIPT = """
local paths = {}
for line in io.lines("%s") do paths[#paths + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", paths[(n %% #paths) + 1])
end
"""
_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _run_wrk(
    wrk: str, url: str, token: str, paths: Path, seconds: float, concurrency: int
) -> dict[str, Any]:
    script = paths.with_suffix(".lua")
    script.write_text(_WRK_SCRIPT % paths)
    command = [
        wrk,
        "--latency",
        "-t",
        "2",
        "-c",
        str(concurrency),
        "-d",
        f"{seconds:g}s",
        "-H",
        f"Authorization: Bearer {token}",
        "-s",
        str(script),
        url,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    out = done.stdout
    rate = re.search(r"Requests/sec:\s*([\d.]+)", out)
    total = re.search(r"(\d+) requests in", out)
    if done.returncode != 0 or rate is None or total is None:
        raise BenchError(f"wrk failed: {(done.stderr or out).strip()[-400:]}")
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "generator": "wrk",
        "requests": int(total.group(1)),
        "non_2xx": int(errors.group(1)) if errors else 0,
        "req_per_s": float(rate.group(1)),
        "latency_ms_median": _wrk_ms(out, "50%"),
        "latency_ms_p99": _wrk_ms(out, "99%"),
    }


def _wrk_ms(output: str, label: str) -> float | None:
    found = re.search(rf"^\s*{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    return round(float(found.group(1)) * _UNITS[found.group(2)], 2) if found else None


def main() -> None:
    url, token, paths_file, seconds, concurrency = sys.argv[1:6]
    paths = Path(paths_file).read_text().split()
    print(json.dumps(asyncio.run(_load(url, token, paths, float(seconds), int(concurrency)))))


if __name__ == "__main__":
    main()
