//! WeCom callback crypto ("加解密方案说明"), written on RustCrypto because published crates get it wrong.
//!
//! - AES key = base64 of the 43-character EncodingAESKey (plus one `=`), 32 bytes; IV = its first 16 bytes.
//! - Plaintext = random 16 bytes ‖ message length (4 bytes, big-endian) ‖ message ‖ receive id, then PKCS#7
//!   padded to a multiple of **32** bytes (pad 1..=32, not AES's 16), AES-256-CBC, standard base64.
//! - `msg_signature` = hex SHA-1 of token, timestamp, nonce and ciphertext, sorted and concatenated.
//!
//! The signature is checked (in constant time) before anything is decrypted, and every field of the
//! plaintext is checked strictly: a callback that is forged, tampered with, truncated or meant for another
//! corporation or app is refused with its own [`CryptoError`].

use aes::Aes256;
use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use cbc::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use sha1::{Digest, Sha1};

pub use super::xml::extract_encrypt;

/// Characters in an EncodingAESKey.
const ENCODING_AES_KEY_LEN: usize = 43;
/// Bytes of AES-256 key.
const KEY_LEN: usize = 32;
/// Bytes of an AES block, and of the IV.
const AES_BLOCK: usize = 16;
/// WeCom's PKCS#7 block: 32, twice the AES block.
const PAD_BLOCK: usize = 32;
/// Random prefix of every plaintext.
const RANDOM_LEN: usize = 16;
/// Big-endian message length after the random prefix.
const LEN_FIELD: usize = 4;
/// Random prefix plus length field.
const HEADER_LEN: usize = RANDOM_LEN + LEN_FIELD;

/// Decodes the EncodingAESKey: 43 symbols carry 258 bits, so the last two bits are surplus and may be set
/// (Tencent's own sample key ends in `C`); a strict decoder would refuse valid keys.
const KEY_ENGINE: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::RequireNone)
        .with_decode_allow_trailing_bits(true),
);

type Encryptor = cbc::Encryptor<Aes256>;
type Decryptor = cbc::Decryptor<Aes256>;

/// Why a callback, a reply or the configuration was refused. Each has a stable [`code`](Self::code) for logs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// The EncodingAESKey is not 43 base64 characters decoding to a 32-byte key.
    #[error("EncodingAESKey must be 43 base64 characters decoding to 32 bytes: {0}")]
    BadKey(&'static str),
    /// The token or the receive id is empty or unusable.
    #[error("bad WeCom callback configuration: {0}")]
    BadConfig(&'static str),
    /// `msg_signature` does not match: forged, tampered with, or signed with another token.
    #[error("msg_signature does not match the token, timestamp, nonce and ciphertext")]
    BadSignature,
    /// The ciphertext is not standard padded base64.
    #[error("ciphertext is not valid base64")]
    BadBase64,
    /// The ciphertext cannot be AES-CBC output padded to 32-byte blocks.
    #[error("ciphertext is {0} bytes, not a non-zero multiple of 32 (AES blocks, PKCS#7 padded to 32)")]
    BadCiphertextLength(usize),
    /// The PKCS#7 padding is outside 1..=32 or its bytes disagree: wrong key or tampered ciphertext.
    #[error("bad PKCS#7 padding (must be 1..=32 identical bytes)")]
    BadPadding,
    /// The plaintext is shorter than its header, or its length field points beyond the buffer.
    #[error("message length field ({declared} bytes) does not fit the {available} bytes decrypted")]
    BadLength {
        /// The length the plaintext claims (0 when even the header is missing).
        declared: usize,
        /// Bytes actually available after the header.
        available: usize,
    },
    /// The message was encrypted for another corporation, suite or app.
    #[error("message is addressed to another receive id (corp id / suite id)")]
    ReceiveIdMismatch,
    /// The decrypted message is not UTF-8.
    #[error("decrypted message is not UTF-8")]
    BadUtf8,
    /// The callback body is not well-formed XML with exactly one `<Encrypt>` under `<xml>`.
    #[error("malformed callback XML: {0}")]
    BadXml(&'static str),
    /// A reply's timestamp or nonce would not fit the reply XML unescaped.
    #[error("reply {0} must be 1 to 64 ASCII letters, digits, '-' or '_'")]
    BadReplyField(&'static str),
    /// The message is longer than the 4-byte length field can say.
    #[error("message too long to encrypt")]
    MessageTooLong,
    /// The operating system's random generator failed.
    #[error("no randomness available for the reply")]
    RandomUnavailable,
}

impl CryptoError {
    /// Stable code for logs and HTTP error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            CryptoError::BadKey(_) => "wecom_bad_key",
            CryptoError::BadConfig(_) => "wecom_bad_config",
            CryptoError::BadSignature => "wecom_bad_signature",
            CryptoError::BadBase64 => "wecom_bad_base64",
            CryptoError::BadCiphertextLength(_) => "wecom_bad_ciphertext_length",
            CryptoError::BadPadding => "wecom_bad_padding",
            CryptoError::BadLength { .. } => "wecom_bad_length",
            CryptoError::ReceiveIdMismatch => "wecom_receive_id_mismatch",
            CryptoError::BadUtf8 => "wecom_bad_utf8",
            CryptoError::BadXml(_) => "wecom_bad_xml",
            CryptoError::BadReplyField(_) => "wecom_bad_reply_field",
            CryptoError::MessageTooLong => "wecom_message_too_long",
            CryptoError::RandomUnavailable => "wecom_random_unavailable",
        }
    }
}

/// An encrypted passive reply, ready to send back to WeCom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedReply {
    /// Base64 ciphertext (`<Encrypt>`).
    pub ciphertext: String,
    /// Hex SHA-1 `msg_signature` over token, timestamp, nonce and ciphertext.
    pub signature: String,
    /// Timestamp the signature covers.
    pub timestamp: String,
    /// Nonce the signature covers.
    pub nonce: String,
}

