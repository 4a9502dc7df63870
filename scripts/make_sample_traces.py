"""Write the small synthetic sample traces shipped in src/chip2chat/catalog/traces/.

They are made up (seeded, reproducible), never downloaded: they only show each public format
(Azure LLM inference trace 2023, BurstGPT, Mooncake) so that tests and examples can read one without
fetching the real data. Run from the repository root:

    python scripts/make_sample_traces.py

The numbers imitate the published traces' shape, not their values: conversation prompts of about
1000 tokens and answers of about 250 (lognormal), bursty arrivals (Gamma gaps, CV 2), a few BurstGPT
failures (Response tokens = 0), and Mooncake multi-turn conversations whose later turns repeat the
earlier turns' 512-token blocks.
"""

from __future__ import annotations

import csv
import json
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parents[1] / "src" / "chip2chat" / "catalog" / "traces"
ROWS = 200
BLOCK = 512  # Mooncake tokens per hash id


def lognormal(rng: np.random.Generator, mean: float, cv: float, n: int) -> np.ndarray:
    sigma2 = np.log1p(cv * cv)
    draws = rng.lognormal(np.log(mean) - sigma2 / 2, np.sqrt(sigma2), n)
    return np.maximum(np.rint(draws), 1).astype(int)


def bursty_gaps(rng: np.random.Generator, rate_per_s: float, cv: float, n: int) -> np.ndarray:
    shape = 1 / (cv * cv)
    return rng.gamma(shape, 1 / (rate_per_s * shape), n)


def write_azure(rng: np.random.Generator) -> None:
    start = datetime(2023, 11, 16, 18, 15, 46, 680590)
    offsets_s = np.cumsum(bursty_gaps(rng, 2.0, 2.0, ROWS))
    context = lognormal(rng, 1000, 1.0, ROWS)
    generated = lognormal(rng, 250, 0.8, ROWS)
    with (OUT / "azure_sample.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["TIMESTAMP", "ContextTokens", "GeneratedTokens"])
        for offset, ctx, gen in zip(offsets_s, context, generated):
            stamp = start + timedelta(seconds=float(offset))
            # The real trace prints 7 fractional digits (100 ns ticks); write one extra random digit.
            text = stamp.strftime("%Y-%m-%d %H:%M:%S.%f") + str(rng.integers(10))
            writer.writerow([text, int(ctx), int(gen)])


def write_burstgpt(rng: np.random.Generator) -> None:
    times = np.floor(np.cumsum(bursty_gaps(rng, 0.5, 2.5, ROWS))).astype(int)
    request = lognormal(rng, 600, 1.2, ROWS)
    response = lognormal(rng, 250, 1.0, ROWS)
    failed = rng.choice(ROWS, size=7, replace=False)
    response[failed] = 0
    models = rng.choice(["ChatGPT", "GPT-4"], size=ROWS, p=[0.8, 0.2])
    logs = rng.choice(["Conversation log", "API log"], size=ROWS, p=[0.6, 0.4])
    with (OUT / "burstgpt_sample.csv").open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["Timestamp", "Model", "Request tokens", "Response tokens", "Total tokens", "Log Type"])
        for row in zip(times, models, request, response, logs):
            t, model, req, resp, log = row
            writer.writerow([int(t), model, int(req), int(resp), int(req + resp), log])


def write_mooncake(rng: np.random.Generator) -> None:
    """Conversations of several turns; turn k's prompt = turn k-1's prompt + its answer + a new message.

    Only whole blocks are shared: the last, partial block of a prompt changes once text is appended,
    so it gets a new hash id, as Mooncake's block hashing does. Two system prompts (2 and 3 blocks)
    are shared across conversations, as a deployment's fixed instructions would be.
    """
    next_id = 0

    def new_ids(count: int) -> list[int]:
        nonlocal next_id
        ids = list(range(next_id, next_id + count))
        next_id += count
        return ids

    system_prompts = [new_ids(2), new_ids(3)]
    records = []
    while len(records) < ROWS:
        ids = list(system_prompts[rng.integers(2)])
        prompt = len(ids) * BLOCK  # tokens of the previous prompt (at first: the system prompt)
        context = prompt           # previous prompt + its answer
        t_ms = float(rng.uniform(0, 600_000))
        for _ in range(int(rng.integers(2, 9))):
            shared_blocks = prompt // BLOCK  # whole blocks of the previous prompt are reused as they are
            prompt = context + int(lognormal(rng, 300, 1.0, 1)[0])
            ids = ids[:shared_blocks] + new_ids(-(-prompt // BLOCK) - shared_blocks)
            answer = int(lognormal(rng, 250, 0.8, 1)[0])
            records.append({"timestamp": int(t_ms), "input_length": prompt, "output_length": answer,
                            "hash_ids": list(ids)})
            context = prompt + answer
            t_ms += float(rng.uniform(15_000, 90_000))  # reading and typing time between turns
    records = sorted(records[:ROWS], key=lambda record: record["timestamp"])
    with (OUT / "mooncake_sample.jsonl").open("w") as handle:
        for record in records:
            handle.write(json.dumps(record) + "\n")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    azure, burst, mooncake = (np.random.default_rng(child) for child in np.random.SeedSequence(2024).spawn(3))
    write_azure(azure)
    write_burstgpt(burst)
    write_mooncake(mooncake)
    print(f"wrote 3 sample traces to {OUT}")


if __name__ == "__main__":
    main()
