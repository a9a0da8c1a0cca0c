//! Reading a `TimeStampResp` (RFC 3161 § 2.4.2) and the CMS `SignedData` (RFC 5652 § 5) inside its token,
//! borrowing every part from the input so signatures are checked over the exact bytes received.

use super::TspError;
use super::der::{self, Tlv};
use super::x509::{self, AlgId, Context};
use chrono::{DateTime, Utc};

pub(crate) const SIGNED_DATA: &str = "1.2.840.113549.1.7.2";
pub(crate) const CT_TST_INFO: &str = "1.2.840.113549.1.9.16.1.4";
pub(crate) const ATTR_CONTENT_TYPE: &str = "1.2.840.113549.1.9.3";
pub(crate) const ATTR_MESSAGE_DIGEST: &str = "1.2.840.113549.1.9.4";
pub(crate) const ATTR_SIGNING_CERTIFICATE: &str = "1.2.840.113549.1.9.16.2.12";
pub(crate) const ATTR_SIGNING_CERTIFICATE_V2: &str = "1.2.840.113549.1.9.16.2.47";

/// How a SignerInfo names its certificate.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SignerId<'a> {
    /// The issuer Name (whole DER element) and serial INTEGER contents.
    IssuerSerial { issuer: &'a [u8], serial: &'a [u8] },
    /// The subjectKeyIdentifier.
    KeyId(&'a [u8]),
}

/// One SignerInfo.
#[derive(Debug, Clone)]
pub(crate) struct SignerInfo<'a> {
    pub sid: SignerId<'a>,
    pub digest_alg: AlgId<'a>,
    /// The `[0] IMPLICIT` element as received; the signature covers it re-tagged as a SET.
    pub signed_attrs: Option<Tlv<'a>>,
    pub signature_alg: AlgId<'a>,
    pub signature: &'a [u8],
}

/// The parts of a SignedData a timestamp check uses.
#[derive(Debug, Clone)]
pub(crate) struct SignedData<'a> {
    pub econtent: &'a [u8],
    pub certificates: Vec<&'a [u8]>,
    pub signers: Vec<SignerInfo<'a>>,
}

/// The TSTInfo fields (RFC 3161 § 2.4.2).
#[derive(Debug, Clone)]
pub(crate) struct TstInfo<'a> {
    pub policy: String,
    pub hash_alg: String,
    pub hashed_message: &'a [u8],
    pub serial: &'a [u8],
    pub gen_time: DateTime<Utc>,
    pub accuracy_micros: Option<u64>,
    pub ordering: bool,
    pub nonce: Option<u64>,
    pub tsa: Option<String>,
}

/// A granted response, parsed.
#[derive(Debug, Clone)]
pub(crate) struct Response<'a> {
    pub status: u64,
    pub token: &'a [u8],
    pub signed: SignedData<'a>,
    pub tst: TstInfo<'a>,
}

const FAIL_INFO_NAMES: [(usize, &str); 8] = [
    (0, "badAlg"),
    (2, "badRequest"),
    (5, "badDataFormat"),
    (14, "timeNotAvailable"),
    (15, "unacceptedPolicy"),
    (16, "unacceptedExtension"),
    (17, "addInfoNotAvailable"),
    (25, "systemFailure"),
];

/// Parses a TimeStampResp; a status other than granted or grantedWithMods becomes [`TspError::Rejected`].
pub(crate) fn parse(resp: &[u8]) -> Result<Response<'_>, TspError> {
    let what = "TimeStampResp";
    let outer = der::single(resp, der::SEQUENCE).ctx(what)?;
    let mut r = outer.reader();
    let mut status_info = r.expect(der::SEQUENCE).ctx(what)?.reader();
    let status = der::small_uint(status_info.expect(der::INTEGER).ctx("PKIStatus")?.value).ctx("PKIStatus")?;
    let mut texts = Vec::new();
    if let Some(free_text) = status_info.optional(der::SEQUENCE).ctx("PKIFreeText")? {
        let mut list = free_text.reader();
        while !list.is_empty() {
            let text = list.expect(der::UTF8_STRING).ctx("PKIFreeText")?;
            texts.push(String::from_utf8_lossy(text.value).into_owned());
        }
    }
    let mut fail_info = Vec::new();
    if let Some(bits) = status_info.optional(der::BIT_STRING).ctx("PKIFailureInfo")? {
        for n in der::set_bits(bits.value).ctx("PKIFailureInfo")? {
            let name = FAIL_INFO_NAMES.iter().find(|(bit, _)| *bit == n).map(|(_, name)| (*name).to_string());
            fail_info.push(name.unwrap_or_else(|| format!("bit{n}")));
        }
    }
    status_info.finish().ctx("PKIStatusInfo")?;
    let token = r.optional(der::SEQUENCE).ctx(what)?;
    r.finish().ctx(what)?;
    if status > 1 {
        let status_string = if texts.is_empty() { None } else { Some(texts.join("; ")) };
        return Err(TspError::Rejected { status, status_string, fail_info });
    }
    let token = token.ok_or(TspError::MissingToken)?;
    let signed = parse_token(token)?;
    let tst = parse_tst_info(signed.econtent)?;
    Ok(Response { status, token: token.raw, signed, tst })
}

