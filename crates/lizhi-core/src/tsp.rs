//! RFC 3161 timestamps for the audit log's checkpoints: build the request, read the authority's response and
//! check it offline, so a root hash can be proven to have existed at a time vouched for by a third party.
//!
//! Pure code over DER bytes: sending the request and storing the response is the caller's business. The
//! checks follow RFC 3161 § 2.4 and the CMS rules of RFC 5652 § 5; certificate checks are deliberately one
//! level deep (a configured trust anchor that issued the TSA certificate, or is it), see [`verify`].

mod cms;
mod der;
mod x509;

#[cfg(test)]
mod tests;

use base64::Engine;
use chrono::{DateTime, Utc};
use x509::{Certificate, Context, Hash};

/// The DER contents of the SHA-256 OID 2.16.840.1.101.3.4.2.1, the only imprint algorithm Lizhi sends.
const SHA256_OID_CONTENT: [u8; 9] = [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// Why a timestamp response could not be read or does not prove what it should; codes are stable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TspError {
    /// The bytes are not the DER structure expected at this point.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// The structure that was being read.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// The PEM text holds no usable CERTIFICATE block.
    #[error("bad PEM certificate: {0}")]
    Pem(String),
    /// The authority answered with a status other than granted or grantedWithMods.
    #[error("the timestamp authority refused the request: {}", rejection_text(*.status, .status_string, .fail_info))]
    Rejected {
        /// The PKIStatus (2 rejection, 3 waiting, 4 revocationWarning, 5 revocationNotification).
        status: u64,
        /// The authority's free-text explanation, if any.
        status_string: Option<String>,
        /// The names of the PKIFailureInfo bits set (`badAlg`, `badRequest`, …).
        fail_info: Vec<String>,
    },
    /// The status says granted but no token came with it.
    #[error("the response is granted but carries no timestamp token")]
    MissingToken,
    /// The token wraps something other than a SignedData over a TSTInfo.
    #[error("unexpected content type {found}, expected {expected}")]
    UnexpectedContentType {
        /// The OID required here.
        expected: &'static str,
        /// The OID found.
        found: String,
    },
    /// A digest or signature algorithm (or key) this checker cannot verify.
    #[error("unsupported {0}")]
    UnsupportedAlgorithm(String),
    /// A timestamp token must carry exactly one signature, the TSA's (RFC 3161 § 2.4.2).
    #[error("the token has {0} signers; exactly one is required")]
    SignerCount(usize),
    /// The signed attributes are missing, duplicated or do not name the TSTInfo content.
    #[error("bad signed attributes: {0}")]
    BadSignedAttributes(&'static str),
    /// The signed messageDigest is not the hash of the TSTInfo: the token was altered after signing.
    #[error("the signed message digest does not match the TSTInfo; the token was altered")]
    MessageDigestMismatch,
    /// None of the certificates in the token (nor the trust anchor) is the one that signed.
    #[error("the signer's certificate is neither in the token nor the trust anchor")]
    SignerCertNotFound,
    /// The token lacks the ESS signing-certificate attribute that binds the signature to one certificate.
    #[error("the token has no ESS signing-certificate attribute")]
    MissingSigningCertificate,
    /// The ESS signing-certificate attribute names another certificate than the one that signed.
    #[error("the ESS signing-certificate attribute does not match the signer's certificate")]
    SigningCertificateMismatch,
    /// The TSA's signature does not verify with its certificate's key.
    #[error("the TSA signature does not verify")]
    BadSignature,
    /// The timestamp was requested for another hash algorithm than SHA-256.
    #[error("the timestamp imprint uses algorithm {0}, not SHA-256")]
    ImprintAlgorithm(String),
    /// The timestamp is valid but for other data.
    #[error("the timestamp is for another digest")]
    ImprintMismatch,
    /// A nonce was sent but the response has none, so it may be a replay.
    #[error("the timestamp has no nonce but {0} was sent")]
    NonceMissing(u64),
    /// The response answers another request.
    #[error("nonce mismatch: sent {expected}, the timestamp has {found}")]
    NonceMismatch {
        /// The nonce sent.
        expected: u64,
        /// The nonce in the token.
        found: u64,
    },
    /// The signer certificate was issued by someone other than the trust anchor.
    #[error("the signer certificate was issued by {issuer}, not by the trust anchor {anchor}")]
    IssuerMismatch {
        /// The issuer named in the signer certificate.
        issuer: String,
        /// The trust anchor's subject.
        anchor: String,
    },
    /// The trust anchor's signature on the signer certificate does not verify.
    #[error("the signer certificate's signature does not verify with the trust anchor's key")]
    BadCertificateSignature,
    /// The signer certificate is not restricted to timestamping (RFC 3161 § 2.3).
    #[error("the signer certificate is not a timestamping certificate: {0}")]
    NotTimestampingCertificate(&'static str),
    /// A certificate of the chain was not valid when the timestamp was made.
    #[error("the {which} certificate is not valid at the timestamp time {gen_time}")]
    CertificateNotValid {
        /// `signer` or `trust anchor`.
        which: &'static str,
        /// The timestamp's genTime.
        gen_time: DateTime<Utc>,
    },
}

impl TspError {
    /// The stable machine-readable code, for logs, the API and translation keys.
    pub fn code(&self) -> &'static str {
        match self {
            TspError::Malformed { .. } => "malformed",
            TspError::Pem(_) => "bad_pem",
            TspError::Rejected { .. } => "rejected",
            TspError::MissingToken => "missing_token",
            TspError::UnexpectedContentType { .. } => "unexpected_content_type",
            TspError::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            TspError::SignerCount(_) => "signer_count",
            TspError::BadSignedAttributes(_) => "bad_signed_attributes",
            TspError::MessageDigestMismatch => "message_digest_mismatch",
            TspError::SignerCertNotFound => "signer_cert_not_found",
            TspError::MissingSigningCertificate => "missing_signing_certificate",
            TspError::SigningCertificateMismatch => "signing_certificate_mismatch",
            TspError::BadSignature => "bad_signature",
            TspError::ImprintAlgorithm(_) => "imprint_algorithm",
            TspError::ImprintMismatch => "imprint_mismatch",
            TspError::NonceMissing(_) => "nonce_missing",
            TspError::NonceMismatch { .. } => "nonce_mismatch",
            TspError::IssuerMismatch { .. } => "issuer_mismatch",
            TspError::BadCertificateSignature => "bad_certificate_signature",
            TspError::NotTimestampingCertificate(_) => "not_timestamping_certificate",
            TspError::CertificateNotValid { .. } => "certificate_not_valid",
        }
    }
}

fn rejection_text(status: u64, status_string: &Option<String>, fail_info: &[String]) -> String {
    let name = match status {
        0 => "granted",
        1 => "grantedWithMods",
        2 => "rejection",
        3 => "waiting",
        4 => "revocationWarning",
        5 => "revocationNotification",
        _ => "unknown",
    };
    let mut out = format!("status {status} ({name})");
    if !fail_info.is_empty() {
        out.push_str(&format!(", failInfo {}", fail_info.join(",")));
    }
    if let Some(text) = status_string {
        out.push_str(&format!(", \"{text}\""));
    }
    out
}

/// What a granted timestamp response says, read without checking any signature (see [`verify`] for that).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The PKIStatus: 0 granted or 1 grantedWithMods.
    pub status: u64,
    /// The TSA policy under which the timestamp was issued, as a dotted OID.
    pub policy: String,
    /// The messageImprint hash algorithm, as a dotted OID.
    pub hash_algorithm: String,
    /// The messageImprint hash: what was timestamped.
    pub hashed_message: Vec<u8>,
    /// The TSA's serial number of this timestamp, lowercase hex without a sign octet.
    pub serial: String,
    /// When the TSA says the hash existed.
    pub gen_time: DateTime<Utc>,
    /// The TSA's stated accuracy of `gen_time` in microseconds, if given.
    pub accuracy_micros: Option<u64>,
    /// Whether the TSA promises that its genTimes order its timestamps.
    pub ordering: bool,
    /// The nonce echoed from the request, if any.
    pub nonce: Option<u64>,
    /// The TSA's name from the TSTInfo, if given (directory names as `CN=…`).
    pub tsa_name: Option<String>,
    /// The DER TimeStampToken (CMS ContentInfo) alone, for storing without the status wrapper.
    pub token_der: Vec<u8>,
}

