//! WeCom callback crypto cross-checked both ways against PyPI `wechatpy` (an independent implementation):
//! wechatpy encrypts, Lizhi decrypts and verifies; Lizhi encrypts, wechatpy decrypts and verifies; the same
//! for URL verification, with messages whose 32-byte PKCS#7 padding is exactly 32 and exactly 1 byte.
//! Python is `$LIZHI_TEST_PYTHON` (default `/var/tmp/lizhi-venv/bin/python`); without wechatpy the test
//! says so and skips, except on CI.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use lizhi_connectors::wecom::crypto::{CallbackCrypto, CryptoError, extract_encrypt};
use serde_json::{Value, json};
use std::io::Write;
use std::process::{Command, Stdio};

const TOKEN: &str = "lizhi-offboarding-token";
const KEY: &str = "6qkdMrq68nTKduznJYO1A37W2oEgpkMUvkttRToqhUt";
const CORP_ID: &str = "ww1436e0e65a779aee";
const OTHER_CORP_ID: &str = "ww0000000000000001";

/// wechatpy 2.x has `wechatpy.work`; 1.x called the same class `wechatpy.enterprise`.
const SCRIPT: &str = r#"
import json, sys
try:
    from wechatpy.work.crypto import WeChatCrypto
except ImportError:
    from wechatpy.enterprise.crypto import WeChatCrypto
import xmltodict

req = json.load(sys.stdin)

def crypto(item):
    return WeChatCrypto(item.get("token", req["token"]), req["key"], item.get("corp_id", req["corp_id"]))

def run(f, item):
    try:
        return {"ok": f(item)}
    except Exception as e:
        return {"err": type(e).__name__}

def decrypt(i):
    return crypto(i).decrypt_message(i["xml"], i["signature"], i["timestamp"], i["nonce"])

def verify(i):
    return crypto(i).check_signature(i["signature"], i["timestamp"], i["nonce"], i["echostr"])

def encrypt(i):
    return crypto(i).encrypt_message(i["plaintext"], i["nonce"], i["timestamp"])

def echo(i):
    parsed = xmltodict.parse(encrypt(i))["xml"]
    return {"echostr": parsed["Encrypt"], "signature": parsed["MsgSignature"]}

ops = {"decrypt": decrypt, "verify": verify, "encrypt": encrypt, "echo": echo}
out = {name: [run(f, item) for item in req.get(name, [])] for name, f in ops.items()}
json.dump(out, sys.stdout, ensure_ascii=False)
"#;

fn python() -> String {
    std::env::var("LIZHI_TEST_PYTHON").unwrap_or_else(|_| "/var/tmp/lizhi-venv/bin/python".into())
}

/// Whether wechatpy can be imported; on CI its absence is a failure, elsewhere a skip.
fn wechatpy_available() -> bool {
    let ok = Command::new(python())
        .args(["-c", "import wechatpy, xmltodict, cryptography"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "wechatpy is missing on CI (LIZHI_TEST_PYTHON={})", python());
        eprintln!("skipping: wechatpy not installed for {} (pip install wechatpy cryptography)", python());
    }
    ok
}

/// Runs the script once with a batch of operations; returns its JSON answer.
fn wechatpy(request: &Value) -> Value {
    let mut child = Command::new(python())
        .args(["-c", SCRIPT])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child.stdin.take().expect("stdin").write_all(request.to_string().as_bytes()).expect("write request");
    let out = child.wait_with_output().expect("python");
    assert!(out.status.success(), "wechatpy script failed: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON from the script")
}

fn ok(answer: &Value) -> &Value {
    answer.get("ok").unwrap_or_else(|| panic!("wechatpy refused: {answer}"))
}

fn err(answer: &Value) -> &str {
    answer.get("err").and_then(Value::as_str).unwrap_or_else(|| panic!("wechatpy accepted: {answer}"))
}

/// Text of a simple element of wechatpy's reply XML, CDATA or not.
fn field<'a>(xml: &'a str, name: &str) -> &'a str {
    let open = format!("<{name}>");
    let start = xml.find(&open).unwrap_or_else(|| panic!("no <{name}> in {xml}")) + open.len();
    let end = start + xml[start..].find(&format!("</{name}>")).expect("end tag");
    let text = &xml[start..end];
    text.strip_prefix("<![CDATA[").and_then(|t| t.strip_suffix("]]>")).unwrap_or(text)
}