impl EncryptedReply {
    /// The reply body WeCom expects. Unescaped: as built by [`CallbackCrypto::encrypt`] the fields are base64,
    /// hex and a checked timestamp and nonce.
    pub fn xml(&self) -> String {
        format!(
            "<xml><Encrypt><![CDATA[{}]]></Encrypt><MsgSignature>{}</MsgSignature><TimeStamp>{}</TimeStamp>\
             <Nonce>{}</Nonce></xml>",
            self.ciphertext, self.signature, self.timestamp, self.nonce
        )
    }
}

/// One WeCom callback configuration: token, AES key and the receive id messages must be addressed to.
#[derive(Clone)]
pub struct CallbackCrypto {
    token: String,
    key: [u8; KEY_LEN],
    receive_id: String,
}

impl std::fmt::Debug for CallbackCrypto {
    /// Keeps the token and key out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallbackCrypto").field("receive_id", &self.receive_id).finish_non_exhaustive()
    }
}

impl CallbackCrypto {
    /// Checks the configuration once, so a typo in the key fails at start-up rather than on every callback.
    /// `receive_id` is the corp id (own apps), the suite id (third-party suites) or as WeCom documents for
    /// the scenario; messages for any other id are refused.
    pub fn new(token: &str, encoding_aes_key: &str, receive_id: &str) -> Result<Self, CryptoError> {
        if token.is_empty() {
            return Err(CryptoError::BadConfig("token is empty"));
        }
        if receive_id.is_empty() {
            return Err(CryptoError::BadConfig("receive id is empty"));
        }
        let key = decode_key(encoding_aes_key)?;
        Ok(Self { token: token.to_owned(), key, receive_id: receive_id.to_owned() })
    }

    /// The id messages must be addressed to.
    pub fn receive_id(&self) -> &str {
        &self.receive_id
    }

    /// `msg_signature` for these values, as WeCom computes it (also usable for the reply).
    pub fn signature(&self, timestamp: &str, nonce: &str, encrypted: &str) -> String {
        let mut parts = [self.token.as_str(), timestamp, nonce, encrypted];
        parts.sort_unstable();
        let mut hasher = Sha1::new();
        for part in parts {
            hasher.update(part.as_bytes());
        }
        hex::encode(hasher.finalize())
    }

    /// Checks `msg_signature` in constant time, so an attacker learns nothing from timing.
    pub fn verify_signature(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypted: &str,
    ) -> Result<(), CryptoError> {
        let expected = self.signature(timestamp, nonce, encrypted);
        if constant_time_eq(expected.as_bytes(), msg_signature.as_bytes()) {
            Ok(())
        } else {
            Err(CryptoError::BadSignature)
        }
    }

    /// Answers WeCom's URL verification (GET with `echostr`): returns the plaintext to send back verbatim.
    /// The query parameters must already be URL-decoded.
    pub fn verify_url(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        echostr: &str,
    ) -> Result<String, CryptoError> {
        self.decrypt(msg_signature, timestamp, nonce, echostr)
    }

