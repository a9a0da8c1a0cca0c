#!/usr/bin/env python3
"""Independent verifier for Lizhi evidence bundles (format "lizhi-evidence/1").

Written only from docs/evidence.md and the public standards: RFC 9162 (Merkle tree
hashing, inclusion and consistency proof verification), the C2SP signed-note and
tlog-checkpoint specifications, RFC 8785 (canonical JSON) and RFC 3161 (via openssl).

    python verify_bundle.py [--all] BUNDLE.zip

Prints one line per check ("files", "events", "inclusion", "consistency",
"signatures", "timestamps"): "<check>: PASS", "<check>: SKIP (...)" or
"<check>: FAIL <first problem>". With --all every problem is listed below its line.
Exit status: 0 if every check passes (a SKIP counts as a pass), 1 if any fails,
2 on a usage error or if "cryptography" is missing. Needs Python 3.8+ and the "cryptography" package (Ed25519);
the timestamp check runs the "openssl" command line tool.
"""
import base64
import binascii
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

try:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
except ImportError:
    print("verify_bundle.py needs the 'cryptography' package: pip install cryptography",
          file=sys.stderr)
    sys.exit(2)

FORMAT = "lizhi-evidence/1"
NUM = r"(?:0|[1-9][0-9]*)"  # decimal without leading zeros
NUM_RE = re.compile(NUM + r"\Z")
HEX64_RE = re.compile(r"[0-9a-f]{64}\Z")
AT_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z\Z")
# Every path a bundle may contain (docs/evidence.md, "The evidence bundle").
LAYOUT_RE = re.compile(
    r"(?:MANIFEST\.json|VERIFY\.md|FORMAT\.md|keys\.txt|checkpoint\.txt"
    rf"|checkpoints/{NUM}\.txt|events/{NUM}\.json|openings/{NUM}\.json"
    rf"|proofs/inclusion/{NUM}\.json|proofs/consistency\.json"
    r"|(?:documents|attachments)/(?!\.\.?\Z)[^/\\\x00-\x1f]+"
    rf"|timestamps/{NUM}\.tsr|timestamps/tsa-ca\.pem)\Z")
EVENT_KEYS = {"v", "seq", "at", "action", "entity_type", "case", "case_prev", "actor",
              "entity", "before", "after", "docs", "request_id"}
OPENING_FIELDS = ("actor", "entity", "before", "after")


class Bad(Exception):
    """A problem with the bundle; the message names the file concerned."""


# ---------------------------------------------------------------- Merkle tree (RFC 9162)

def sha256(data):
    return hashlib.sha256(data).digest()


def leaf_hash(data):
    return sha256(b"\x00" + data)


def node_hash(left, right):
    return sha256(b"\x01" + left + right)