/// A timestamp whose signature checked out, with what it proves and how far its signer was checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// When the TSA vouches the digest existed.
    pub gen_time: DateTime<Utc>,
    /// The TSA's serial number of the timestamp (lowercase hex).
    pub serial: String,
    /// The TSA policy OID (dotted).
    pub policy: String,
    /// The signer certificate's subject, e.g. `O=Example, CN=Example TSA`.
    pub signer_subject: String,
    /// The signer certificate's issuer.
    pub signer_issuer: String,
    /// The signature scheme of the token, e.g. `rsa-pkcs1-sha256` or `ecdsa-p256-sha256`.
    pub signature_algorithm: &'static str,
    /// Whether the signer certificate was checked against a trust anchor; `false` proves only consistency.
    pub chain_checked: bool,
    /// Everything the token says.
    pub token: Token,
}

/// A DER `TimeStampReq` for a SHA-256 `digest`: version 1, the imprint (with NULL parameters, as `openssl ts`
/// writes them), `nonce` against replays, and `certReq` so the response carries the TSA certificate.
pub fn request(digest: &[u8; 32], nonce: u64) -> Vec<u8> {
    let mut alg = der::tlv(der::OID, &SHA256_OID_CONTENT);
    der::write(&mut alg, der::NULL, &[]);
    let mut imprint = der::tlv(der::SEQUENCE, &alg);
    der::write(&mut imprint, der::OCTET_STRING, digest);
    let mut body = der::tlv(der::INTEGER, &[1]);
    der::write(&mut body, der::SEQUENCE, &imprint);
    der::write(&mut body, der::INTEGER, &der::uint_content(nonce));
    der::write(&mut body, der::BOOLEAN, &[0xff]);
    der::tlv(der::SEQUENCE, &body)
}

