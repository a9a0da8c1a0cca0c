//! Request bytes, hand-made responses, and round trips through a throw-away OpenSSL TSA when `openssl` exists.

use super::*;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

const DIGEST: [u8; 32] = [0x11; 32];

fn hex_bytes(s: &str) -> Vec<u8> {
    hex::decode(s.split_whitespace().collect::<String>()).unwrap()
}

#[test]
fn request_bytes_are_exact_der() {
    let expected = hex_bytes(
        "30 43
           02 01 01
           30 31
             30 0d 06 09 60 86 48 01 65 03 04 02 01 05 00
             04 20 1111111111111111111111111111111111111111111111111111111111111111
           02 08 01 02 03 04 05 06 07 08
           01 01 ff",
    );
    assert_eq!(request(&DIGEST, 0x0102_0304_0506_0708), expected);
}

#[test]
fn request_nonce_is_a_positive_minimal_integer() {
    let nonce_of = |n: u64| {
        let req = request(&DIGEST, n);
        let mut r = der::single(&req, der::SEQUENCE).unwrap().reader();
        assert_eq!(r.expect(der::INTEGER).unwrap().value, [1]);
        let imprint = r.expect(der::SEQUENCE).unwrap();
        assert_eq!(imprint.raw.len(), 51);
        let nonce = r.expect(der::INTEGER).unwrap();
        assert_eq!(r.expect(der::BOOLEAN).unwrap().value, [0xff]);
        r.finish().unwrap();
        assert_eq!(der::small_uint(nonce.value).unwrap(), n);
        nonce.raw.to_vec()
    };
    assert_eq!(nonce_of(0), [0x02, 0x01, 0x00]);
    assert_eq!(nonce_of(0x7f), [0x02, 0x01, 0x7f]);
    assert_eq!(nonce_of(0x80), [0x02, 0x02, 0x00, 0x80]);
    assert_eq!(nonce_of(0x0100), [0x02, 0x02, 0x01, 0x00]);
    assert_eq!(nonce_of(0x8000_0000_0000_0001), hex_bytes("02 09 00 80 00 00 00 00 00 00 01"));
    assert_eq!(nonce_of(u64::MAX), hex_bytes("02 09 00 ff ff ff ff ff ff ff ff"));
}

#[test]
fn sha256_oid_constant_is_sha256() {
    assert_eq!(der::oid_string(&SHA256_OID_CONTENT).unwrap(), x509::SHA256);
}

/// A TimeStampResp with only a status: `30 { 30 { INTEGER status, [SEQUENCE OF UTF8String], [BIT STRING] } }`.
fn status_only(status: u8, text: Option<&str>, fail_bits: Option<&[u8]>) -> Vec<u8> {
    let mut info = der::tlv(der::INTEGER, &[status]);
    if let Some(text) = text {
        der::write(&mut info, der::SEQUENCE, &der::tlv(der::UTF8_STRING, text.as_bytes()));
    }
    if let Some(bits) = fail_bits {
        der::write(&mut info, der::BIT_STRING, bits);
    }
    der::tlv(der::SEQUENCE, &der::tlv(der::SEQUENCE, &info))
}

#[test]
fn rejection_carries_status_fail_info_and_text() {
    // badAlg is bit 0: one octet 0x80 with 7 unused bits.
    let resp = status_only(2, Some("unsupported algorithm"), Some(&[0x07, 0x80]));
    let err = parse_response(&resp).unwrap_err();
    assert_eq!(
        err,
        TspError::Rejected {
            status: 2,
            status_string: Some("unsupported algorithm".into()),
            fail_info: vec!["badAlg".into()]
        }
    );
    assert_eq!(err.code(), "rejected");
    assert_eq!(
        err.to_string(),
        "the timestamp authority refused the request: status 2 (rejection), failInfo badAlg, \"unsupported algorithm\""
    );
    assert_eq!(verify(&resp, &DIGEST, None, None).unwrap_err().code(), "rejected");
    let waiting = parse_response(&status_only(3, None, None)).unwrap_err();
    assert_eq!(waiting, TspError::Rejected { status: 3, status_string: None, fail_info: vec![] });
}