def root_from_inclusion(index, size, leaf, path):
    """RFC 9162 § 2.1.3.2: the root implied by an audit path (iterative form)."""
    if not 0 <= index < size:
        raise ValueError("leaf_index not below tree_size")
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            raise ValueError("audit path too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("audit path too short")
    return r


def verify_consistency(m, n, old_root, new_root, path):
    """RFC 9162 § 2.1.4.2: raise ValueError unless the size-m tree is a prefix of size n."""
    if m > n:
        raise ValueError("old_tree_size is larger than tree_size")
    if m == n or m == 0:  # nothing to prove; the proof must be empty
        if path:
            raise ValueError("proof must be empty for these sizes")
        if m == n and old_root != new_root:
            raise ValueError("equal sizes but different roots")
        if m == 0 and old_root != sha256(b""):
            raise ValueError("empty tree with a non-empty root")
        return
    if not path:
        raise ValueError("empty proof")
    path = list(path)
    if m & (m - 1) == 0:  # m is a power of two: the old root is a node of the new tree
        path.insert(0, old_root)
    fn, sn = m - 1, n - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ValueError("proof too long")
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    if sn != 0:
        raise ValueError("proof too short")
    if fr != old_root:
        raise ValueError("proof does not lead to the old root")
    if sr != new_root:
        raise ValueError("proof does not lead to the new root")


# ---------------------------------------------------------------- parsing helpers

def is_int(x):
    return isinstance(x, int) and not isinstance(x, bool)


def parse_json(files, path):
    """Strict JSON: UTF-8, no duplicate keys, no NaN/Infinity."""
    def no_dupes(pairs):
        obj = {}
        for k, v in pairs:
            if k in obj:
                raise ValueError(f"duplicate key {k!r}")
            obj[k] = v
        return obj

    def no_constants(name):
        raise ValueError(f"{name} is not JSON")
    try:
        return json.loads(files[path].decode("utf-8"), object_pairs_hook=no_dupes,
                          parse_constant=no_constants)
    except (UnicodeDecodeError, ValueError) as e:
        raise Bad(f"{path}: invalid JSON ({e})")


def canonical_json(obj):
    """RFC 8785 bytes for data made of objects, arrays, strings, integers and null."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False).encode("utf-8")


def hash_list(path, value):
    if not isinstance(value, list) or not all(isinstance(h, str) and HEX64_RE.match(h)
                                              for h in value):
        raise Bad(f"{path}: hashes must be a list of lowercase SHA-256 hex strings")
    return [bytes.fromhex(h) for h in value]


def proof_fields(files, path, keys):
    """Load a proof file whose keys are exactly `keys` + "hashes" (integers + hash list)."""
    proof = parse_json(files, path)
    if not isinstance(proof, dict) or set(proof) != set(keys) | {"hashes"}:
        raise Bad(f"{path}: keys must be exactly {sorted(set(keys) | {'hashes'})}")
    if not all(is_int(proof[k]) and proof[k] >= 0 for k in keys):
        raise Bad(f"{path}: {', '.join(keys)} must be non-negative integers")
    return [proof[k] for k in keys] + [hash_list(path, proof["hashes"])]


def b64_strict(text, what):
    """Standard base64 with padding, canonical (re-encodes to the same text)."""
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise Bad(f"{what}: invalid base64")
    if base64.b64encode(raw).decode("ascii") != text:
        raise Bad(f"{what}: non-canonical base64")
    return raw


def check_key_name(name, what):
    if not name or "+" in name or any(ch.isspace() for ch in name):
        raise Bad(f"{what}: invalid key name {name!r}")


def parse_keys(data):
    """keys.txt: one verifier key "<name>+<key ID hex>+<base64(0x01 || key)>" per line."""
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise Bad("keys.txt: not UTF-8")
    keys = {}
    for n, line in enumerate(lines, 1):
        if not line:
            continue
        what = f"keys.txt line {n}"
        parts = line.split("+", 2)  # the base64 part may itself contain "+"
        if len(parts) != 3:
            raise Bad(f"{what}: not <name>+<id>+<key>")
        name, hexid, b64 = parts
        check_key_name(name, what)
        if not re.fullmatch(r"[0-9a-f]{8}", hexid):
            raise Bad(f"{what}: key ID must be 8 lowercase hex digits")
        raw = b64_strict(b64, what)
        if len(raw) != 33 or raw[0] != 0x01:
            raise Bad(f"{what}: not an Ed25519 (type 0x01) key")
        key_id = sha256(name.encode("utf-8") + b"\n" + raw)[:4]
        if key_id.hex() != hexid:
            raise Bad(f"{what}: key ID mismatch ({hexid} given, {key_id.hex()} computed)")
        if (name, key_id) in keys:
            raise Bad(f"{what}: duplicate key")
        keys[(name, key_id)] = Ed25519PublicKey.from_public_bytes(raw[1:])
    if not keys:
        raise Bad("keys.txt: no keys")
    return keys


class Checkpoint:
    """A C2SP checkpoint (tlog-checkpoint) inside a signed note, parsed strictly."""

    def __init__(self, data, path):
        try:
            s = data.decode("utf-8")
        except UnicodeDecodeError:
            raise Bad(f"{path}: not UTF-8")
        if any(ch < " " and ch != "\n" for ch in s):
            raise Bad(f"{path}: control character in note")
        cut = s.rfind("\n\n")
        if not s.endswith("\n") or cut < 0:
            raise Bad(f"{path}: no blank line between text and signatures")
        self.text = s[:cut + 1].encode("utf-8")  # signed bytes: up to the blank line
        self.sigs = []
        for line in s[cut + 2:].split("\n")[:-1]:
            parts = line.split(" ")
            if len(parts) != 3 or parts[0] != "\u2014":
                raise Bad(f"{path}: malformed signature line {line!r}")
            check_key_name(parts[1], path)
            raw = b64_strict(parts[2], f"{path} signature")
            if len(raw) < 5:
                raise Bad(f"{path}: signature too short")
            self.sigs.append((parts[1], raw[:4], raw[4:]))
        if not self.sigs:
            raise Bad(f"{path}: no signature lines")
        lines = s[:cut].split("\n")
        if len(lines) < 3 or any(not line for line in lines):
            raise Bad(f"{path}: checkpoint needs origin, size, root and no empty lines")
        self.origin, size, root = lines[:3]
        if not NUM_RE.match(size):
            raise Bad(f"{path}: tree size {size!r} is not canonical decimal")
        self.size = int(size)
        self.root = b64_strict(root, f"{path} root hash")
        if len(self.root) != 32:
            raise Bad(f"{path}: root hash is not 32 bytes")


# ---------------------------------------------------------------- the bundle

class Bundle:
    def __init__(self, zip_path):
        self.files, self.zip_problems, self.cache = {}, [], {}
        with zipfile.ZipFile(zip_path) as zf:
            for info in zf.infolist():
                name = info.filename
                if not info.flag_bits & 0x800:  # no UTF-8 flag: zipfile used cp437
                    try:
                        name = name.encode("cp437").decode("utf-8")
                    except (UnicodeEncodeError, UnicodeDecodeError):
                        pass
                if info.is_dir():
                    continue  # directory entries carry no content
                if name in self.files:
                    self.zip_problems.append(f"{name}: duplicate zip entry")
                try:
                    self.files[name] = zf.read(info)
                except (zipfile.BadZipFile, RuntimeError, NotImplementedError,
                        OSError) as e:  # CRC error, encryption, unknown compression
                    self.zip_problems.append(f"{name}: unreadable ({e})")
        try:
            self.manifest = parse_json(self.files, "MANIFEST.json")
        except (Bad, KeyError):
            self.manifest = None

    def numbered(self, prefix, suffix):
        """{number: path} for files named <prefix><number><suffix>."""
        out = {}
        for path in self.files:
            if path.startswith(prefix) and path.endswith(suffix):
                num = path[len(prefix):len(path) - len(suffix)]
                if NUM_RE.match(num):
                    out[int(num)] = path
        return dict(sorted(out.items()))

    def checkpoint(self, path):
        if path not in self.files:
            raise Bad(f"{path}: missing")
        if path not in self.cache:
            try:
                self.cache[path] = Checkpoint(self.files[path], path)
            except Bad as e:
                self.cache[path] = e
        if isinstance(self.cache[path], Bad):
            raise self.cache[path]
        return self.cache[path]


# ---------------------------------------------------------------- the six checks
# Each returns (note, problems); an empty problem list means the check passed.

def check_files(b):
    p = list(b.zip_problems)
    m = b.manifest
    if not isinstance(m, dict):
        return "", p + ["MANIFEST.json: missing or not a JSON object"]
    if m.get("format") != FORMAT:
        p.append(f"MANIFEST.json: format is not {FORMAT!r}")
    subject = m.get("subject")
    if (not isinstance(m.get("created_at"), str) or not isinstance(m.get("origin"), str)
            or not m["origin"] or not isinstance(subject, dict)
            or subject.get("kind") not in ("case", "employee")
            or not (is_int(subject.get("id")) or isinstance(subject.get("id"), str))):
        p.append("MANIFEST.json: created_at, subject {kind, id} or origin malformed")
    entries = m.get("files")
    if not isinstance(entries, list):
        return "", p + ["MANIFEST.json: files is not a list"]
    listed = set()
    for e in entries:
        if (not isinstance(e, dict) or set(e) != {"path", "sha256", "size"}
                or not isinstance(e["path"], str) or not isinstance(e["sha256"], str)
                or not HEX64_RE.match(e["sha256"]) or not is_int(e["size"])):
            p.append(f"MANIFEST.json: malformed files entry {e!r}")
            continue
        path = e["path"]
        if path in listed or path == "MANIFEST.json":
            p.append(f"MANIFEST.json: {path} listed twice or lists itself")
        listed.add(path)
        data = b.files.get(path)
        if data is None:
            p.append(f"{path}: listed in manifest but missing")
        elif len(data) != e["size"] or hashlib.sha256(data).hexdigest() != e["sha256"]:
            p.append(f"{path}: SHA-256 or size differs from manifest")
    for path in sorted(b.files):
        if not LAYOUT_RE.match(path):
            p.append(f"{path}: unexpected file")
        elif path != "MANIFEST.json" and path not in listed:
            p.append(f"{path}: not listed in manifest")
    for path in ("keys.txt", "checkpoint.txt"):
        if path not in b.files:
            p.append(f"{path}: missing")
    return "", p


def event_problems(ev):
    if not isinstance(ev, dict):
        return ["not a JSON object"]
    if set(ev) != EVENT_KEYS:
        return [f"keys differ from the spec: {sorted(set(ev) ^ EVENT_KEYS)}"]
    p = []
    if ev["v"] != 1 or not is_int(ev["v"]):
        p.append("v is not 1")
    if not is_int(ev["seq"]) or ev["seq"] < 0:
        p.append("seq is not a non-negative integer")
    try:
        if not isinstance(ev["at"], str) or not AT_RE.match(ev["at"]):
            raise ValueError
        datetime.datetime.strptime(ev["at"], "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        p.append("at is not YYYY-MM-DDTHH:MM:SS.ffffffZ")
    if not all(isinstance(ev[k], str) and ev[k] for k in ("action", "entity_type")):
        p.append("action / entity_type must be non-empty strings")
    if not isinstance(ev["request_id"], str):
        p.append("request_id is not a string")
    if ev["case"] is not None and not is_int(ev["case"]):
        p.append("case is not an integer or null")
    if ev["case_prev"] is not None and not (is_int(ev["case_prev"]) and 0 <= ev["case_prev"] < ev["seq"]):
        p.append("case_prev is not null or an earlier position")
    for k in OPENING_FIELDS:
        ok = isinstance(ev[k], str) and HEX64_RE.match(ev[k])
        if not ok and not (k in ("before", "after") and ev[k] is None):
            p.append(f"{k} is not a lowercase SHA-256 hex commitment")
    if not isinstance(ev["docs"], list) or not all(
            isinstance(d, str) and HEX64_RE.match(d) for d in ev["docs"]):
        p.append("docs is not a list of lowercase SHA-256 hex strings")
    return p


def check_opening(b, path, ev):
    op = parse_json(b.files, path)
    if not isinstance(op, dict):
        raise Bad(f"{path}: not a JSON object")
    for field, o in op.items():
        if field not in OPENING_FIELDS:
            raise Bad(f"{path}: unknown field {field!r}")
        if (not isinstance(o, dict) or set(o) != {"salt", "value"}
                or not isinstance(o["salt"], str) or not HEX64_RE.match(o["salt"])
                or not isinstance(o["value"], str)):
            raise Bad(f"{path}: {field} must be {{salt: 32-byte hex, value: string}}")
        try:
            value = o["value"].encode("utf-8")
        except UnicodeEncodeError:
            raise Bad(f"{path}: {field} value is not valid Unicode")
        commitment = hashlib.sha256(bytes.fromhex(o["salt"]) + value).hexdigest()
        if ev.get(field) != commitment:
            raise Bad(f"{path}: opening of {field} does not match the commitment")


def check_events(b):
    p, all_docs = [], set()
    events = b.numbered("events/", ".json")
    if not events:
        p.append("no events in bundle")
    for seq, path in events.items():
        try:
            ev = parse_json(b.files, path)
            try:
                canonical = canonical_json(ev) == b.files[path]
            except UnicodeEncodeError:
                canonical = False
            if not canonical:
                raise Bad(f"{path}: not canonical JSON")
            p.extend(f"{path}: {problem}" for problem in event_problems(ev))
            if not isinstance(ev, dict):
                continue
            if ev.get("seq") != seq:
                p.append(f"{path}: seq {ev.get('seq')!r} does not match the file name")
            if isinstance(ev.get("docs"), list):
                all_docs.update(d for d in ev["docs"] if isinstance(d, str))
            prev = ev.get("case_prev")
            if is_int(prev) and prev not in events:
                p.append(f"{path}: follows event {prev} of its case, which is not in the bundle")
            opening = f"openings/{seq}.json"
            if opening in b.files:
                check_opening(b, opening, ev)
        except Bad as e:
            p.append(str(e))
    for seq, path in b.numbered("openings/", ".json").items():
        if seq not in events:
            p.append(f"{path}: no matching event")
    for path in sorted(b.files):
        if path.startswith(("documents/", "attachments/")):
            if hashlib.sha256(b.files[path]).hexdigest() not in all_docs:
                p.append(f"{path}: SHA-256 not in the docs of any event")
    return "", p


def check_inclusion(b):
    try:
        cp = b.checkpoint("checkpoint.txt")
    except Bad as e:
        return "", [str(e)]
    p = []
    events = b.numbered("events/", ".json")
    for seq, path in events.items():
        proof_path = f"proofs/inclusion/{seq}.json"
        try:
            if proof_path not in b.files:
                raise Bad(f"{path}: no inclusion proof")
            index, size, hashes = proof_fields(b.files, proof_path, ("leaf_index", "tree_size"))
            if index != seq:
                raise Bad(f"{proof_path}: leaf_index {index} is not seq {seq}")
            if size != cp.size:
                raise Bad(f"{proof_path}: tree_size {size} is not the checkpoint size {cp.size}")
            try:
                root = root_from_inclusion(seq, size, leaf_hash(b.files[path]), hashes)
            except ValueError as e:
                raise Bad(f"{path}: {e}")
            if root != cp.root:
                raise Bad(f"{path}: root mismatch")
        except Bad as e:
            p.append(str(e))
    for seq, path in b.numbered("proofs/inclusion/", ".json").items():
        if seq not in events:
            p.append(f"{path}: no matching event")
    return "", p


def check_consistency(b):
    path = "proofs/consistency.json"
    try:
        cp = b.checkpoint("checkpoint.txt")
        if path not in b.files:
            if set(b.numbered("checkpoints/", ".txt")) == {cp.size}:
                return "PASS (single checkpoint, nothing to prove)", []
            raise Bad(f"{path}: missing")
        old_size, size, hashes = proof_fields(b.files, path, ("old_tree_size", "tree_size"))
        if size != cp.size:
            raise Bad(f"{path}: tree_size {size} is not the size of checkpoint.txt ({cp.size})")
        if b.files.get(f"checkpoints/{size}.txt") != b.files["checkpoint.txt"]:
            raise Bad(f"checkpoints/{size}.txt: missing or differs from checkpoint.txt")
        old = b.checkpoint(f"checkpoints/{old_size}.txt")
        if old.size != old_size or old.origin != cp.origin:
            raise Bad(f"checkpoints/{old_size}.txt: wrong size or origin for the old tree")
        verify_consistency(old_size, size, old.root, cp.root, hashes)
    except Bad as e:
        return "", [str(e)]
    except ValueError as e:
        return "", [f"{path}: {e}"]
    return "", []


def check_signatures(b):
    p = []
    origin = b.manifest.get("origin") if isinstance(b.manifest, dict) else None
    if not isinstance(origin, str):
        p.append("MANIFEST.json: no origin to compare checkpoints with")
    try:
        keys = parse_keys(b.files["keys.txt"]) if "keys.txt" in b.files else {}
        if not keys:
            raise Bad("keys.txt: missing")
    except Bad as e:
        return "", p + [str(e)]
    paths = ["checkpoint.txt"] + list(b.numbered("checkpoints/", ".txt").values())
    for path in paths:
        try:
            cp = b.checkpoint(path)
        except Bad as e:
            p.append(str(e))
            continue
        if path != "checkpoint.txt" and path != f"checkpoints/{cp.size}.txt":
            p.append(f"{path}: holds a checkpoint of size {cp.size}")
        if isinstance(origin, str) and cp.origin != origin:
            p.append(f"{path}: origin {cp.origin!r} differs from the manifest origin")
        valid = 0
        for name, key_id, sig in cp.sigs:
            key = keys.get((name, key_id))
            if key is None:
                continue  # signed-note: signatures by unknown keys are ignored
            try:
                if len(sig) != 64:
                    raise InvalidSignature
                key.verify(sig, cp.text)
                valid += 1
            except InvalidSignature:
                p.append(f"{path}: invalid signature by known key {name}")
        if not valid:
            p.append(f"{path}: no valid signature by a key in keys.txt")
        if path == "checkpoint.txt" and \
                b.files.get(f"checkpoints/{cp.size}.txt") != b.files[path]:
            p.append(f"checkpoint.txt: not identical to checkpoints/{cp.size}.txt")
    return "", p


def check_timestamps(b):
    tokens = b.numbered("timestamps/", ".tsr")
    if not tokens:
        return "SKIP (none in bundle)", []
    if "timestamps/tsa-ca.pem" not in b.files:
        return "", ["timestamps/tsa-ca.pem: missing, tokens cannot be verified"]
    openssl = shutil.which("openssl")
    if openssl is None:
        return "", ["openssl not found on PATH"]
    p = []
    with tempfile.TemporaryDirectory() as tmp:
        ca = os.path.join(tmp, "tsa-ca.pem")
        with open(ca, "wb") as f:
            f.write(b.files["timestamps/tsa-ca.pem"])
        for size, path in tokens.items():
            try:
                root = b.checkpoint(f"checkpoints/{size}.txt").root
            except Bad as e:
                p.append(f"{path}: no usable checkpoint of size {size} ({e})")
                continue
            token = b.files[path]
            # messageImprint.hashedMessage is DER OCTET STRING 04 20 <32 bytes>.
            if b"\x04\x20" + root not in token:
                p.append(f"{path}: imprint is not the root of checkpoints/{size}.txt")
                continue
            tsr = os.path.join(tmp, f"{size}.tsr")
            with open(tsr, "wb") as f:
                f.write(token)
            run = subprocess.run([openssl, "ts", "-verify", "-digest", root.hex(),
                                  "-in", tsr, "-CAfile", ca],
                                 capture_output=True, text=True, errors="replace")
            if run.returncode != 0 or "Verification: OK" not in run.stdout:
                why = (run.stderr.strip() or run.stdout.strip()).splitlines()
                p.append(f"{path}: openssl ts -verify failed"
                         + (f" ({why[-1]})" if why else ""))
    return "", p


CHECKS = [("files", check_files), ("events", check_events), ("inclusion", check_inclusion),
          ("consistency", check_consistency), ("signatures", check_signatures),
          ("timestamps", check_timestamps)]


def main(argv):
    args = argv[1:]
    show_all = "--all" in args
    args = [a for a in args if a != "--all"]
    if len(args) != 1 or args[0].startswith("-"):
        print("usage: verify_bundle.py [--all] BUNDLE.zip", file=sys.stderr)
        return 2
    try:
        bundle = Bundle(args[0])
    except (OSError, zipfile.BadZipFile, zipfile.LargeZipFile) as e:
        for name, _ in CHECKS:
            print(f"{name}: FAIL cannot read bundle: {e}")
        return 1
    ok = True
    for name, check in CHECKS:
        try:
            note, problems = check(bundle)
        except Exception as e:  # never crash with a traceback: an error is a failure
            note, problems = "", [f"internal error: {e!r}"]
        if problems:
            ok = False
            more = f" (+{len(problems) - 1} more)" if len(problems) > 1 and not show_all else ""
            print(f"{name}: FAIL {problems[0]}{more}")
            if show_all:
                for problem in problems[1:]:
                    print(f"    {problem}")
        else:
            print(f"{name}: {note or 'PASS'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