fn token_of(resp: &cms::Response<'_>) -> Token {
    let tst = &resp.tst;
    Token {
        status: resp.status,
        policy: tst.policy.clone(),
        hash_algorithm: tst.hash_alg.clone(),
        hashed_message: tst.hashed_message.to_vec(),
        serial: hex::encode(tst.serial),
        gen_time: tst.gen_time,
        accuracy_micros: tst.accuracy_micros,
        ordering: tst.ordering,
        nonce: tst.nonce,
        tsa_name: tst.tsa.clone(),
        token_der: resp.token.to_vec(),
    }
}

/// Reads a DER `TimeStampResp` to show or index what it says; nothing is verified. A refused request is
/// [`TspError::Rejected`].
pub fn parse_response(resp_der: &[u8]) -> Result<Token, TspError> {
    Ok(token_of(&cms::parse(resp_der)?))
}

/// The single value of signed attribute `oid`, refusing duplicates (RFC 5652 § 11.1–11.2).
fn single_attr<'a>(attrs: &[(String, Vec<der::Tlv<'a>>)], oid: &str) -> Result<Option<der::Tlv<'a>>, TspError> {
    let mut found = attrs.iter().filter(|(t, _)| t == oid);
    match (found.next(), found.next()) {
        (None, _) => Ok(None),
        (Some((_, values)), None) if values.len() == 1 => Ok(Some(values[0])),
        _ => Err(TspError::BadSignedAttributes("an attribute appears twice or has several values")),
    }
}

fn signer_matches(sid: &cms::SignerId<'_>, cert: &Certificate<'_>) -> bool {
    match sid {
        cms::SignerId::IssuerSerial { issuer, serial } => cert.issuer == *issuer && cert.serial == *serial,
        cms::SignerId::KeyId(id) => cert.subject_key_id() == Some(id),
    }
}

