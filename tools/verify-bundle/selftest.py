#!/usr/bin/env python3
"""Self-test for verify_bundle.py.

1. Checks the verifier's iterative RFC 9162 proof verification against proofs made
   by an independent *recursive* implementation of MTH / PATH / SUBPROOF
   (RFC 9162 §§ 2.1.1, 2.1.3.1, 2.1.4.1), and MTH against the RFC 6962 test vector.
2. Builds a small valid evidence bundle from docs/evidence.md alone (Ed25519 keys,
   events with openings, a document, two checkpoints, proofs, manifest and, when the
   openssl tool is available, an RFC 3161 token from a throw-away test TSA), checks that
   the verifier accepts it, then that each tampered copy fails in exactly the expected
   checks.

Run:  /var/tmp/lizhi-venv/bin/python tools/verify-bundle/selftest.py
"""
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

HERE = os.path.dirname(os.path.abspath(__file__))
VERIFIER = os.path.join(HERE, "verify_bundle.py")
sys.path.insert(0, HERE)
sys.dont_write_bytecode = True  # leave no __pycache__ next to the tool
import verify_bundle as vb  # noqa: E402  (only its proof *verification* functions)

ORIGIN = "lizhi.example/audit"
ALL = {"files", "events", "inclusion", "consistency", "signatures", "timestamps"}


# ------------------------------------------------ recursive Merkle tree (generation side)

def H(data):
    return hashlib.sha256(data).digest()


def split_point(n):
    """Largest power of two strictly below n (n >= 2)."""
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def mth(leaves):
    if not leaves:
        return H(b"")
    if len(leaves) == 1:
        return H(b"\x00" + leaves[0])
    k = split_point(len(leaves))
    return H(b"\x01" + mth(leaves[:k]) + mth(leaves[k:]))


def audit_path(m, leaves):
    """PATH(m, D[n]) from RFC 9162 § 2.1.3.1."""
    if len(leaves) == 1:
        return []
    k = split_point(len(leaves))
    if m < k:
        return audit_path(m, leaves[:k]) + [mth(leaves[k:])]
    return audit_path(m - k, leaves[k:]) + [mth(leaves[:k])]


def subproof(m, leaves, complete):
    """SUBPROOF(m, D[n], b) from RFC 9162 § 2.1.4.1."""
    n = len(leaves)
    if m == n:
        return [] if complete else [mth(leaves)]
    k = split_point(n)
    if m <= k:
        return subproof(m, leaves[:k], complete) + [mth(leaves[k:])]
    return subproof(m - k, leaves[k:], False) + [mth(leaves[:k])]


def test_merkle():
    vector = ["", "00", "10", "2021", "3031", "40414243", "5051525354555657",
              "606162636465666768696a6b6c6d6e6f"]
    data = [bytes.fromhex(h) for h in vector]
    expected = "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"
    assert mth(data).hex() == expected, "RFC 6962 test vector"
    data += [bytes([i]) * i for i in range(8, 21)]  # 21 leaves in all
    for n in range(1, len(data) + 1):
        tree, root = data[:n], mth(data[:n])
        for m in range(n):
            leaf, p = H(b"\x00" + tree[m]), audit_path(m, tree)
            assert vb.root_from_inclusion(m, n, leaf, p) == root, (m, n)
            if n == 8:  # the verifier reproduces the RFC 6962 root from every leaf
                assert root.hex() == expected
            for bad in (p[:-1], p + [root], [H(x) for x in p]):
                if bad != p:
                    try:
                        assert vb.root_from_inclusion(m, n, leaf, bad) != root, (m, n)
                    except ValueError:
                        pass
        for m in range(1, n + 1):
            old, p = mth(data[:m]), subproof(m, tree, True)
            vb.verify_consistency(m, n, old, root, p)
            for bad_old, bad_p in ((H(old), p), (old, p[:-1]), (old, p + [old])):
                if (bad_old, bad_p) == (old, p):
                    continue
                try:
                    vb.verify_consistency(m, n, bad_old, root, bad_p)
                    raise AssertionError(f"bad consistency proof accepted {m} {n}")
                except ValueError:
                    pass
    print("merkle: RFC 6962 vector and recursive-vs-iterative proofs OK")


# ------------------------------------------------ building a bundle from the spec

def b64(raw):
    return base64.b64encode(raw).decode()