    /// Decrypts a POSTed callback's `<Encrypt>` (see [`extract_encrypt`]) after checking its signature.
    pub fn decrypt(
        &self,
        msg_signature: &str,
        timestamp: &str,
        nonce: &str,
        encrypted_b64: &str,
    ) -> Result<String, CryptoError> {
        self.verify_signature(msg_signature, timestamp, nonce, encrypted_b64)?;
        let plain = self.decrypt_blocks(encrypted_b64)?;
        self.open(&plain)
    }

    /// Encrypts and signs a passive reply with fresh randomness.
    pub fn encrypt(&self, plaintext: &str, timestamp: &str, nonce: &str) -> Result<EncryptedReply, CryptoError> {
        let mut random = [0u8; RANDOM_LEN];
        getrandom::fill(&mut random).map_err(|_| CryptoError::RandomUnavailable)?;
        self.encrypt_with_random(plaintext, timestamp, nonce, random)
    }

    /// [`encrypt`](Self::encrypt) with a caller-chosen random prefix, for reproducible tests; production
    /// code must use `encrypt`.
    pub fn encrypt_with_random(
        &self,
        plaintext: &str,
        timestamp: &str,
        nonce: &str,
        random: [u8; RANDOM_LEN],
    ) -> Result<EncryptedReply, CryptoError> {
        check_reply_field("timestamp", timestamp)?;
        check_reply_field("nonce", nonce)?;
        let sealed = self.seal(plaintext.as_bytes(), random)?;
        let ciphertext = self.encrypt_blocks(sealed);
        let signature = self.signature(timestamp, nonce, &ciphertext);
        Ok(EncryptedReply { ciphertext, signature, timestamp: timestamp.to_owned(), nonce: nonce.to_owned() })
    }

    /// Lays out random ‖ length ‖ message ‖ receive id and pads it to 32 bytes.
    fn seal(&self, message: &[u8], random: [u8; RANDOM_LEN]) -> Result<Vec<u8>, CryptoError> {
        let len = u32::try_from(message.len()).map_err(|_| CryptoError::MessageTooLong)?;
        let unpadded = HEADER_LEN + message.len() + self.receive_id.len();
        let pad = PAD_BLOCK - unpadded % PAD_BLOCK;
        let mut buf = Vec::with_capacity(unpadded + pad);
        buf.extend_from_slice(&random);
        buf.extend_from_slice(&len.to_be_bytes());
        buf.extend_from_slice(message);
        buf.extend_from_slice(self.receive_id.as_bytes());
        // `pad` is 1..=32, so it fits a byte.
        buf.resize(unpadded + pad, pad as u8);
        Ok(buf)
    }

    /// Encrypts an already padded buffer (whole 32-byte blocks, from `seal`) and base64-encodes it.
    fn encrypt_blocks(&self, mut buf: Vec<u8>) -> String {
        let mut encryptor = Encryptor::new(&self.key.into(), &self.iv().into());
        // `seal` padded to whole blocks, so there is no remainder.
        let (blocks, _) = buf.as_chunks_mut::<AES_BLOCK>();
        for block in blocks {
            encryptor.encrypt_block_mut(block.into());
        }
        STANDARD.encode(buf)
    }

    /// Base64-decodes and AES-decrypts, leaving the padding in place.
    fn decrypt_blocks(&self, encrypted_b64: &str) -> Result<Vec<u8>, CryptoError> {
        let mut buf = STANDARD.decode(encrypted_b64).map_err(|_| CryptoError::BadBase64)?;
        if buf.is_empty() || !buf.len().is_multiple_of(PAD_BLOCK) {
            return Err(CryptoError::BadCiphertextLength(buf.len()));
        }
        let mut decryptor = Decryptor::new(&self.key.into(), &self.iv().into());
        // The length was checked above, so there is no remainder.
        let (blocks, _) = buf.as_chunks_mut::<AES_BLOCK>();
        for block in blocks {
            decryptor.decrypt_block_mut(block.into());
        }
        Ok(buf)
    }

