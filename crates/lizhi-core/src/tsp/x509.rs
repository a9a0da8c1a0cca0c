//! The slice of X.509 (RFC 5280) a timestamp check needs: certificate fields, readable names, digest and
//! signature algorithms mapped onto `ring`.

use super::TspError;
use super::der::{self, DerError, Reader, Tlv};
use chrono::{DateTime, Utc};
use ring::signature::{self, UnparsedPublicKey, VerificationAlgorithm};

pub(crate) const SHA256: &str = "2.16.840.1.101.3.4.2.1";
pub(crate) const SHA384: &str = "2.16.840.1.101.3.4.2.2";
pub(crate) const SHA512: &str = "2.16.840.1.101.3.4.2.3";
const RSA_ENCRYPTION: &str = "1.2.840.113549.1.1.1";
const MGF1: &str = "1.2.840.113549.1.1.8";
const RSASSA_PSS: &str = "1.2.840.113549.1.1.10";
const SHA256_WITH_RSA: &str = "1.2.840.113549.1.1.11";
const SHA384_WITH_RSA: &str = "1.2.840.113549.1.1.12";
const SHA512_WITH_RSA: &str = "1.2.840.113549.1.1.13";
const EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
const P256: &str = "1.2.840.10045.3.1.7";
const P384: &str = "1.3.132.0.34";
const ECDSA_SHA256: &str = "1.2.840.10045.4.3.2";
const ECDSA_SHA384: &str = "1.2.840.10045.4.3.3";
const ECDSA_SHA512: &str = "1.2.840.10045.4.3.4";
const ED25519: &str = "1.3.101.112";
pub(crate) const EXT_SUBJECT_KEY_ID: &str = "2.5.29.14";
pub(crate) const EXT_KEY_USAGE: &str = "2.5.29.15";
pub(crate) const EXT_EXTENDED_KEY_USAGE: &str = "2.5.29.37";
pub(crate) const KP_TIME_STAMPING: &str = "1.3.6.1.5.5.7.3.8";

/// Attaches the name of the structure being read to a DER error, so messages say where a token is broken.
pub(crate) trait Context<T> {
    fn ctx(self, what: &'static str) -> Result<T, TspError>;
}

impl<T> Context<T> for Result<T, DerError> {
    fn ctx(self, what: &'static str) -> Result<T, TspError> {
        self.map_err(|e| TspError::Malformed { what, reason: e.to_string() })
    }
}

/// An AlgorithmIdentifier: the OID and its parameters, if any.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AlgId<'a> {
    pub raw: &'a [u8],
    pub params: Option<Tlv<'a>>,
    oid_value: &'a [u8],
}

impl<'a> AlgId<'a> {
    pub fn read(r: &mut Reader<'a>) -> Result<Self, DerError> {
        let seq = r.expect(der::SEQUENCE)?;
        let mut inner = seq.reader();
        let oid = inner.expect(der::OID)?;
        der::oid_string(oid.value)?;
        let params = if inner.is_empty() { None } else { Some(inner.any()?) };
        inner.finish()?;
        Ok(AlgId { raw: seq.raw, params, oid_value: oid.value })
    }

    pub fn oid(&self) -> String {
        der::oid_string(self.oid_value).unwrap_or_default()
    }
}

/// The digest algorithms a signer may use for CMS message digests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Hash {
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    pub fn from_oid(oid: &str) -> Result<Self, TspError> {
        match oid {
            SHA256 => Ok(Hash::Sha256),
            SHA384 => Ok(Hash::Sha384),
            SHA512 => Ok(Hash::Sha512),
            other => Err(TspError::UnsupportedAlgorithm(format!("digest algorithm {other}"))),
        }
    }

    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let alg = match self {
            Hash::Sha256 => &ring::digest::SHA256,
            Hash::Sha384 => &ring::digest::SHA384,
            Hash::Sha512 => &ring::digest::SHA512,
        };
        ring::digest::digest(alg, data).as_ref().to_vec()
    }

    fn len(self) -> u64 {
        match self {
            Hash::Sha256 => 32,
            Hash::Sha384 => 48,
            Hash::Sha512 => 64,
        }
    }
}

/// A subjectPublicKeyInfo: the key algorithm, the curve for EC keys, and the key octets `ring` expects.
#[derive(Debug, Clone)]
pub(crate) struct PublicKey<'a> {
    alg: String,
    curve: Option<String>,
    key: &'a [u8],
}

/// One certificate extension.
#[derive(Debug, Clone)]
pub(crate) struct Extension<'a> {
    pub oid: String,
    pub critical: bool,
    pub value: &'a [u8],
}