def canon(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class Signer:
    def __init__(self, name):
        self.name, self.priv = name, Ed25519PrivateKey.generate()
        pub = self.priv.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = H(name.encode() + b"\n\x01" + pub)[:4]
        self.vkey = f"{name}+{self.key_id.hex()}+" + b64(b"\x01" + pub)

    def line(self, text):
        return f"\u2014 {self.name} {b64(self.key_id + self.priv.sign(text))}\n".encode()


def checkpoint(size, root, signers):
    text = f"{ORIGIN}\n{size}\n{b64(root)}\n".encode()
    return text + b"\n" + b"".join(s.line(text) for s in signers)


def commit(value):
    salt = os.urandom(32)
    return {"salt": salt.hex(), "value": value}, H(salt + value.encode()).hex()


def build_log(doc):
    """An 11-event log; events 2, 5 and 9 belong to case 7 and go into the bundle."""
    leaves, openings = [], {}
    for seq in range(11):
        ops = {}
        actor_op, actor = commit(f"user:{seq % 3}")
        entity_op, entity = commit("case:7" if seq in (2, 5, 9) else f"employee:E{seq:03}")
        after_op, after = commit(canon({"step": f"s{seq}", "note": "已确认离职 ✓"}).decode())
        before = None
        if seq:
            before_op, before = commit(canon({"step": f"s{seq - 1}"}).decode())
            ops["before"] = before_op
        ops.update(actor=actor_op, entity=entity_op, after=after_op)
        event = {"v": 1, "seq": seq, "at": f"2025-03-0{1 + seq % 9}T08:15:{seq:02}.123456Z",
                 "action": "case.open" if seq == 2 else "case.step",
                 "entity_type": "case" if seq in (2, 5, 9) else "employee",
                 "case": 7 if seq in (2, 5, 9) else None,
                 "case_prev": {5: 2, 9: 5}.get(seq), "actor": actor,
                 "entity": entity, "before": before, "after": after,
                 "docs": [hashlib.sha256(doc).hexdigest()] if seq == 5 else [],
                 "request_id": f"req-{seq:04}"}
        leaves.append(canon(event))
        openings[seq] = ops
    return leaves, openings


def build_bundle(with_tsa):
    old_key, new_key, witness = (Signer(ORIGIN + "/2024"), Signer(ORIGIN),
                                 Signer("witness.example/w1"))
    doc = "离职证明\nCertificate of separation for case 7.\n".encode()
    leaves, openings = build_log(doc)
    files = {
        "VERIFY.md": b"# Verify\n",
        "keys.txt": f"{old_key.vkey}\n{new_key.vkey}\n".encode(),
        # first checkpoint of the case: old key only; after rotation both keys sign,
        # plus a witness the verifier does not know (must be ignored).
        "checkpoints/4.txt": checkpoint(4, mth(leaves[:4]), [old_key]),
        "checkpoints/11.txt": checkpoint(11, mth(leaves), [new_key, old_key, witness]),
        "proofs/consistency.json": canon({"old_tree_size": 4, "tree_size": 11, "hashes": [
            h.hex() for h in subproof(4, leaves, True)]}),
        "documents/离职证明.txt": doc,
    }
    files["checkpoint.txt"] = files["checkpoints/11.txt"]
    for seq in (2, 5, 9):
        files[f"events/{seq}.json"] = leaves[seq]
        files[f"proofs/inclusion/{seq}.json"] = canon({
            "leaf_index": seq, "tree_size": 11,
            "hashes": [h.hex() for h in audit_path(seq, leaves)]})
    files["openings/2.json"] = canon(openings[2])
    files["openings/5.json"] = canon({k: openings[5][k] for k in ("actor", "after")})
    # (the openings of event 9 were purged)
    tokens = {}
    if with_tsa:
        tokens = make_tokens({4: mth(leaves[:4]), 11: mth(leaves)})
        files["timestamps/tsa-ca.pem"] = tokens.pop("ca")
        files["timestamps/11.tsr"] = tokens[11]
    return with_manifest(files), tokens, new_key


def with_manifest(files, origin=ORIGIN):
    files = {k: v for k, v in files.items() if k != "MANIFEST.json"}
    entries = [{"path": p, "sha256": hashlib.sha256(d).hexdigest(), "size": len(d)}
               for p, d in sorted(files.items())]
    files["MANIFEST.json"] = json.dumps({
        "format": "lizhi-evidence/1", "created_at": "2025-03-10T09:00:00.000000Z",
        "subject": {"kind": "case", "id": 7}, "origin": origin, "files": entries},
        ensure_ascii=False, indent=2).encode()
    return files


def make_tokens(roots):
    """A throw-away RFC 3161 TSA with the openssl tool; returns {size: DER, "ca": PEM}."""
    tmp = tempfile.mkdtemp()

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)
    try:
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        ossl("req", "-x509", "-new", *ec, "-keyout", "ca.key", "-out", "ca.pem",
             "-subj", "/CN=Selftest TSA CA", "-days", "2",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        ossl("req", "-new", *ec, "-keyout", "tsa.key", "-out", "tsa.csr",
             "-subj", "/CN=Selftest TSA")
        with open(os.path.join(tmp, "ext.cnf"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=critical,timeStamping\n")
        ossl("x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-set_serial", "2", "-days", "2", "-extfile", "ext.cnf", "-out", "tsa.pem")
        with open(os.path.join(tmp, "tsa.cnf"), "w") as f:
            f.write(f"[tsa]\ndefault_tsa = t\n[t]\nserial = {tmp}/serial\n"
                    f"signer_cert = {tmp}/tsa.pem\nsigner_key = {tmp}/tsa.key\n"
                    "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\n"
                    "digests = sha256\ness_cert_id_alg = sha256\n")
        with open(os.path.join(tmp, "serial"), "w") as f:
            f.write("01\n")
        out = {}
        for size, root in roots.items():
            ossl("ts", "-query", "-digest", root.hex(), "-sha256", "-cert", "-out", "q.tsq")
            ossl("ts", "-reply", "-config", "tsa.cnf", "-queryfile", "q.tsq",
                 "-out", f"{size}.tsr")
            with open(os.path.join(tmp, f"{size}.tsr"), "rb") as f:
                out[size] = f.read()
        with open(os.path.join(tmp, "ca.pem"), "rb") as f:
            out["ca"] = f.read()
        return out
    finally:
        shutil.rmtree(tmp)


# ------------------------------------------------ running the verifier

def verify(files, tmpdir, name):
    path = os.path.join(tmpdir, name + ".zip")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for p, data in files.items():
            zf.writestr(p, data)
    run = subprocess.run([sys.executable, VERIFIER, path], capture_output=True, text=True)
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    assert set(lines) == ALL and not run.stderr, (run.stdout, run.stderr)
    return run.returncode, {d for d, s in lines.items() if s.startswith("FAIL")}, run.stdout


def replace(path, old, new):
    def mutate(f):
        assert old in f[path], (path, old)
        f[path] = f[path].replace(old, new, 1)
    return mutate


def edit_json(path, **changes):
    def mutate(f):
        obj = json.loads(f[path])
        obj.update(changes)
        f[path] = canon(obj)
    return mutate


def both_checkpoints(mutate_one):
    def mutate(f):
        mutate_one(f)
        f["checkpoints/11.txt"] = f["checkpoint.txt"]
    return mutate


def forge_signature(key):
    """Flip a bit in the signature made by `key` in checkpoint.txt."""
    def mutate(f):
        lines = f["checkpoint.txt"].decode().split("\n")
        for i, line in enumerate(lines):
            if line.startswith(f"\u2014 {key.name} "):
                raw = bytearray(base64.b64decode(line.split(" ")[2]))
                raw[10] ^= 1
                lines[i] = f"\u2014 {key.name} {b64(bytes(raw))}"
        f["checkpoint.txt"] = "\n".join(lines).encode()
    return both_checkpoints(mutate)


def drop(*paths):
    def mutate(f):
        for p in paths:
            del f[p]
    return mutate


def main():
    test_merkle()
    have_openssl = shutil.which("openssl") is not None
    files, tokens, new_key = build_bundle(have_openssl)
    doc = "documents/离职证明.txt"
    cases = [  # (name, mutation, fix the manifest up afterwards?, expected failures)
        ("changed byte in event", replace("events/5.json", b"req-0005", b"req-0006"),
         True, {"inclusion"}),
        ("changed byte in event, stale manifest",
         replace("events/5.json", b"req-0005", b"req-0006"), False, {"files", "inclusion"}),
        ("dropped event", drop("events/5.json"), True, {"events", "inclusion"}),
        ("dropped event with its proof and opening",
         lambda f: [f.pop(k) for k in ("events/5.json", "proofs/inclusion/5.json", "openings/5.json")],
         True, {"events"}),
        ("swapped document", lambda f: f.update({doc: b"another letter\n"}), True, {"events"}),
        ("forged signature", forge_signature(new_key), True, {"signatures"}),
        ("inclusion proof tree_size changed",
         edit_json("proofs/inclusion/2.json", tree_size=12), True, {"inclusion"}),
        ("inclusion proof leaf_index changed",
         edit_json("proofs/inclusion/9.json", leaf_index=8), True, {"inclusion"}),
        ("consistency tree_size changed",
         edit_json("proofs/consistency.json", tree_size=10), True, {"consistency"}),
        ("consistency old size without checkpoint",
         edit_json("proofs/consistency.json", old_tree_size=5), True, {"consistency"}),
        ("non-canonical event", replace("events/9.json", b'{"', b'{ "'), True,
         {"events", "inclusion"}),
        ("seq does not match file name", replace("events/9.json", b'"seq":9', b'"seq":8'),
         True, {"events", "inclusion"}),
        ("opening does not match", replace("openings/2.json", b"user:", b"user;"), True,
         {"events"}),
        ("unknown extra file", lambda f: f.update({"notes.txt": b"hi"}), True, {"files"}),
        ("file missing from manifest", lambda f: f.update({
            "MANIFEST.json": f["MANIFEST.json"].replace(b'"path": "VERIFY.md"',
                                                        b'"path": "VERIFY.txt"')}),
         False, {"files"}),
        ("key ID mismatch", replace("keys.txt", new_key.key_id.hex().encode(), b"00000000"),
         True, {"signatures"}),
        ("origin differs from manifest", lambda f: f.update(
            with_manifest(f, origin="other.example/log")), False, {"signatures"}),
        ("size with leading zero", both_checkpoints(replace("checkpoint.txt", b"\n11\n",
                                                            b"\n011\n")),
         True, {"inclusion", "consistency", "signatures"} | ({"timestamps"} if have_openssl
                                                             else set())),
        ("hyphen instead of em dash", replace("checkpoints/4.txt", "\u2014 ".encode(), b"- "),
         True, {"consistency", "signatures"}),
        ("keys.txt missing", drop("keys.txt"), True, {"files", "signatures"}),
        ("checkpoints signed only by unknown keys", lambda f: f.update(
            {"keys.txt": Signer(ORIGIN).vkey.encode() + b"\n"}), True, {"signatures"}),
    ]
    if have_openssl:
        cases += [
            ("timestamp of another checkpoint",
             lambda f: f.update({"timestamps/11.tsr": tokens[4]}), True, {"timestamps"}),
            ("timestamp for a size without checkpoint", lambda f: f.update(
                {"timestamps/5.tsr": f.pop("timestamps/11.tsr")}), True, {"timestamps"}),
            ("timestamp CA missing", drop("timestamps/tsa-ca.pem"), True, {"timestamps"}),
            ("timestamp CA wrong", lambda f: f.update(
                {"timestamps/tsa-ca.pem": make_tokens({})["ca"]}), True, {"timestamps"}),
        ]
    failures = 0
    with tempfile.TemporaryDirectory() as tmp:
        rc, failed, out = verify(files, tmp, "valid")
        ok = rc == 0 and not failed
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} valid bundle accepted")
        if not ok or "--verbose" in sys.argv:
            print(out)
        no_tsa = {k: v for k, v in files.items() if not k.startswith("timestamps/")}
        rc, failed, out = verify(with_manifest(no_tsa), tmp, "valid-no-tsa")
        ok = rc == 0 and "timestamps: SKIP (none in bundle)" in out
        failures += not ok
        print(f"{'ok  ' if ok else 'FAIL'} valid bundle without timestamps accepted")
        for i, (name, mutate, fix, expected) in enumerate(cases):
            tampered = dict(files)
            mutate(tampered)
            if fix:
                tampered = with_manifest(tampered)
            rc, failed, out = verify(tampered, tmp, f"case{i}")
            ok = rc == 1 and failed == expected
            failures += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {name}: fails {sorted(failed)}")
            if not ok or "--verbose" in sys.argv:
                print(f"     expected {sorted(expected)}\n" + out)
    if not have_openssl:
        print("note: openssl not found, RFC 3161 timestamp cases skipped")
    print("selftest:", "PASSED" if not failures else f"{failures} FAILED")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