/// A UTF-8 message with Chinese text whose encryption for `receive_id` ends with exactly `pad` bytes of padding.
fn message_with_padding(pad: usize, receive_id: &str) -> String {
    let head = "<xml><ToUserName><![CDATA[ww1436e0e65a779aee]]></ToUserName><Content><![CDATA[离职交接：请归还工牌 ";
    let tail = "]]></Content></xml>";
    let mut len = head.len() + tail.len();
    while !(20 + len + receive_id.len() + pad).is_multiple_of(32) {
        len += 1;
    }
    let message = format!("{head}{}{tail}", "x".repeat(len - head.len() - tail.len()));
    assert_eq!((20 + message.len() + receive_id.len()) % 32, (32 - pad) % 32);
    message
}

/// Bytes of ciphertext `message` must produce with `pad` bytes of padding.
fn expected_ciphertext_len(message: &str, pad: usize) -> usize {
    20 + message.len() + CORP_ID.len() + pad
}

fn messages() -> Vec<(String, Option<usize>)> {
    vec![
        (message_with_padding(32, CORP_ID), Some(32)),
        (message_with_padding(1, CORP_ID), Some(1)),
        ("离职".into(), None),
        ("<xml><Content><![CDATA[张三 已离职；账号冻结 ✅ & <script>]]></Content></xml>".into(), None),
        ("x".repeat(4000), None),
    ]
}

#[test]
fn wechatpy_encrypts_lizhi_decrypts() {
    if !wechatpy_available() {
        return;
    }
    let lizhi = CallbackCrypto::new(TOKEN, KEY, CORP_ID).expect("config");
    let cases = messages();
    let mut encrypt: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, (m, _))| json!({"plaintext": m, "timestamp": format!("17000000{i:02}"), "nonce": format!("n{i}")}))
        .collect();
    // Addressed to another corporation: Lizhi must refuse it.
    encrypt.push(json!({"plaintext": "not for us", "timestamp": "1", "nonce": "2", "corp_id": OTHER_CORP_ID}));
    // Signed with another token: a forgery from Lizhi's point of view.
    encrypt.push(json!({"plaintext": "forged", "timestamp": "1", "nonce": "2", "token": "not-our-token"}));
    let answer = wechatpy(&json!({"token": TOKEN, "key": KEY, "corp_id": CORP_ID, "encrypt": encrypt}));
    let replies = answer["encrypt"].as_array().expect("encrypt results");
    assert_eq!(replies.len(), cases.len() + 2);

    for (i, (message, pad)) in cases.iter().enumerate() {
        let xml = ok(&replies[i]).as_str().expect("xml");
        let encrypted = extract_encrypt(xml).expect("extract <Encrypt> from wechatpy's XML");
        let (signature, timestamp, nonce) = (field(xml, "MsgSignature"), field(xml, "TimeStamp"), field(xml, "Nonce"));
        assert_eq!(lizhi.signature(timestamp, nonce, &encrypted), signature, "same signature as wechatpy");
        let decrypted = lizhi.decrypt(signature, timestamp, nonce, &encrypted).expect("decrypt wechatpy's message");
        assert_eq!(&decrypted, message);
        if let Some(pad) = pad {
            let raw = STANDARD.decode(&encrypted).expect("base64");
            assert_eq!(raw.len(), expected_ciphertext_len(message, *pad), "wechatpy padded with {pad}");
        }
        // A tampered copy is refused.
        let mut bytes = STANDARD.decode(&encrypted).expect("base64");
        bytes[5] ^= 0x80;
        let tampered = STANDARD.encode(bytes);
        assert_eq!(lizhi.decrypt(signature, timestamp, nonce, &tampered), Err(CryptoError::BadSignature));
    }

    let foreign = ok(&replies[cases.len()]).as_str().expect("xml");
    let encrypted = extract_encrypt(foreign).expect("extract");
    let result = lizhi.decrypt(field(foreign, "MsgSignature"), "1", "2", &encrypted);
    assert_eq!(result, Err(CryptoError::ReceiveIdMismatch));

    let forged = ok(&replies[cases.len() + 1]).as_str().expect("xml");
    let encrypted = extract_encrypt(forged).expect("extract");
    let result = lizhi.decrypt(field(forged, "MsgSignature"), "1", "2", &encrypted);
    assert_eq!(result, Err(CryptoError::BadSignature));
}