/// The certificate fields a timestamp check looks at, borrowed from the DER.
#[derive(Debug, Clone)]
pub(crate) struct Certificate<'a> {
    pub raw: &'a [u8],
    pub tbs: &'a [u8],
    pub serial: &'a [u8],
    pub issuer: &'a [u8],
    pub subject: &'a [u8],
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub key: PublicKey<'a>,
    pub extensions: Vec<Extension<'a>>,
    pub signature_alg: AlgId<'a>,
    pub signature: &'a [u8],
}

fn read_time(r: &mut Reader<'_>) -> Result<DateTime<Utc>, DerError> {
    let t = r.any()?;
    match t.tag {
        der::UTC_TIME => der::utc_time(t.value),
        der::GENERALIZED_TIME => der::generalized_time(t.value),
        found => Err(DerError::UnexpectedTag { expected: der::UTC_TIME, found: Some(found) }),
    }
}

impl<'a> Certificate<'a> {
    /// Parses one DER certificate; `what` names it in errors (e.g. "trust anchor certificate").
    pub fn parse(raw: &'a [u8], what: &'static str) -> Result<Self, TspError> {
        Self::parse_der(raw).ctx(what)
    }

    fn parse_der(raw: &'a [u8]) -> Result<Self, DerError> {
        let cert = der::single(raw, der::SEQUENCE)?;
        let mut r = cert.reader();
        let tbs = r.expect(der::SEQUENCE)?;
        let signature_alg = AlgId::read(&mut r)?;
        let signature = der::bit_string_octets(r.expect(der::BIT_STRING)?.value)?;
        r.finish()?;

        let mut t = tbs.reader();
        t.optional(der::context(0, true))?;
        let serial = t.expect(der::INTEGER)?.value;
        let inner_alg = AlgId::read(&mut t)?;
        if inner_alg.raw != signature_alg.raw {
            // RFC 5280 § 4.1.1.2: both copies must be identical, or the algorithm could be swapped unsigned.
            return Err(DerError::Invalid("the signed and unsigned signature algorithms differ"));
        }
        let issuer = t.expect(der::SEQUENCE)?.raw;
        let mut validity = t.expect(der::SEQUENCE)?.reader();
        let not_before = read_time(&mut validity)?;
        let not_after = read_time(&mut validity)?;
        validity.finish()?;
        let subject = t.expect(der::SEQUENCE)?.raw;
        let mut spki = t.expect(der::SEQUENCE)?.reader();
        let key_alg = AlgId::read(&mut spki)?;
        let key = der::bit_string_octets(spki.expect(der::BIT_STRING)?.value)?;
        spki.finish()?;
        let curve = match key_alg.params {
            Some(p) if p.tag == der::OID => Some(der::oid_string(p.value)?),
            _ => None,
        };
        t.optional(der::context(1, false))?;
        t.optional(der::context(2, false))?;
        let mut extensions = Vec::new();
        if let Some(exts) = t.optional(der::context(3, true))? {
            let list = der::single(exts.value, der::SEQUENCE)?;
            let mut list = list.reader();
            while !list.is_empty() {
                let mut ext = list.expect(der::SEQUENCE)?.reader();
                let oid = der::read_oid(&mut ext)?;
                let critical = match ext.optional(der::BOOLEAN)? {
                    Some(b) => der::boolean(b.value)?,
                    None => false,
                };
                let value = ext.expect(der::OCTET_STRING)?.value;
                ext.finish()?;
                extensions.push(Extension { oid, critical, value });
            }
        }
        t.finish()?;
        Ok(Certificate {
            raw,
            tbs: tbs.raw,
            serial,
            issuer,
            subject,
            not_before,
            not_after,
            key: PublicKey { alg: key_alg.oid(), curve, key },
            extensions,
            signature_alg,
            signature,
        })
    }

    pub fn extension(&self, oid: &str) -> Option<&Extension<'a>> {
        self.extensions.iter().find(|e| e.oid == oid)
    }

    /// The subjectKeyIdentifier, for CMS signers identified by key rather than issuer and serial.
    pub fn subject_key_id(&self) -> Option<&'a [u8]> {
        let ext = self.extension(EXT_SUBJECT_KEY_ID)?;
        der::single(ext.value, der::OCTET_STRING).ok().map(|t| t.value)
    }

    pub fn valid_at(&self, t: DateTime<Utc>) -> bool {
        self.not_before <= t && t <= self.not_after
    }
}

/// A Name as `CN=…, O=…` in encoding order; values that are not strings are shown as `#hex`.
pub(crate) fn name_to_string(raw: &[u8]) -> String {
    render_name(raw).unwrap_or_else(|_| format!("#{}", hex::encode(raw)))
}