fn parse_token(token: Tlv<'_>) -> Result<SignedData<'_>, TspError> {
    let mut r = token.reader();
    let content_type = der::read_oid(&mut r).ctx("ContentInfo")?;
    if content_type != SIGNED_DATA {
        return Err(TspError::UnexpectedContentType { expected: SIGNED_DATA, found: content_type });
    }
    let explicit = r.expect(der::context(0, true)).ctx("ContentInfo")?;
    r.finish().ctx("ContentInfo")?;
    let signed_data = der::single(explicit.value, der::SEQUENCE).ctx("SignedData")?;
    let (econtent_type, econtent, signed) = parse_signed_data(signed_data).ctx("SignedData")?;
    if econtent_type != CT_TST_INFO {
        return Err(TspError::UnexpectedContentType { expected: CT_TST_INFO, found: econtent_type });
    }
    let econtent = econtent.ok_or(TspError::Malformed { what: "SignedData", reason: "no TSTInfo content".into() })?;
    Ok(SignedData { econtent, ..signed })
}

/// The eContentType, the eContent octets if present, and the rest of the SignedData.
type RawSignedData<'a> = (String, Option<&'a [u8]>, SignedData<'a>);

fn parse_signed_data(sd: Tlv<'_>) -> Result<RawSignedData<'_>, der::DerError> {
    let mut r = sd.reader();
    r.expect(der::INTEGER)?;
    r.expect(der::SET)?;
    let mut encap = r.expect(der::SEQUENCE)?.reader();
    let econtent_type = der::read_oid(&mut encap)?;
    let econtent = match encap.optional(der::context(0, true))? {
        Some(explicit) => Some(der::single(explicit.value, der::OCTET_STRING)?.value),
        None => None,
    };
    encap.finish()?;
    let mut certificates = Vec::new();
    if let Some(certs) = r.optional(der::context(0, true))? {
        let mut list = certs.reader();
        while !list.is_empty() {
            let choice = list.any()?;
            // Only plain certificates can hold the signer's key; attribute and other certificates are skipped.
            if choice.tag == der::SEQUENCE {
                certificates.push(choice.raw);
            }
        }
    }
    r.optional(der::context(1, true))?;
    let mut signer_set = r.expect(der::SET)?.reader();
    r.finish()?;
    let mut signers = Vec::new();
    while !signer_set.is_empty() {
        signers.push(parse_signer_info(signer_set.expect(der::SEQUENCE)?)?);
    }
    Ok((econtent_type, econtent, SignedData { econtent: &[], certificates, signers }))
}

fn parse_signer_info(si: Tlv<'_>) -> Result<SignerInfo<'_>, der::DerError> {
    let mut r = si.reader();
    r.expect(der::INTEGER)?;
    let sid = match r.peek_tag() {
        Some(der::SEQUENCE) => {
            let mut ias = r.any()?.reader();
            let issuer = ias.expect(der::SEQUENCE)?.raw;
            let serial = ias.expect(der::INTEGER)?.value;
            ias.finish()?;
            SignerId::IssuerSerial { issuer, serial }
        }
        _ => SignerId::KeyId(r.expect(der::context(0, false))?.value),
    };
    let digest_alg = AlgId::read(&mut r)?;
    let signed_attrs = r.optional(der::context(0, true))?;
    let signature_alg = AlgId::read(&mut r)?;
    let signature = r.expect(der::OCTET_STRING)?.value;
    r.optional(der::context(1, true))?;
    r.finish()?;
    Ok(SignerInfo { sid, digest_alg, signed_attrs, signature_alg, signature })
}

/// The attributes of a signedAttrs element as (type OID, values), in order.
pub(crate) fn attributes<'a>(attrs: Tlv<'a>) -> Result<Vec<(String, Vec<Tlv<'a>>)>, TspError> {
    let what = "signed attributes";
    let mut r = attrs.reader();
    let mut out = Vec::new();
    while !r.is_empty() {
        let mut attr = r.expect(der::SEQUENCE).ctx(what)?.reader();
        let oid = der::read_oid(&mut attr).ctx(what)?;
        let mut set = attr.expect(der::SET).ctx(what)?.reader();
        attr.finish().ctx(what)?;
        let mut values = Vec::new();
        while !set.is_empty() {
            values.push(set.any().ctx(what)?);
        }
        out.push((oid, values));
    }
    Ok(out)
}

fn parse_tst_info(econtent: &[u8]) -> Result<TstInfo<'_>, TspError> {
    let what = "TSTInfo";
    let tst = der::single(econtent, der::SEQUENCE).ctx(what)?;
    let mut r = tst.reader();
    let version = der::small_uint(r.expect(der::INTEGER).ctx(what)?.value).ctx(what)?;
    if version != 1 {
        return Err(TspError::Malformed { what, reason: format!("version {version}, expected 1") });
    }
    let policy = der::read_oid(&mut r).ctx("TSTInfo policy")?;
    let mut imprint = r.expect(der::SEQUENCE).ctx("TSTInfo messageImprint")?.reader();
    let hash_alg = AlgId::read(&mut imprint).ctx("TSTInfo messageImprint")?.oid();
    let hashed_message = imprint.expect(der::OCTET_STRING).ctx("TSTInfo messageImprint")?.value;
    imprint.finish().ctx("TSTInfo messageImprint")?;
    let serial =
        der::unsigned(r.expect(der::INTEGER).ctx("TSTInfo serialNumber")?.value).ctx("TSTInfo serialNumber")?;
    let gen_time =
        der::generalized_time(r.expect(der::GENERALIZED_TIME).ctx("TSTInfo genTime")?.value).ctx("TSTInfo genTime")?;
    let accuracy_micros = r.optional(der::SEQUENCE).ctx("TSTInfo accuracy")?.map(accuracy).transpose()?;
    let ordering = match r.optional(der::BOOLEAN).ctx(what)? {
        Some(b) => der::boolean(b.value).ctx("TSTInfo ordering")?,
        None => false,
    };
    let nonce = match r.optional(der::INTEGER).ctx(what)? {
        Some(n) => Some(der::small_uint(n.value).ctx("TSTInfo nonce")?),
        None => None,
    };
    let tsa = match r.optional(der::context(0, true)).ctx(what)? {
        Some(t) => general_name(der::single_any(t.value).ctx("TSTInfo tsa")?),
        None => None,
    };
    r.optional(der::context(1, true)).ctx(what)?;
    r.finish().ctx(what)?;
    Ok(TstInfo { policy, hash_alg, hashed_message, serial, gen_time, accuracy_micros, ordering, nonce, tsa })
}

fn accuracy(acc: Tlv<'_>) -> Result<u64, TspError> {
    let what = "TSTInfo accuracy";
    let mut r = acc.reader();
    let mut field = |tag: u8, scale: u64| -> Result<u64, TspError> {
        Ok(match r.optional(tag).ctx(what)? {
            Some(v) => der::small_uint(v.value).ctx(what)?.saturating_mul(scale),
            None => 0,
        })
    };
    let seconds = field(der::INTEGER, 1_000_000)?;
    let millis = field(der::context(0, false), 1_000)?;
    let micros = field(der::context(1, false), 1)?;
    r.finish().ctx(what)?;
    Ok(seconds.saturating_add(millis).saturating_add(micros))
}

/// A GeneralName as text: a directory name as `CN=…`, email, DNS and URI names prefixed; others are not shown.
fn general_name(name: Tlv<'_>) -> Option<String> {
    match name.tag {
        0xa4 => Some(x509::name_to_string(name.value)),
        0x81 => Some(format!("email:{}", String::from_utf8_lossy(name.value))),
        0x82 => Some(format!("DNS:{}", String::from_utf8_lossy(name.value))),
        0x86 => Some(format!("URI:{}", String::from_utf8_lossy(name.value))),
        _ => None,
    }
}