    /// Strips the 32-byte PKCS#7 padding and checks the layout and the receive id.
    fn open(&self, plain: &[u8]) -> Result<String, CryptoError> {
        let pad = usize::from(*plain.last().ok_or(CryptoError::BadPadding)?);
        if !(1..=PAD_BLOCK).contains(&pad) || pad > plain.len() {
            return Err(CryptoError::BadPadding);
        }
        let (content, padding) = plain.split_at(plain.len() - pad);
        if padding.iter().any(|&b| usize::from(b) != pad) {
            return Err(CryptoError::BadPadding);
        }
        let Some((header, rest)) = content.split_at_checked(HEADER_LEN) else {
            return Err(CryptoError::BadLength { declared: 0, available: 0 });
        };
        let mut len_bytes = [0u8; LEN_FIELD];
        len_bytes.copy_from_slice(&header[RANDOM_LEN..]);
        let declared = u32::from_be_bytes(len_bytes) as usize;
        let Some((message, receive_id)) = rest.split_at_checked(declared) else {
            return Err(CryptoError::BadLength { declared, available: rest.len() });
        };
        if receive_id != self.receive_id.as_bytes() {
            return Err(CryptoError::ReceiveIdMismatch);
        }
        String::from_utf8(message.to_vec()).map_err(|_| CryptoError::BadUtf8)
    }

    fn iv(&self) -> [u8; AES_BLOCK] {
        let mut iv = [0u8; AES_BLOCK];
        iv.copy_from_slice(&self.key[..AES_BLOCK]);
        iv
    }
}

/// Decodes the EncodingAESKey; WeCom appends one `=` and base64-decodes, which this mirrors without the `=`.
fn decode_key(encoding_aes_key: &str) -> Result<[u8; KEY_LEN], CryptoError> {
    if encoding_aes_key.len() != ENCODING_AES_KEY_LEN {
        return Err(CryptoError::BadKey("wrong length"));
    }
    if !encoding_aes_key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/') {
        return Err(CryptoError::BadKey("character outside the base64 alphabet"));
    }
    let bytes = KEY_ENGINE.decode(encoding_aes_key).map_err(|_| CryptoError::BadKey("not base64"))?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| CryptoError::BadKey("does not decode to 32 bytes"))
}

/// Refuses reply fields that would need escaping in the reply XML or could not be a WeCom timestamp/nonce.
fn check_reply_field(name: &'static str, value: &str) -> Result<(), CryptoError> {
    let ok =
        (1..=64).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok { Ok(()) } else { Err(CryptoError::BadReplyField(name)) }
}