fn render_name(raw: &[u8]) -> Result<String, DerError> {
    let name = der::single(raw, der::SEQUENCE)?;
    let mut rdns = name.reader();
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let mut set = rdns.expect(der::SET)?.reader();
        let mut atvs = Vec::new();
        while !set.is_empty() {
            let mut atv = set.expect(der::SEQUENCE)?.reader();
            let oid = der::read_oid(&mut atv)?;
            let value = atv.any()?;
            atv.finish()?;
            let key = match oid.as_str() {
                "2.5.4.3" => "CN",
                "2.5.4.5" => "serialNumber",
                "2.5.4.6" => "C",
                "2.5.4.7" => "L",
                "2.5.4.8" => "ST",
                "2.5.4.9" => "street",
                "2.5.4.10" => "O",
                "2.5.4.11" => "OU",
                "2.5.4.97" => "organizationIdentifier",
                "1.2.840.113549.1.9.1" => "emailAddress",
                "0.9.2342.19200300.100.1.25" => "DC",
                other => other,
            };
            let text = directory_string(value).unwrap_or_else(|| format!("#{}", hex::encode(value.raw)));
            atvs.push(format!("{key}={text}"));
        }
        parts.push(atvs.join("+"));
    }
    Ok(parts.join(", "))
}

/// The text of a DirectoryString or IA5String, if it is one.
pub(crate) fn directory_string(value: Tlv<'_>) -> Option<String> {
    match value.tag {
        der::UTF8_STRING | der::PRINTABLE_STRING | der::IA5_STRING => String::from_utf8(value.value.to_vec()).ok(),
        der::T61_STRING => Some(value.value.iter().map(|&b| char::from(b)).collect()),
        der::BMP_STRING if value.value.len().is_multiple_of(2) => {
            let units = value.value.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units).collect::<Result<String, _>>().ok()
        }
        der::UNIVERSAL_STRING if value.value.len().is_multiple_of(4) => {
            value.value.chunks_exact(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
        }
        _ => None,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    RsaPkcs1,
    RsaPss,
    Ecdsa,
    Ed25519,
}

fn hash_of(oid: Option<&str>) -> Result<Hash, TspError> {
    Hash::from_oid(oid.ok_or_else(|| TspError::UnsupportedAlgorithm("signature without a digest".into()))?)
}

/// The hash of RSASSA-PSS parameters (RFC 4055), accepted only in the form `ring` verifies: MGF1 with the same
/// hash and a salt as long as the hash.
fn pss_hash(params: Option<Tlv<'_>>) -> Result<Hash, TspError> {
    let bad =
        || TspError::UnsupportedAlgorithm("RSASSA-PSS parameters other than SHA-2 with matching MGF1 and salt".into());
    let params = params.filter(|p| p.tag == der::SEQUENCE).ok_or_else(bad)?;
    let mut r = params.reader();
    let hash_field = r.optional(der::context(0, true)).ctx("RSASSA-PSS parameters")?.ok_or_else(bad)?;
    let hash = Hash::from_oid(&AlgId::read(&mut hash_field.reader()).ctx("RSASSA-PSS parameters")?.oid())?;
    let mgf = r.optional(der::context(1, true)).ctx("RSASSA-PSS parameters")?.ok_or_else(bad)?;
    let mgf = AlgId::read(&mut mgf.reader()).ctx("RSASSA-PSS parameters")?;
    let mgf_hash = mgf.params.map(|p| AlgId::read(&mut Reader::new(p.raw))).transpose().ctx("RSASSA-PSS parameters")?;
    if mgf.oid() != MGF1 || mgf_hash.map(|a| a.oid()).as_deref().map(Hash::from_oid).transpose()? != Some(hash) {
        return Err(bad());
    }
    let salt = r.optional(der::context(2, true)).ctx("RSASSA-PSS parameters")?.ok_or_else(bad)?;
    let salt = der::small_uint(der::single(salt.value, der::INTEGER).ctx("RSASSA-PSS parameters")?.value)
        .ctx("RSASSA-PSS parameters")?;
    if salt != hash.len() {
        return Err(bad());
    }
    if let Some(trailer) = r.optional(der::context(3, true)).ctx("RSASSA-PSS parameters")? {
        let trailer = der::single(trailer.value, der::INTEGER).ctx("RSASSA-PSS parameters")?;
        if der::small_uint(trailer.value).ctx("RSASSA-PSS parameters")? != 1 {
            return Err(bad());
        }
    }
    r.finish().ctx("RSASSA-PSS parameters")?;
    Ok(hash)
}

/// Checks `signature` over `message` with `key`. `digest_hint` is the CMS digestAlgorithm, used when the
/// signature algorithm names only the key type (`rsaEncryption`, `id-ecPublicKey`). Returns the algorithm's
/// name, `Ok(None)` for a signature that does not verify (or a key of another type), and an error for an
/// unsupported algorithm or curve. RSA keys under 2048 bits are refused by `ring` and so count as not verifying.
pub(crate) fn verify_signature(
    key: &PublicKey<'_>,
    alg: &AlgId<'_>,
    digest_hint: Option<&str>,
    message: &[u8],
    signature: &[u8],
) -> Result<Option<&'static str>, TspError> {
    let oid = alg.oid();
    let (scheme, hash) = match oid.as_str() {
        RSA_ENCRYPTION => (Scheme::RsaPkcs1, Some(hash_of(digest_hint)?)),
        SHA256_WITH_RSA => (Scheme::RsaPkcs1, Some(Hash::Sha256)),
        SHA384_WITH_RSA => (Scheme::RsaPkcs1, Some(Hash::Sha384)),
        SHA512_WITH_RSA => (Scheme::RsaPkcs1, Some(Hash::Sha512)),
        RSASSA_PSS => (Scheme::RsaPss, Some(pss_hash(alg.params)?)),
        EC_PUBLIC_KEY => (Scheme::Ecdsa, Some(hash_of(digest_hint)?)),
        ECDSA_SHA256 => (Scheme::Ecdsa, Some(Hash::Sha256)),
        ECDSA_SHA384 => (Scheme::Ecdsa, Some(Hash::Sha384)),
        ECDSA_SHA512 => (Scheme::Ecdsa, Some(Hash::Sha512)),
        ED25519 => (Scheme::Ed25519, None),
        other => return Err(TspError::UnsupportedAlgorithm(format!("signature algorithm {other}"))),
    };
    let key_fits = match scheme {
        Scheme::RsaPkcs1 => key.alg == RSA_ENCRYPTION,
        Scheme::RsaPss => key.alg == RSA_ENCRYPTION || key.alg == RSASSA_PSS,
        Scheme::Ecdsa => key.alg == EC_PUBLIC_KEY,
        Scheme::Ed25519 => key.alg == ED25519,
    };
    if !key_fits {
        // A key of another type cannot have made this signature.
        return Ok(None);
    }
    let curve = key.curve.as_deref();
    let chosen: Option<(&'static dyn VerificationAlgorithm, &'static str)> = match (scheme, curve, hash) {
        (Scheme::RsaPkcs1, _, Some(Hash::Sha256)) => Some((&signature::RSA_PKCS1_2048_8192_SHA256, "rsa-pkcs1-sha256")),
        (Scheme::RsaPkcs1, _, Some(Hash::Sha384)) => Some((&signature::RSA_PKCS1_2048_8192_SHA384, "rsa-pkcs1-sha384")),
        (Scheme::RsaPkcs1, _, Some(Hash::Sha512)) => Some((&signature::RSA_PKCS1_2048_8192_SHA512, "rsa-pkcs1-sha512")),
        (Scheme::RsaPss, _, Some(Hash::Sha256)) => Some((&signature::RSA_PSS_2048_8192_SHA256, "rsa-pss-sha256")),
        (Scheme::RsaPss, _, Some(Hash::Sha384)) => Some((&signature::RSA_PSS_2048_8192_SHA384, "rsa-pss-sha384")),
        (Scheme::RsaPss, _, Some(Hash::Sha512)) => Some((&signature::RSA_PSS_2048_8192_SHA512, "rsa-pss-sha512")),
        (Scheme::Ecdsa, Some(P256), Some(Hash::Sha256)) => {
            Some((&signature::ECDSA_P256_SHA256_ASN1, "ecdsa-p256-sha256"))
        }
        (Scheme::Ecdsa, Some(P256), Some(Hash::Sha384)) => {
            Some((&signature::ECDSA_P256_SHA384_ASN1, "ecdsa-p256-sha384"))
        }
        (Scheme::Ecdsa, Some(P384), Some(Hash::Sha256)) => {
            Some((&signature::ECDSA_P384_SHA256_ASN1, "ecdsa-p384-sha256"))
        }
        (Scheme::Ecdsa, Some(P384), Some(Hash::Sha384)) => {
            Some((&signature::ECDSA_P384_SHA384_ASN1, "ecdsa-p384-sha384"))
        }
        (Scheme::Ed25519, _, _) => Some((&signature::ED25519, "ed25519")),
        _ => None,
    };
    let (algorithm, name) = chosen.ok_or_else(|| {
        let curve = curve.map(|c| format!(" on curve {c}")).unwrap_or_default();
        TspError::UnsupportedAlgorithm(format!("signature algorithm {oid}{curve}"))
    })?;
    Ok(UnparsedPublicKey::new(algorithm, key.key).verify(message, signature).ok().map(|()| name))
}
