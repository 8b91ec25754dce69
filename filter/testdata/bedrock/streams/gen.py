"""Build the binary ConverseStream transcripts (<name>.in.bin) from <name>.events.json.

An independent encoder (Python's zlib.crc32, not the filter's CRC code); every written
file is then decoded with botocore's own event stream parser, which checks both CRCs
(files marked "corrupt" must make it fail). Run with the project venv:

    .venv/bin/python filter/testdata/bedrock/streams/gen.py [--check]

--check only verifies that the .bin files match their specs (used by the e2e suite).

Spec: {"events": [message, ...], "truncate_bytes": N (optional: cut the end off)}, message = {"headers": {name: value}, "payload": JSON
value or {"raw": "text"}, "corrupt": "prelude"|"message" (optional)}. A header value is a
string, or [type, value] with type one of bool/byte/short/int/long/bytes/timestamp/uuid.
"""

import json
import struct
import sys
import zlib
from pathlib import Path

HERE = Path(__file__).resolve().parent
TYPES = {"bool": None, "byte": 2, "short": 3, "int": 4, "long": 5, "bytes": 6, "string": 7,
         "timestamp": 8, "uuid": 9}


def header(name, value):
    out = bytes([len(name)]) + name.encode()
    kind, v = ("string", value) if isinstance(value, str) else value
    if kind == "bool":
        return out + bytes([0 if v else 1])
    code = TYPES[kind]
    out += bytes([code])
    if kind == "byte":
        return out + struct.pack(">b", v)
    if kind == "short":
        return out + struct.pack(">h", v)
    if kind == "int":
        return out + struct.pack(">i", v)
    if kind in ("long", "timestamp"):
        return out + struct.pack(">q", v)
    if kind == "uuid":
        return out + bytes.fromhex(v)
    data = v.encode() if kind == "string" else bytes.fromhex(v)
    return out + struct.pack(">H", len(data)) + data


def message(spec):
    headers = b"".join(header(k, v) for k, v in spec.get("headers", {}).items())
    payload = spec.get("payload")
    if isinstance(payload, dict) and set(payload) == {"raw"}:
        body = payload["raw"].encode()
    elif payload is None:
        body = b""
    else:
        body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    total = 12 + len(headers) + len(body) + 4
    prelude = struct.pack(">II", total, len(headers))
    prelude_crc = zlib.crc32(prelude)
    if spec.get("corrupt") == "prelude":
        prelude_crc ^= 1
    msg = prelude + struct.pack(">I", prelude_crc) + headers + body
    crc = zlib.crc32(msg)
    if spec.get("corrupt") == "message":
        crc ^= 0x80000000
    return msg + struct.pack(">I", crc)


def build(spec):
    data = b"".join(message(m) for m in spec["events"])
    return data[: len(data) - spec.get("truncate_bytes", 0)]


def botocore_decodes(data):
    from botocore.eventstream import EventStreamBuffer

    buf = EventStreamBuffer()
    buf.add_data(data)
    return [(m.headers, m.payload) for m in buf]


def main():
    check = "--check" in sys.argv
    for spec_path in sorted(HERE.glob("*.events.json")):
        name = spec_path.name.removesuffix(".events.json")
        spec = json.loads(spec_path.read_text())
        data = build(spec)
        out = HERE / f"{name}.in.bin"
        if check:
            assert out.read_bytes() == data, f"{out.name} does not match its spec"
        else:
            out.write_bytes(data)
        corrupt = any("corrupt" in m for m in spec["events"])
        try:
            decoded = botocore_decodes(data)
        except Exception as e:  # botocore raises ChecksumMismatch subclasses
            assert corrupt, f"{name}: botocore rejected a valid transcript: {e!r}"
            continue
        assert not corrupt, f"{name}: botocore accepted a corrupt transcript"
        whole = len(spec["events"]) - (1 if spec.get("truncate_bytes") else 0)
        assert len(decoded) == whole, name
    print("ok")


if __name__ == "__main__":
    main()