/// Equality whose time depends only on the lengths, not on where the first difference is.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    // Tencent's sample (workweixin/weworkapi_cplusplus Sample.cpp; same values in the C#, Java and PHP
    // samples linked from developer.work.weixin.qq.com/document/path/91144).
    const TOKEN: &str = "QDG6eK";
    const RECEIVE_ID: &str = "wx5823bf96d3bd56c7";
    const KEY: &str = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C";
    const URL_SIG: &str = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3";
    const URL_TS: &str = "1409659589";
    const URL_NONCE: &str = "263014780";
    const URL_ECHO: &str = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ==";
    const MSG_SIG: &str = "477715d11cdb4164915debcba66cb864d751f3e6";
    const MSG_TS: &str = "1409659813";
    const MSG_NONCE: &str = "1372623149";
    const MSG_XML: &str = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName><Encrypt><![CDATA[\
        RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/s\
        YYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJ\
        YuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGU\
        callcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDY\
        A5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q==]]></Encrypt><AgentID><![CDATA[218]]></AgentID></xml>";
    const MSG_PLAIN: &str = "<xml><ToUserName><![CDATA[wx5823bf96d3bd56c7]]></ToUserName>\n\
        <FromUserName><![CDATA[mycreate]]></FromUserName>\n<CreateTime>1409659813</CreateTime>\n\
        <MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA[hello]]></Content>\n\
        <MsgId>4561255354251345929</MsgId>\n<AgentID>218</AgentID>\n</xml>";

    fn crypto() -> CallbackCrypto {
        CallbackCrypto::new(TOKEN, KEY, RECEIVE_ID).expect("sample config")
    }

    /// Encrypts raw bytes as they are (the caller sets any padding) and signs them: forged plaintexts.
    fn forge(c: &CallbackCrypto, plain: Vec<u8>) -> (String, String) {
        let ciphertext = c.encrypt_blocks(plain);
        assert!(!ciphertext.is_empty());
        let sig = c.signature("1", "2", &ciphertext);
        (ciphertext, sig)
    }

    fn layout(random: [u8; 16], declared: u32, message: &[u8], receive_id: &[u8]) -> Vec<u8> {
        let mut buf = random.to_vec();
        buf.extend_from_slice(&declared.to_be_bytes());
        buf.extend_from_slice(message);
        buf.extend_from_slice(receive_id);
        buf
    }

    #[test]
    fn tencent_sample_url_verification() {
        let echo = crypto().verify_url(URL_SIG, URL_TS, URL_NONCE, URL_ECHO).expect("verify");
        assert_eq!(echo, "1616140317555161061");
    }

    #[test]
    fn tencent_sample_message() {
        let c = crypto();
        let encrypted = extract_encrypt(MSG_XML).expect("extract");
        assert_eq!(c.signature(MSG_TS, MSG_NONCE, &encrypted), MSG_SIG);
        assert_eq!(c.decrypt(MSG_SIG, MSG_TS, MSG_NONCE, &encrypted).expect("decrypt"), MSG_PLAIN);
    }

    #[test]
    fn key_with_surplus_bits_decodes() {
        // The sample key's last symbol 'C' sets one of the two surplus bits; must still be accepted.
        let key = decode_key(KEY).expect("key");
        // Python: base64.b64decode(KEY + "=").hex()
        assert_eq!(hex::encode(key), "8d69989bbaabe67328014c194631ad0719b3dca035b64023df292447aab60760");
        assert_eq!(key.len(), 32);
    }

    #[test]
    fn bad_configuration() {
        let err = |t: &str, k: &str, r: &str| CallbackCrypto::new(t, k, r).err().map(|e| e.code());
        assert_eq!(err(TOKEN, &KEY[..42], RECEIVE_ID), Some("wecom_bad_key"));
        assert_eq!(err(TOKEN, &format!("{KEY}="), RECEIVE_ID), Some("wecom_bad_key"));
        assert_eq!(err(TOKEN, &format!("{}=", &KEY[..42]), RECEIVE_ID), Some("wecom_bad_key"));
        assert_eq!(err(TOKEN, &format!("{}-", &KEY[..42]), RECEIVE_ID), Some("wecom_bad_key"));
        assert_eq!(err(TOKEN, &format!("{}é", &KEY[..41]), RECEIVE_ID), Some("wecom_bad_key"));
        assert_eq!(err("", KEY, RECEIVE_ID), Some("wecom_bad_config"));
        assert_eq!(err(TOKEN, KEY, ""), Some("wecom_bad_config"));
        let debug = format!("{:?}", crypto());
        assert!(!debug.contains(TOKEN) && !debug.contains("key"), "{debug}");
    }

    #[test]
    fn round_trips_and_reply_xml() {
        let c = crypto();
        for message in ["", "a", "离职交接：请归还工牌 🪪", &"x".repeat(5000)] {
            let reply = c.encrypt(message, "1700000000", "nonce_1").expect("encrypt");
            assert_eq!(reply.signature, c.signature("1700000000", "nonce_1", &reply.ciphertext));
            let xml = reply.xml();
            assert_eq!(extract_encrypt(&xml).expect("extract"), reply.ciphertext);
            assert_eq!(c.decrypt(&reply.signature, "1700000000", "nonce_1", &reply.ciphertext).unwrap(), message);
        }
        let a = c.encrypt("same", "1", "2").unwrap();
        let b = c.encrypt("same", "1", "2").unwrap();
        assert_ne!(a.ciphertext, b.ciphertext, "fresh randomness each time");
    }

    #[test]
    fn deterministic_reply() {
        let c = crypto();
        let reply = c.encrypt_with_random("hello", "1409659813", "1372623149", [7; 16]).unwrap();
        assert_eq!(reply, c.encrypt_with_random("hello", "1409659813", "1372623149", [7; 16]).unwrap());
        assert_eq!(
            reply.xml(),
            format!(
                "<xml><Encrypt><![CDATA[{}]]></Encrypt><MsgSignature>{}</MsgSignature>\
                 <TimeStamp>1409659813</TimeStamp><Nonce>1372623149</Nonce></xml>",
                reply.ciphertext, reply.signature
            )
        );
        let plain = c.decrypt_blocks(&reply.ciphertext).unwrap();
        assert_eq!(&plain[..16], &[7; 16]);
        assert_eq!(&plain[16..20], &5u32.to_be_bytes());
    }

    #[test]
    fn padding_is_32_byte_pkcs7() {
        let c = crypto();
        // header 20 + receive id 18 = 38 bytes around the message.
        for (len, pad) in [(26, 32), (58, 32), (25, 1), (57, 1), (0, 26), (10, 16), (11, 15)] {
            let message = "m".repeat(len);
            let reply = c.encrypt_with_random(&message, "1", "2", [1; 16]).unwrap();
            let plain = c.decrypt_blocks(&reply.ciphertext).unwrap();
            assert_eq!(plain.len() % 32, 0);
            assert_eq!(usize::from(*plain.last().unwrap()), pad, "message of {len} bytes");
            assert!(plain[plain.len() - pad..].iter().all(|&b| usize::from(b) == pad));
            assert_eq!(c.decrypt(&reply.signature, "1", "2", &reply.ciphertext).unwrap(), message);
        }
    }

    #[test]
    fn rejects_wrong_signature() {
        let c = crypto();
        let reply = c.encrypt("hello", "1", "2").unwrap();
        let check = |sig: &str, ts: &str, nonce: &str| c.decrypt(sig, ts, nonce, &reply.ciphertext).unwrap_err();
        let mut flipped = reply.signature.clone().into_bytes();
        flipped[39] = if flipped[39] == b'0' { b'1' } else { b'0' };
        assert_eq!(check(std::str::from_utf8(&flipped).unwrap(), "1", "2"), CryptoError::BadSignature);
        assert_eq!(check(&reply.signature.to_uppercase(), "1", "2"), CryptoError::BadSignature);
        assert_eq!(check(&reply.signature[..39], "1", "2"), CryptoError::BadSignature);
        assert_eq!(check("", "1", "2"), CryptoError::BadSignature);
        assert_eq!(check(&reply.signature, "3", "2"), CryptoError::BadSignature);
        assert_eq!(check(&reply.signature, "1", "3"), CryptoError::BadSignature);
        let other_token = CallbackCrypto::new("other", KEY, RECEIVE_ID).unwrap();
        let forged = other_token.encrypt("pwned", "1", "2").unwrap();
        assert_eq!(
            c.decrypt(&forged.signature, "1", "2", &forged.ciphertext).unwrap_err().code(),
            "wecom_bad_signature"
        );
        assert_eq!(c.verify_url(URL_SIG, URL_TS, "263014781", URL_ECHO).unwrap_err(), CryptoError::BadSignature);
    }

    #[test]
    fn rejects_flipped_ciphertext_byte() {
        let c = crypto();
        let reply = c.encrypt_with_random("hello, 企业微信", "1", "2", [3; 16]).unwrap();
        let raw = STANDARD.decode(&reply.ciphertext).unwrap();
        for at in [0, 17, raw.len() - 33, raw.len() - 17, raw.len() - 1] {
            let mut tampered = raw.clone();
            tampered[at] ^= 0x01;
            let tampered = STANDARD.encode(&tampered);
            // Unchanged signature: the tampering is caught before decryption.
            assert_eq!(c.decrypt(&reply.signature, "1", "2", &tampered).unwrap_err(), CryptoError::BadSignature);
            // Even re-signed (an attacker who has the token but not the key), the plaintext checks refuse it.
            let sig = c.signature("1", "2", &tampered);
            let err = c.decrypt(&sig, "1", "2", &tampered).unwrap_err();
            assert!(
                matches!(
                    err,
                    CryptoError::BadPadding
                        | CryptoError::BadLength { .. }
                        | CryptoError::ReceiveIdMismatch
                        | CryptoError::BadUtf8
                ),
                "byte {at}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_bad_base64_and_lengths() {
        let c = crypto();
        let signed = |s: &str| c.decrypt(&c.signature("1", "2", s), "1", "2", s).unwrap_err();
        assert_eq!(signed("not base64!"), CryptoError::BadBase64);
        assert_eq!(signed(&URL_ECHO[..URL_ECHO.len() - 2]), CryptoError::BadBase64);
        assert_eq!(signed(&URL_ECHO.replace('+', " ")), CryptoError::BadBase64);
        assert_eq!(signed(""), CryptoError::BadCiphertextLength(0));
        assert_eq!(signed(&STANDARD.encode([0u8; 17])), CryptoError::BadCiphertextLength(17));
        assert_eq!(signed(&STANDARD.encode([0u8; 16])), CryptoError::BadCiphertextLength(16));
        assert_eq!(signed(&STANDARD.encode([0u8; 48])), CryptoError::BadCiphertextLength(48));
        assert_eq!(signed("AAAA").code(), "wecom_bad_ciphertext_length");
    }

    #[test]
    fn rejects_bad_padding() {
        let c = crypto();
        let body = layout([9; 16], 6, b"hello!", RECEIVE_ID.as_bytes()); // 44 bytes
        for (last, fill) in [(0u8, 0u8), (33, 33), (255, 255), (20, 19), (20, 0)] {
            let mut plain = body.clone();
            plain.resize(64, fill);
            *plain.last_mut().unwrap() = last;
            let (ct, sig) = forge(&c, plain);
            assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err(), CryptoError::BadPadding, "pad {last}/{fill}");
        }
        // A whole block of padding value 32 after a 32-aligned body is right; 33 bytes are not possible.
        let mut plain = layout([9; 16], 26, &[b'z'; 26], RECEIVE_ID.as_bytes());
        assert_eq!(plain.len(), 64);
        plain.resize(96, 32);
        let (ct, sig) = forge(&c, plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap(), "z".repeat(26));
    }

    #[test]
    fn rejects_bad_length_field() {
        let c = crypto();
        let pad_to = |mut plain: Vec<u8>, len: usize| {
            let pad = len - plain.len();
            plain.resize(len, pad as u8);
            plain
        };
        // Length field beyond the buffer.
        let (ct, sig) = forge(&c, pad_to(layout([1; 16], 1000, b"hi", RECEIVE_ID.as_bytes()), 64));
        assert_eq!(
            c.decrypt(&sig, "1", "2", &ct).unwrap_err(),
            CryptoError::BadLength { declared: 1000, available: 20 }
        );
        let (ct, sig) = forge(&c, pad_to(layout([1; 16], u32::MAX, b"", b""), 32));
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err().code(), "wecom_bad_length");
        // Shorter than the 20-byte header (all padding).
        let (ct, sig) = forge(&c, vec![32; 32]);
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err(), CryptoError::BadLength { declared: 0, available: 0 });
        let (ct, sig) = forge(&c, pad_to(vec![1; 19], 32));
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err().code(), "wecom_bad_length");
        // Length field shorter than the message: the tail no longer equals the receive id.
        let (ct, sig) = forge(&c, pad_to(layout([1; 16], 1, b"hi", RECEIVE_ID.as_bytes()), 64));
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err(), CryptoError::ReceiveIdMismatch);
    }

    #[test]
    fn rejects_truncated_message() {
        let c = crypto();
        let reply = c.encrypt(&"离职".repeat(40), "1", "2").unwrap();
        let raw = STANDARD.decode(&reply.ciphertext).unwrap();
        for keep in [raw.len() - 32, raw.len() - 64, 32, raw.len() - 16, raw.len() - 1] {
            let cut = STANDARD.encode(&raw[..keep]);
            let err = c.decrypt(&c.signature("1", "2", &cut), "1", "2", &cut).unwrap_err();
            assert!(
                matches!(
                    err,
                    CryptoError::BadPadding | CryptoError::BadLength { .. } | CryptoError::BadCiphertextLength(_)
                ),
                "keep {keep}: {err:?}"
            );
        }
    }

    #[test]
    fn rejects_other_receive_id() {
        let c = crypto();
        for other in ["wx5823bf96d3bd56c8", "wx5823bf96d3bd56c", "wx5823bf96d3bd56c7x", "ww1436e0e65a779aee"] {
            let foreign = CallbackCrypto::new(TOKEN, KEY, other).unwrap();
            let reply = foreign.encrypt("<xml>for another corp</xml>", "1", "2").unwrap();
            assert_eq!(
                c.decrypt(&reply.signature, "1", "2", &reply.ciphertext).unwrap_err(),
                CryptoError::ReceiveIdMismatch,
                "{other}"
            );
        }
        // And the Tencent sample under another corp id.
        let other = CallbackCrypto::new(TOKEN, KEY, "ww1436e0e65a779aee").unwrap();
        assert_eq!(other.verify_url(URL_SIG, URL_TS, URL_NONCE, URL_ECHO).unwrap_err(), CryptoError::ReceiveIdMismatch);
    }

    #[test]
    fn rejects_non_utf8_message() {
        let c = crypto();
        let mut plain = layout([1; 16], 2, &[0xff, 0xfe], RECEIVE_ID.as_bytes());
        let pad = 64 - plain.len();
        plain.resize(64, pad as u8);
        let (ct, sig) = forge(&c, plain);
        assert_eq!(c.decrypt(&sig, "1", "2", &ct).unwrap_err().code(), "wecom_bad_utf8");
    }

    #[test]
    fn rejects_bad_reply_fields() {
        let c = crypto();
        for (ts, nonce) in [("", "1"), ("1", ""), ("1<", "2"), ("1", "a&b"), ("1", "]]>"), ("1 2", "3")] {
            assert_eq!(c.encrypt("x", ts, nonce).unwrap_err().code(), "wecom_bad_reply_field", "{ts:?} {nonce:?}");
        }
        assert!(c.encrypt("x", &"1".repeat(65), "2").is_err());
    }

    #[test]
    fn extract_encrypt_accepts_wecom_shapes() {
        let cdata = "<xml><ToUserName><![CDATA[ww1]]></ToUserName><Encrypt><![CDATA[abc+/=]]></Encrypt>\
                     <AgentID><![CDATA[218]]></AgentID></xml>";
        assert_eq!(extract_encrypt(cdata).unwrap(), "abc+/=");
        let plain = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<xml>\n  <Encrypt>\n abc \n</Encrypt>\n  \
                     <!-- note --><AgentID>1&amp;2</AgentID>\n</xml>\n";
        assert_eq!(extract_encrypt(plain).unwrap(), "abc");
        let wechatpy_style = "<xml>\n<Encrypt><![CDATA[QUJD]]></Encrypt>\n<MsgSignature><![CDATA[ff]]></MsgSignature>\n\
                              <TimeStamp>1</TimeStamp>\n<Nonce><![CDATA[2]]></Nonce>\n</xml>";
        assert_eq!(extract_encrypt(wechatpy_style).unwrap(), "QUJD");
        assert_eq!(extract_encrypt("\u{feff}<xml><Empty/><Encrypt>x</Encrypt></xml>").unwrap(), "x");
    }

    #[test]
    fn extract_encrypt_refuses_malformed_xml() {
        for bad in [
            "",
            "<xml>",
            "<xml><Encrypt>abc</Encrypt>",
            "<xml><Encrypt>abc</Encrypt></xml><xml></xml>",
            "<xml><Encrypt>abc</xml></Encrypt>",
            "<xml><Encrypt>abc</encrypt></xml>",
            "<xml></xml>",
            "<xml><Encrypt/></xml>",
            "<xml><Encrypt>  </Encrypt></xml>",
            "<xml><Encrypt>a</Encrypt><Encrypt>b</Encrypt></xml>",
            "<xml><Inner><Encrypt>abc</Encrypt></Inner></xml>",
            "<Encrypt>abc</Encrypt>",
            "<root><Encrypt>abc</Encrypt></root>",
            "<xml><Encrypt><![CDATA[abc</Encrypt></xml>",
            "<xml><Encrypt>a<b/>c</Encrypt></xml>",
            "<xml a=\"1\"><Encrypt>abc</Encrypt></xml>",
            "<xml><Encrypt>abc</Encrypt><x>&bogus;</x></xml>",
            "<xml><Encrypt>a&b</Encrypt></xml>",
            "<!DOCTYPE xml [<!ENTITY e \"x\">]><xml><Encrypt>&e;</Encrypt></xml>",
            "junk<xml><Encrypt>abc</Encrypt></xml>",
            "<xml><Encrypt>abc</Encrypt></xml>junk",
            "<xml><Encrypt>abc</Encrypt><!-- open </xml>",
            "<xml><Encrypt>abc</Encrypt><1x>y</1x></xml>",
            "<xml><?pi x?><Encrypt>abc</Encrypt></xml>",
        ] {
            let err = extract_encrypt(bad).unwrap_err();
            assert_eq!(err.code(), "wecom_bad_xml", "{bad:?}: {err}");
        }
    }

    #[test]
    fn codes_are_distinct() {
        let all = [
            CryptoError::BadKey("x"),
            CryptoError::BadConfig("x"),
            CryptoError::BadSignature,
            CryptoError::BadBase64,
            CryptoError::BadCiphertextLength(1),
            CryptoError::BadPadding,
            CryptoError::BadLength { declared: 1, available: 0 },
            CryptoError::ReceiveIdMismatch,
            CryptoError::BadUtf8,
            CryptoError::BadXml("x"),
            CryptoError::BadReplyField("nonce"),
            CryptoError::MessageTooLong,
            CryptoError::RandomUnavailable,
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(CryptoError::code).collect();
        assert_eq!(codes.len(), all.len());
        assert!(
            codes.iter().all(|c| c.starts_with("wecom_")
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'))
        );
    }
}