#[test]
fn granted_without_token_and_garbage_are_refused() {
    assert_eq!(parse_response(&status_only(0, None, None)).unwrap_err(), TspError::MissingToken);
    assert_eq!(parse_response(&status_only(1, None, None)).unwrap_err().code(), "missing_token");
    let mut trailing = status_only(0, None, None);
    trailing.push(0);
    assert_eq!(parse_response(&trailing).unwrap_err().code(), "malformed");
    assert_eq!(parse_response(&[0x30, 0x80, 0x00, 0x00]).unwrap_err().code(), "malformed");
    assert_eq!(parse_response(b"").unwrap_err().code(), "malformed");
    assert_eq!(parse_response(b"not der at all").unwrap_err().code(), "malformed");
}

#[test]
fn pem_blocks_decode_to_der() {
    let pem = "junk before\n-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n\
               -----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n";
    assert_eq!(pem_to_der(pem).unwrap(), [0x30, 0x03, 0x02, 0x01, 0x01]);
    assert_eq!(pem_to_der("nothing").unwrap_err().code(), "bad_pem");
    assert!(pem_to_der("-----BEGIN CERTIFICATE-----\nMAMCAQE=\n").is_err());
    assert!(pem_to_der("-----BEGIN CERTIFICATE-----\n!!!\n-----END CERTIFICATE-----").is_err());
    assert!(pem_to_der("-----BEGIN CERTIFICATE-----\nBAA=\n-----END CERTIFICATE-----").is_err());
}

// ---- Round trips through `openssl ts -reply` -------------------------------------------------------------

fn openssl_available() -> bool {
    let found = Command::new("openssl").arg("version").output().is_ok_and(|o| o.status.success());
    if !found {
        eprintln!("openssl not found; skipping the RFC 3161 round-trip test");
    }
    found
}

fn run(mut cmd: impl std::borrow::BorrowMut<Command>) -> Vec<u8> {
    let cmd = cmd.borrow_mut();
    let out = cmd.output().expect("run openssl");
    assert!(out.status.success(), "{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

#[derive(Clone, Copy)]
enum Key {
    Rsa,
    P256,
    P384,
}

impl Key {
    fn genpkey_args(self) -> &'static [&'static str] {
        match self {
            Key::Rsa => &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
            Key::P256 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
            Key::P384 => &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
        }
    }
}

/// A throw-away CA and TSA in a unique temporary directory, removed on drop.
struct Pki {
    dir: PathBuf,
}

const CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa]
default_tsa = tsa_config1
[tsa_config1]
dir = @DIR@
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = @DIGEST@
default_policy = 1.2.3.4.1
other_policies = 1.2.3.4.5
digests = sha256, sha384, sha512
accuracy = secs:1, millisecs:500, microsecs:100
clock_precision_digits = 3
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = @ESS@
";