/// Checks the ESS signing-certificate attribute (RFC 2634 / RFC 5035): its first entry must hash to the signer
/// certificate, so the signature cannot be attributed to a substituted certificate with the same key.
fn check_signing_certificate(attrs: &[(String, Vec<der::Tlv<'_>>)], cert: &Certificate<'_>) -> Result<(), TspError> {
    let what = "ESS signing-certificate attribute";
    let (value, v2) = match single_attr(attrs, cms::ATTR_SIGNING_CERTIFICATE_V2)? {
        Some(v) => (v, true),
        None => (single_attr(attrs, cms::ATTR_SIGNING_CERTIFICATE)?.ok_or(TspError::MissingSigningCertificate)?, false),
    };
    let signing_cert = der::single(value.raw, der::SEQUENCE).ctx(what)?;
    let mut certs = signing_cert.reader().expect(der::SEQUENCE).ctx(what)?.reader();
    let mut first = certs.expect(der::SEQUENCE).ctx(what)?.reader();
    let expected = if !v2 {
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, cert.raw).as_ref().to_vec()
    } else if first.peek_tag() == Some(der::SEQUENCE) {
        Hash::from_oid(&x509::AlgId::read(&mut first).ctx(what)?.oid())?.digest(cert.raw)
    } else {
        Hash::Sha256.digest(cert.raw)
    };
    if first.expect(der::OCTET_STRING).ctx(what)?.value != expected.as_slice() {
        return Err(TspError::SigningCertificateMismatch);
    }
    if let Some(issuer_serial) = first.optional(der::SEQUENCE).ctx(what)? {
        let mut r = issuer_serial.reader();
        r.expect(der::SEQUENCE).ctx(what)?;
        if r.expect(der::INTEGER).ctx(what)?.value != cert.serial {
            return Err(TspError::SigningCertificateMismatch);
        }
    }
    first.finish().ctx(what)
}

/// One-level path check: the anchor issued (or is) the signer certificate, both were valid at `gen_time`,
/// and the signer certificate is for timestamping only (critical extendedKeyUsage = id-kp-timeStamping).
fn check_chain(cert: &Certificate<'_>, anchor: &Certificate<'_>, gen_time: DateTime<Utc>) -> Result<(), TspError> {
    if cert.raw != anchor.raw {
        if cert.issuer != anchor.subject {
            return Err(TspError::IssuerMismatch {
                issuer: x509::name_to_string(cert.issuer),
                anchor: x509::name_to_string(anchor.subject),
            });
        }
        x509::verify_signature(&anchor.key, &cert.signature_alg, None, cert.tbs, cert.signature)?
            .ok_or(TspError::BadCertificateSignature)?;
        if !anchor.valid_at(gen_time) {
            return Err(TspError::CertificateNotValid { which: "trust anchor", gen_time });
        }
    }
    if !cert.valid_at(gen_time) {
        return Err(TspError::CertificateNotValid { which: "signer", gen_time });
    }
    let eku = cert
        .extension(x509::EXT_EXTENDED_KEY_USAGE)
        .ok_or(TspError::NotTimestampingCertificate("no extendedKeyUsage extension"))?;
    if !eku.critical {
        return Err(TspError::NotTimestampingCertificate("extendedKeyUsage is not critical"));
    }
    let mut purposes = der::single(eku.value, der::SEQUENCE).ctx("extendedKeyUsage")?.reader();
    let mut list = Vec::new();
    while !purposes.is_empty() {
        list.push(der::read_oid(&mut purposes).ctx("extendedKeyUsage")?);
    }
    if list != [x509::KP_TIME_STAMPING] {
        return Err(TspError::NotTimestampingCertificate("extendedKeyUsage is not exactly id-kp-timeStamping"));
    }
    if let Some(ku) = cert.extension(x509::EXT_KEY_USAGE) {
        let bits = der::single(ku.value, der::BIT_STRING).ctx("keyUsage")?;
        let signs =
            der::bit_is_set(bits.value, 0).ctx("keyUsage")? || der::bit_is_set(bits.value, 1).ctx("keyUsage")?;
        if !signs {
            return Err(TspError::NotTimestampingCertificate(
                "keyUsage allows neither digitalSignature nor nonRepudiation",
            ));
        }
    }
    Ok(())
}

/// Checks that `resp_der` is a granted timestamp of exactly `digest` (SHA-256), answering `nonce` when given,
/// correctly signed by the certificate it names (CMS signed attributes, messageDigest, ESS signing-certificate,
/// signature). With `trust_anchor_der` it also checks that the anchor issued or is the signer certificate, both
/// valid at genTime, and that the signer is a timestamping certificate. Revocation is not checked.
pub fn verify(
    resp_der: &[u8],
    digest: &[u8; 32],
    nonce: Option<u64>,
    trust_anchor_der: Option<&[u8]>,
) -> Result<Verified, TspError> {
    let resp = cms::parse(resp_der)?;
    let anchor = trust_anchor_der.map(|raw| Certificate::parse(raw, "trust anchor certificate")).transpose()?;
    let signer = match resp.signed.signers.as_slice() {
        [one] => one,
        many => return Err(TspError::SignerCount(many.len())),
    };
    let attrs_tlv = signer.signed_attrs.ok_or(TspError::BadSignedAttributes("the signer has no signed attributes"))?;
    let attrs = cms::attributes(attrs_tlv)?;
    let content_type = single_attr(&attrs, cms::ATTR_CONTENT_TYPE)?
        .ok_or(TspError::BadSignedAttributes("the contentType attribute is missing"))?;
    if content_type.tag != der::OID || der::oid_string(content_type.value).as_deref() != Ok(cms::CT_TST_INFO) {
        return Err(TspError::BadSignedAttributes("the contentType attribute is not id-ct-TSTInfo"));
    }
    let message_digest = single_attr(&attrs, cms::ATTR_MESSAGE_DIGEST)?
        .filter(|md| md.tag == der::OCTET_STRING)
        .ok_or(TspError::BadSignedAttributes("the messageDigest attribute is missing"))?;
    let digest_oid = signer.digest_alg.oid();
    if message_digest.value != Hash::from_oid(&digest_oid)?.digest(resp.signed.econtent).as_slice() {
        return Err(TspError::MessageDigestMismatch);
    }

    let embedded = resp.signed.certificates.iter().filter_map(|raw| Certificate::parse(raw, "certificate").ok());
    let cert =
        embedded.chain(anchor.clone()).find(|c| signer_matches(&signer.sid, c)).ok_or(TspError::SignerCertNotFound)?;
    check_signing_certificate(&attrs, &cert)?;
    // RFC 5652 § 5.4: the signature covers the DER of the attributes with the SET OF tag, not the [0] tag.
    let mut signed_bytes = attrs_tlv.raw.to_vec();
    if let Some(tag) = signed_bytes.first_mut() {
        *tag = der::SET;
    }
    let signature_algorithm =
        x509::verify_signature(&cert.key, &signer.signature_alg, Some(&digest_oid), &signed_bytes, signer.signature)?
            .ok_or(TspError::BadSignature)?;

    let tst = &resp.tst;
    if tst.hash_alg != x509::SHA256 {
        return Err(TspError::ImprintAlgorithm(tst.hash_alg.clone()));
    }
    if tst.hashed_message != digest {
        return Err(TspError::ImprintMismatch);
    }
    if let Some(expected) = nonce {
        match tst.nonce {
            None => return Err(TspError::NonceMissing(expected)),
            Some(found) if found != expected => return Err(TspError::NonceMismatch { expected, found }),
            Some(_) => {}
        }
    }
    if let Some(anchor) = &anchor {
        check_chain(&cert, anchor, tst.gen_time)?;
    }
    let token = token_of(&resp);
    Ok(Verified {
        gen_time: token.gen_time,
        serial: token.serial.clone(),
        policy: token.policy.clone(),
        signer_subject: x509::name_to_string(cert.subject),
        signer_issuer: x509::name_to_string(cert.issuer),
        signature_algorithm,
        chain_checked: anchor.is_some(),
        token,
    })
}

/// The DER of the first `CERTIFICATE` block of PEM text, so a trust anchor can be configured as a `.pem` file.
pub fn pem_to_der(pem: &str) -> Result<Vec<u8>, TspError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let start = pem.find(BEGIN).ok_or_else(|| TspError::Pem("no CERTIFICATE block".into()))? + BEGIN.len();
    let len = pem[start..].find(END).ok_or_else(|| TspError::Pem("the CERTIFICATE block is not terminated".into()))?;
    let body: String = pem[start..start + len].chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let der = base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|e| TspError::Pem(format!("bad base64: {e}")))?;
    der::single(&der, der::SEQUENCE).map_err(|e| TspError::Pem(format!("not a DER certificate: {e}")))?;
    Ok(der)
}
