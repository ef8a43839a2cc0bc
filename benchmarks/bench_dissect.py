"""Per-record decryption and per-message description costs.

    python benchmarks/bench_dissect.py
"""

from __future__ import annotations

import os
import timeit

from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

from wssviz.dissect.decrypt import SUITES, RecordDecryptor, TrafficKeys


def main() -> None:
    payload = os.urandom(1024)
    for code in (0x1301, 0x1303):
        suite = SUITES[code]
        keys = TrafficKeys(os.urandom(suite.key_len), os.urandom(suite.iv_len))
        inner = payload + b"\x17"
        header = b"\x17\x03\x03" + (len(inner) + 16).to_bytes(2, "big")
        aead = AESGCM(keys.key) if "GCM" in suite.aead else ChaCha20Poly1305(keys.key)
        fragment = aead.encrypt(keys.iv, inner, header)
        dec = RecordDecryptor(suite, keys)

        def one():
            dec.seq = 0
            return dec.decrypt(header, fragment)

        n = 5000
        per = min(timeit.repeat(one, number=n, repeat=3)) / n
        print(f"decrypt 1 KiB record, {suite.name}: {per * 1e6:.1f} µs")


if __name__ == "__main__":
    main()
