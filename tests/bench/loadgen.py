"""The webhook bench's load generator, in a process of its own (a script, not a test).

The generator used to share its process and event loop with the Feishu simulator. The bot's
answers go to the simulator while the load runs, so in the bot's runs the generator's loop also
served those calls (and the simulator's state grew by a message per answer, which its garbage
collector walked), and a 200 that had come back waited for that before it was timed; bare
aiohttp sends nothing back, so its runs did not pay it. Here the generator's loop only sends
requests and times them, for every server alike, and the requests it holds are moved out of the
collector's sight (``gc.freeze``) once read.

    python -m tests.bench.loadgen URL REQUESTS_FILE CONCURRENCY

REQUESTS_FILE: a pickle of {"warm": [(body, headers), ...], "rounds": [[(body, headers), ...], ...]}
(tests/bench/bench_webhook.py writes it). Loads the warm-up, prints ``start``, loads the rounds
back to back, prints ``end``, then ``RESULT`` and a JSON list of each round's figures (200s a second,
p50 and p99 in ms, errors, requests) and the CPU seconds the generator used for the rounds.
"""
from __future__ import annotations

import asyncio
import gc
import json
import pickle
import statistics
import sys
import time

import aiohttp


async def load(url: str, reqs: list[tuple[bytes, dict]], concurrency: int) -> dict:
    latencies: list[float] = []
    errors = 0
    queue = list(reversed(reqs))
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def one_worker() -> None:
            nonlocal errors
            while queue:
                raw, headers = queue.pop()
                t0 = time.perf_counter()
                async with session.post(url, data=raw, headers=headers) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
                latencies.append(time.perf_counter() - t0)

        started = time.perf_counter()
        await asyncio.gather(*(one_worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000, "errors": errors, "n": len(latencies)}


async def main(url: str, path: str, concurrency: int) -> None:
    with open(path, "rb") as f:
        requests = pickle.load(f)
    gc.collect()
    gc.freeze()  # the requests live until the end: no collection walks them
    await load(url, requests["warm"], concurrency)
    print("start", flush=True)
    cpu = time.process_time()
    rounds = [await load(url, part, concurrency) for part in requests["rounds"]]
    cpu = time.process_time() - cpu
    print("end", flush=True)
    print("RESULT " + json.dumps({"rounds": rounds, "cpu": cpu}), flush=True)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3])))