#[test]
fn lizhi_encrypts_wechatpy_decrypts() {
    if !wechatpy_available() {
        return;
    }
    let lizhi = CallbackCrypto::new(TOKEN, KEY, CORP_ID).expect("config");
    let cases = messages();
    let mut decrypt = Vec::new();
    for (i, (message, pad)) in cases.iter().enumerate() {
        let reply = lizhi.encrypt(message, &format!("17000001{i:02}"), &format!("r{i}")).expect("encrypt");
        if let Some(pad) = pad {
            let raw = STANDARD.decode(&reply.ciphertext).expect("base64");
            assert_eq!(raw.len(), expected_ciphertext_len(message, *pad), "Lizhi padded with {pad}");
        }
        decrypt.push(json!({"xml": reply.xml(), "signature": reply.signature, "timestamp": reply.timestamp,
            "nonce": reply.nonce}));
    }
    // Lizhi's reply for another corporation must be refused by wechatpy too…
    let foreign = CallbackCrypto::new(TOKEN, KEY, OTHER_CORP_ID).expect("config");
    let reply = foreign.encrypt("not for you", "1", "2").expect("encrypt");
    decrypt.push(json!({"xml": reply.xml(), "signature": reply.signature, "timestamp": "1", "nonce": "2"}));
    // …and so must a reply whose signature does not match (signed with another token).
    let other_token = CallbackCrypto::new("another-token", KEY, CORP_ID).expect("config");
    let reply = other_token.encrypt("forged", "1", "2").expect("encrypt");
    decrypt.push(json!({"xml": reply.xml(), "signature": reply.signature, "timestamp": "1", "nonce": "2"}));

    let answer = wechatpy(&json!({"token": TOKEN, "key": KEY, "corp_id": CORP_ID, "decrypt": decrypt}));
    let results = answer["decrypt"].as_array().expect("decrypt results");
    assert_eq!(results.len(), cases.len() + 2);
    for (i, (message, _)) in cases.iter().enumerate() {
        assert_eq!(ok(&results[i]).as_str(), Some(message.as_str()), "case {i}");
    }
    assert_eq!(err(&results[cases.len()]), "InvalidCorpIdException");
    assert_eq!(err(&results[cases.len() + 1]), "InvalidSignatureException");
}

#[test]
fn url_verification_both_ways() {
    if !wechatpy_available() {
        return;
    }
    let lizhi = CallbackCrypto::new(TOKEN, KEY, CORP_ID).expect("config");
    let echoes =
        ["1616140317555161061".to_string(), message_with_padding(32, CORP_ID), message_with_padding(1, CORP_ID)];

    // Lizhi plays WeCom: wechatpy verifies and returns the echo.
    let verify: Vec<Value> = echoes
        .iter()
        .map(|echo| {
            let r = lizhi.encrypt(echo, "1409659589", "263014780").expect("encrypt");
            json!({"signature": r.signature, "timestamp": r.timestamp, "nonce": r.nonce, "echostr": r.ciphertext})
        })
        .collect();
    // wechatpy plays WeCom: Lizhi verifies.
    let echo: Vec<Value> =
        echoes.iter().map(|e| json!({"plaintext": e, "timestamp": "1409659589", "nonce": "263014780"})).collect();
    let answer = wechatpy(&json!({"token": TOKEN, "key": KEY, "corp_id": CORP_ID, "verify": verify, "echo": echo}));

    let verified = answer["verify"].as_array().expect("verify results");
    let produced = answer["echo"].as_array().expect("echo results");
    for (i, expected) in echoes.iter().enumerate() {
        assert_eq!(ok(&verified[i]).as_str(), Some(expected.as_str()), "wechatpy verified Lizhi's echostr {i}");
        let generated = ok(&produced[i]);
        let (signature, echostr) =
            (generated["signature"].as_str().expect("sig"), generated["echostr"].as_str().expect("echostr"));
        let answer =
            lizhi.verify_url(signature, "1409659589", "263014780", echostr).expect("verify wechatpy's echostr");
        assert_eq!(&answer, expected);
        assert_eq!(lizhi.verify_url(signature, "1409659590", "263014780", echostr), Err(CryptoError::BadSignature));
    }
}
