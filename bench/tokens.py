"""Token seal+open with a cached data key, against raw AES-GCM on the same payload, same run.

    .venv/bin/python -m bench.tokens [--rounds 15] [--ops 2000]

Both sides do one encryption and one decryption per operation with a fresh random nonce. The
raw side holds a ready AESGCM object, binds the same context bytes as associated data, and
stores nonce || ciphertext as an app would; the token side also checks the worker context.
Rounds alternate between the sides so machine noise hits them all; we report medians and the
ratios. The batch side seals and opens 100 tokens per call (seal_many, open_many); its
like-for-like reference is raw AES-GCM over the same 100 payloads, sealing all of them into a
list and then opening all of them, as an app batching by hand would (at 64 KiB both hold 13 MB
of results, and glibc's malloc hands the memory back to the kernel between batches).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from strongroom.apptokens import LocalKeySource, TokenSealer
from strongroom.crypto import canonical_context
from strongroom.keyproviders import LocalKeyFile

SIZES = {"64 B": 64, "1 KiB": 1024, "64 KiB": 65536}
CTX = {"tenant": "acme", "user": "42", "purpose": "github-oauth"}


def raw_round(payload: bytes, ops: int) -> float:
    cipher = AESGCM(os.urandom(32))
    aad = canonical_context(CTX)
    start = time.perf_counter()
    for _ in range(ops):
        nonce = os.urandom(12)
        stored = nonce + cipher.encrypt(nonce, payload, aad)  # what an app would store
        cipher.decrypt(stored[:12], stored[12:], aad)
    return (time.perf_counter() - start) / ops


def token_round(vault: TokenSealer, payload: bytes, ops: int) -> float:
    with vault.worker(identity="bench", purpose="github-oauth", max_decrypts=ops + 1) as worker:
        start = time.perf_counter()
        for _ in range(ops):
            worker.open(vault.seal(payload, context=CTX), context=CTX)
        return (time.perf_counter() - start) / ops


BATCH = 100


def raw_batch_round(payload: bytes, ops: int) -> float:
    """Raw AES-GCM over BATCH payloads at a time, all sealed and then all opened: the time per
    payload."""
    cipher = AESGCM(os.urandom(32))
    aad = canonical_context(CTX)
    payloads = [payload] * BATCH
    calls = max(ops // BATCH, 1)
    start = time.perf_counter()
    for _ in range(calls):
        stored = []
        for plaintext in payloads:
            nonce = os.urandom(12)
            stored.append(nonce + cipher.encrypt(nonce, plaintext, aad))
        for blob in stored:
            cipher.decrypt(blob[:12], blob[12:], aad)
    return (time.perf_counter() - start) / (calls * BATCH)


def batch_round(vault: TokenSealer, payload: bytes, ops: int) -> float:
    """seal_many + open_many, BATCH tokens a call: the time per token."""
    payloads = [payload] * BATCH
    calls = max(ops // BATCH, 1)
    with vault.worker(
        identity="bench", purpose="github-oauth", max_decrypts=calls * BATCH + 1
    ) as worker:
        start = time.perf_counter()
        for _ in range(calls):
            worker.open_many(vault.seal_many(payloads, context=CTX), context=CTX)
        return (time.perf_counter() - start) / (calls * BATCH)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--json", type=Path, help="also write results here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vault = TokenSealer(LocalKeySource(LocalKeyFile(Path(tmp) / "kms.key").provider("bench")))
        results = {}
        for label, size in SIZES.items():
            payload = os.urandom(size)
            ops = args.ops if size < 65536 else max(args.ops // 10, 100)
            token_round(vault, payload, 100)  # warm the data-key caches
            raw, ours, batched, raw_batched = [], [], [], []
            for _ in range(args.rounds):
                raw.append(raw_round(payload, ops))
                ours.append(token_round(vault, payload, ops))
                raw_batched.append(raw_batch_round(payload, ops))
                batched.append(batch_round(vault, payload, ops))
            raw_median, our_median = statistics.median(raw), statistics.median(ours)
            batch_median = statistics.median(batched)
            raw_batch_median = statistics.median(raw_batched)
            results[label] = {
                "raw_us": raw_median * 1e6,
                "token_us": our_median * 1e6,
                "ratio": raw_median / our_median,
                "batch_us": batch_median * 1e6,
                "batch_ratio": raw_median / batch_median,
                "raw_batch_us": raw_batch_median * 1e6,
                "batch_to_raw_batch": raw_batch_median / batch_median,
            }
            print(
                f"{label:>7}: raw AES-GCM {raw_median * 1e6:8.2f} us/op   token seal+open "
                f"{our_median * 1e6:8.2f} us/op ({raw_median / our_median:.2f}x)   "
                f"seal_many+open_many {batch_median * 1e6:8.2f} us/token "
                f"({raw_median / batch_median:.2f}x; raw in batches {raw_batch_median * 1e6:.2f} "
                f"us, {raw_batch_median / batch_median:.2f}x)"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