impl Pki {
    fn new(name: &str, ca: Key, tsa: Key, signer_digest: &str, ess_alg: &str, ca_sigopts: &[&str]) -> Pki {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("lizhi-tsp-{}-{name}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        let config = CONFIG
            .replace("@DIR@", pki.dir.to_str().unwrap())
            .replace("@DIGEST@", signer_digest)
            .replace("@ESS@", ess_alg);
        std::fs::write(pki.path("openssl.cnf"), config).unwrap();
        std::fs::write(pki.path("serial"), "01\n").unwrap();
        pki.self_signed("ca", ca, "/CN=Lizhi Test CA");
        pki.genpkey("tsa.key", tsa);
        run(pki.openssl(&["req", "-new", "-key", "tsa.key", "-subj", "/O=Lizhi/CN=Lizhi Test TSA", "-out", "tsa.csr"]));
        let mut sign = pki.openssl(&["x509", "-req", "-in", "tsa.csr", "-CA", "ca.pem", "-CAkey", "ca.key"]);
        sign.args(["-set_serial", "4660", "-days", "3650", "-sha256", "-out", "tsa.pem"]);
        sign.args(["-extfile", "openssl.cnf", "-extensions", "tsa_ext"]).args(ca_sigopts);
        run(&mut sign);
        pki
    }

    fn path(&self, file: &str) -> PathBuf {
        self.dir.join(file)
    }

    fn openssl(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("openssl");
        cmd.current_dir(&self.dir).args(args);
        if args.first().is_some_and(|a| *a == "req") {
            cmd.args(["-config", "openssl.cnf"]);
        }
        cmd
    }

    fn genpkey(&self, file: &str, key: Key) {
        run(self.openssl(&["genpkey"]).args(key.genpkey_args()).args(["-out", file]));
    }

    /// Makes `<stem>.key` and a self-signed CA certificate `<stem>.pem`, returning its DER.
    fn self_signed(&self, stem: &str, key: Key, subject: &str) -> Vec<u8> {
        let (key_file, pem_file) = (format!("{stem}.key"), format!("{stem}.pem"));
        self.genpkey(&key_file, key);
        run(self.openssl(&["req", "-x509", "-new", "-key", &key_file, "-subj", subject, "-days", "3650"]).args([
            "-sha256",
            "-extensions",
            "ca_ext",
            "-out",
            &pem_file,
        ]));
        self.der(&pem_file)
    }

    fn der(&self, pem_file: &str) -> Vec<u8> {
        pem_to_der(&std::fs::read_to_string(self.path(pem_file)).unwrap()).unwrap()
    }

    fn reply(&self, query: &[u8]) -> Vec<u8> {
        std::fs::write(self.path("query.der"), query).unwrap();
        run(self.openssl(&["ts", "-reply", "-config", "openssl.cnf", "-queryfile", "query.der", "-out", "reply.der"]));
        std::fs::read(self.path("reply.der")).unwrap()
    }

    fn openssl_verifies(&self, resp: &[u8], digest: &[u8; 32]) -> bool {
        std::fs::write(self.path("check.der"), resp).unwrap();
        let hex_digest = hex::encode(digest);
        let out = self
            .openssl(&["ts", "-verify", "-digest", &hex_digest, "-in", "check.der", "-CAfile", "ca.pem"])
            .output()
            .unwrap();
        out.status.success() && String::from_utf8_lossy(&out.stdout).contains("Verification: OK")
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn offset_in(whole: &[u8], part: &[u8]) -> usize {
    let offset = part.as_ptr() as usize - whole.as_ptr() as usize;
    assert!(offset + part.len() <= whole.len());
    offset
}

fn flipped(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    out[at] ^= 0x01;
    out
}

/// Our request without certReq, so the reply carries no certificates.
fn request_without_cert_req(digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let req = request(digest, nonce);
    let body = der::single(&req, der::SEQUENCE).unwrap().value;
    assert_eq!(&body[body.len() - 3..], [0x01, 0x01, 0xff]);
    der::tlv(der::SEQUENCE, &body[..body.len() - 3])
}

/// Everything a TSA setup must pass: openssl accepts our request and its reply, and every tampering is caught.
fn exercise(pki: &Pki, expected_algorithm: &str, ess_alg: &str) {
    let digest: [u8; 32] = ring::digest::digest(&ring::digest::SHA256, b"tree head").as_ref().try_into().unwrap();
    let nonce = 0x8123_4567_89ab_cdef;
    let resp = pki.reply(&request(&digest, nonce));
    let ca = pki.der("ca.pem");
    let tsa_cert = pki.der("tsa.pem");

    let token = parse_response(&resp).unwrap();
    assert_eq!(token.status, 0);
    assert_eq!(token.policy, "1.2.3.4.1");
    assert_eq!(token.hash_algorithm, "2.16.840.1.101.3.4.2.1");
    assert_eq!(token.hashed_message, digest);
    assert_eq!(token.nonce, Some(nonce));
    assert_eq!(token.accuracy_micros, Some(1_500_100));
    assert!(token.ordering);
    assert_eq!(token.tsa_name.as_deref(), Some("O=Lizhi, CN=Lizhi Test TSA"));
    assert!(!token.serial.is_empty());
    let age = Utc::now() - token.gen_time;
    assert!(age.num_seconds().abs() < 600, "genTime {} is not now", token.gen_time);
    assert_eq!(token.token_der.first(), Some(&0x30));

    let unchained = verify(&resp, &digest, Some(nonce), None).unwrap();
    assert!(!unchained.chain_checked);
    assert_eq!(unchained.signer_subject, "O=Lizhi, CN=Lizhi Test TSA");
    assert_eq!(unchained.signer_issuer, "CN=Lizhi Test CA");
    assert_eq!(unchained.signature_algorithm, expected_algorithm);
    assert_eq!(unchained.gen_time, token.gen_time);
    assert_eq!(unchained.serial, token.serial);
    assert_eq!(unchained.policy, "1.2.3.4.1");
    assert_eq!(unchained.token, token);
    let chained = verify(&resp, &digest, Some(nonce), Some(&ca)).unwrap();
    assert!(chained.chain_checked);
    assert!(verify(&resp, &digest, None, Some(&ca)).is_ok(), "the nonce check is optional");
    assert!(verify(&resp, &digest, None, Some(&tsa_cert)).unwrap().chain_checked, "the anchor may be the signer");
    assert!(pki.openssl_verifies(&resp, &digest), "openssl ts -verify refused the reply");
    assert!(!pki.openssl_verifies(&resp, &[0x22; 32]));

    // The ESS attribute is the one the TSA was configured for (v1 hashes with SHA-1, v2 with SHA-2).
    let parsed = cms::parse(&resp).unwrap();
    let attrs = cms::attributes(parsed.signed.signers[0].signed_attrs.unwrap()).unwrap();
    let has = |oid: &str| attrs.iter().any(|(t, _)| t == oid);
    assert_eq!(has(cms::ATTR_SIGNING_CERTIFICATE_V2), ess_alg != "sha1");
    assert_eq!(has(cms::ATTR_SIGNING_CERTIFICATE), ess_alg == "sha1");

    // Certificate rules, checked directly: a CA is not a timestamping certificate; validity is at genTime.
    let ca_cert = Certificate::parse(&ca, "ca").unwrap();
    let tsa = Certificate::parse(&tsa_cert, "tsa").unwrap();
    assert_eq!(check_chain(&tsa, &ca_cert, token.gen_time), Ok(()));
    let key_id = tsa.subject_key_id().unwrap();
    assert!(signer_matches(&cms::SignerId::KeyId(key_id), &tsa), "signers named by subjectKeyIdentifier");
    assert!(!signer_matches(&cms::SignerId::KeyId(key_id), &ca_cert));
    assert!(!signer_matches(&cms::SignerId::KeyId(&[1, 2, 3]), &tsa));
    assert_eq!(check_chain(&ca_cert, &ca_cert, token.gen_time).unwrap_err().code(), "not_timestamping_certificate");
    let later = token.gen_time + chrono::Duration::days(365 * 20);
    assert_eq!(
        check_chain(&tsa, &ca_cert, later).unwrap_err(),
        TspError::CertificateNotValid { which: "trust anchor", gen_time: later }
    );
    let earlier = token.gen_time - chrono::Duration::days(1);
    assert_eq!(check_chain(&tsa, &tsa, earlier).unwrap_err().code(), "certificate_not_valid");

    // Wrong expectations.
    assert_eq!(verify(&resp, &[0x22; 32], Some(nonce), Some(&ca)).unwrap_err(), TspError::ImprintMismatch);
    assert_eq!(
        verify(&resp, &digest, Some(nonce + 1), Some(&ca)).unwrap_err(),
        TspError::NonceMismatch { expected: nonce + 1, found: nonce }
    );

    // Tampering: the signature, the TSTInfo (caught by messageDigest before its content is believed).
    let signature = parsed.signed.signers[0].signature;
    let at = offset_in(&resp, signature) + signature.len() / 2;
    assert_eq!(verify(&flipped(&resp, at), &digest, Some(nonce), None).unwrap_err(), TspError::BadSignature);
    let serial_at = offset_in(&resp, parsed.tst.serial) + parsed.tst.serial.len() - 1;
    let err = verify(&flipped(&resp, serial_at), &digest, Some(nonce), Some(&ca)).unwrap_err();
    assert_eq!(err, TspError::MessageDigestMismatch);
    assert_eq!(err.code(), "message_digest_mismatch");
    let imprint_at = offset_in(&resp, parsed.tst.hashed_message);
    let err = verify(&flipped(&resp, imprint_at), &digest, Some(nonce), None).unwrap_err();
    assert_eq!(err, TspError::MessageDigestMismatch);
    assert_ne!(parse_response(&flipped(&resp, serial_at)).unwrap().serial, token.serial, "parsing alone trusts");

    // Wrong trust anchors: another CA by name, and an impostor with the same name but another key.
    let other = pki.self_signed("other", Key::P256, "/CN=Other CA");
    let err = verify(&resp, &digest, Some(nonce), Some(&other)).unwrap_err();
    assert_eq!(err, TspError::IssuerMismatch { issuer: "CN=Lizhi Test CA".into(), anchor: "CN=Other CA".into() });
    let impostor = pki.self_signed("impostor", Key::Rsa, "/CN=Lizhi Test CA");
    let err = verify(&resp, &digest, Some(nonce), Some(&impostor)).unwrap_err();
    assert_eq!(err, TspError::BadCertificateSignature);
    assert_eq!(verify(&resp, &digest, None, Some(b"\x30\x00")).unwrap_err().code(), "malformed");

    // Without certReq the token carries no certificates: only an anchor that is the TSA certificate helps.
    let bare = pki.reply(&request_without_cert_req(&digest, 7));
    assert!(cms::parse(&bare).unwrap().signed.certificates.is_empty());
    assert_eq!(verify(&bare, &digest, Some(7), None).unwrap_err(), TspError::SignerCertNotFound);
    assert_eq!(verify(&bare, &digest, Some(7), Some(&ca)).unwrap_err(), TspError::SignerCertNotFound);
    assert!(verify(&bare, &digest, Some(7), Some(&tsa_cert)).unwrap().chain_checked);
    assert_eq!(verify(&bare, &digest, None, Some(&tsa_cert)).unwrap().token.nonce, Some(7));

    // A query the TSA refuses (SHA-1 is not in its digests): status 2 with badAlg.
    let sha1_query = pki.path("sha1.tsq");
    let sha1_hex = "0000000000000000000000000000000000000000";
    run(pki.openssl(&["ts", "-query", "-sha1", "-digest", sha1_hex, "-out"]).arg(&sha1_query));
    let rejected = pki.reply(&std::fs::read(&sha1_query).unwrap());
    match parse_response(&rejected).unwrap_err() {
        TspError::Rejected { status, fail_info, .. } => {
            assert_eq!(status, 2);
            assert_eq!(fail_info, ["badAlg"]);
        }
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(verify(&rejected, &digest, None, Some(&ca)).unwrap_err().code(), "rejected");
}

#[test]
fn openssl_rsa_tsa_round_trip() {
    if !openssl_available() {
        return;
    }
    let pki = Pki::new("rsa", Key::Rsa, Key::Rsa, "sha256", "sha1", &[]);
    exercise(&pki, "rsa-pkcs1-sha256", "sha1");
}

#[test]
fn openssl_ec_p256_tsa_round_trip() {
    if !openssl_available() {
        return;
    }
    let pki = Pki::new("p256", Key::P256, Key::P256, "sha256", "sha256", &[]);
    exercise(&pki, "ecdsa-p256-sha256", "sha256");
}

#[test]
fn openssl_p384_tsa_under_rsa_pss_ca_round_trip() {
    if !openssl_available() {
        return;
    }
    let pss = ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:digest"];
    let pki = Pki::new("pss", Key::Rsa, Key::P384, "sha384", "sha384", &pss);
    exercise(&pki, "ecdsa-p384-sha384", "sha384");
    let tsa_der = pki.der("tsa.pem");
    let tsa = Certificate::parse(&tsa_der, "tsa").unwrap();
    assert_eq!(tsa.signature_alg.oid(), "1.2.840.113549.1.1.10", "the TSA certificate is signed with RSA-PSS");

    // A timestamp of a SHA-384 imprint is valid but not what Lizhi asks for.
    let query = pki.path("sha384.tsq");
    run(pki.openssl(&["ts", "-query", "-sha384", "-cert", "-digest", &"ab".repeat(48), "-out"]).arg(&query));
    let resp = pki.reply(&std::fs::read(&query).unwrap());
    let err = verify(&resp, &DIGEST, None, None).unwrap_err();
    assert_eq!(err, TspError::ImprintAlgorithm("2.16.840.1.101.3.4.2.2".into()));
}

#[test]
fn openssl_reads_our_request() {
    if !openssl_available() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("lizhi-tsp-query-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("req.der");
    std::fs::write(&file, request(&DIGEST, 0x8000_0000_0000_0001)).unwrap();
    let text = run(Command::new("openssl").args(["ts", "-query", "-text", "-in"]).arg(&file));
    let _ = std::fs::remove_dir_all(Path::new(&dir));
    let text = String::from_utf8_lossy(&text);
    for line in ["Version: 1", "Hash Algorithm: sha256", "Nonce: 0x8000000000000001", "Certificate required: yes"] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

/// Kills the test TSA and removes its directory even when an assertion fails.
struct TsaProcess {
    child: std::process::Child,
    dir: PathBuf,
}

impl Drop for TsaProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn http_post(port: u16, content_type: &str, body: &[u8]) -> (String, Vec<u8>) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    let head = format!(
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").expect("HTTP header end");
    (String::from_utf8_lossy(&response[..split]).into_owned(), response[split + 4..].to_vec())
}

#[test]
fn tsa_py_serves_verifiable_timestamps() {
    use std::io::BufRead;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools/test-peers/tsa.py");
    let python = Command::new("python3").arg("--version").output().is_ok_and(|o| o.status.success());
    if !python || !script.exists() || !openssl_available() {
        eprintln!("python3, tools/test-peers/tsa.py or openssl missing; skipping the tsa.py test");
        return;
    }
    let dir = std::env::temp_dir().join(format!("lizhi-tsp-tsapy-{}", std::process::id()));
    let child = Command::new("python3")
        .arg(&script)
        .args(["--port", "0", "--key-type", "ec", "--dir"])
        .arg(&dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut tsa = TsaProcess { child, dir };
    let mut line = String::new();
    std::io::BufReader::new(tsa.child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let rest = line.trim_end().strip_prefix("TSA ready on http://127.0.0.1:").expect(&line);
    let (port, rest) = rest.split_once("/ ca=").unwrap();
    let port: u16 = port.parse().unwrap();
    let ca = pem_to_der(&std::fs::read_to_string(rest).unwrap()).unwrap();
    assert!(Path::new(rest).starts_with(&tsa.dir));

    let nonce = 0xfeed_f00d_dead_beef;
    let (head, body) = http_post(port, "application/timestamp-query", &request(&DIGEST, nonce));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.to_ascii_lowercase().contains("content-type: application/timestamp-reply"), "{head}");
    let verified = verify(&body, &DIGEST, Some(nonce), Some(&ca)).unwrap();
    assert!(verified.chain_checked);
    assert_eq!(verified.policy, "1.2.3.4.1");
    assert_eq!(verified.signature_algorithm, "ecdsa-p256-sha256");

    let (head, _) = http_post(port, "application/timestamp-query", b"garbage");
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    let (head, _) = http_post(port, "text/plain", &request(&DIGEST, 1));
    assert!(head.starts_with("HTTP/1.1 400"), "{head}");
    drop(tsa);
}
