//! A minimal DER reader and writer: just the ASN.1 that RFC 3161, CMS and X.509 need, kept strict (definite
//! lengths, minimal length octets, no trailing bytes) so a token has exactly one reading.

use chrono::{DateTime, NaiveDate, Utc};
use std::fmt;

pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const UTF8_STRING: u8 = 0x0c;
pub(crate) const PRINTABLE_STRING: u8 = 0x13;
pub(crate) const T61_STRING: u8 = 0x14;
pub(crate) const IA5_STRING: u8 = 0x16;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;
pub(crate) const UNIVERSAL_STRING: u8 = 0x1c;
pub(crate) const BMP_STRING: u8 = 0x1e;
pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;

/// The tag of a context-specific `[n]` field, constructed (explicit, or implicit over a constructed type) or not.
pub(crate) const fn context(n: u8, constructed: bool) -> u8 {
    0x80 | if constructed { 0x20 } else { 0 } | n
}

/// Why bytes are not the DER that was expected; the caller adds which structure it was reading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DerError {
    Truncated,
    IndefiniteLength,
    NonMinimalLength,
    LengthTooLarge,
    HighTagNumber,
    UnexpectedTag { expected: u8, found: Option<u8> },
    TrailingData,
    BadInteger,
    IntegerTooLarge,
    BadOid,
    BadBoolean,
    BadBitString,
    BadTime,
    Invalid(&'static str),
}

impl fmt::Display for DerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DerError::Truncated => f.write_str("truncated data"),
            DerError::IndefiniteLength => f.write_str("indefinite length (BER) where DER is required"),
            DerError::NonMinimalLength => f.write_str("length not minimally encoded"),
            DerError::LengthTooLarge => f.write_str("length too large"),
            DerError::HighTagNumber => f.write_str("unsupported high tag number"),
            DerError::UnexpectedTag { expected, found: Some(found) } => {
                write!(f, "expected tag 0x{expected:02x}, found 0x{found:02x}")
            }
            DerError::UnexpectedTag { expected, found: None } => write!(f, "expected tag 0x{expected:02x}, found end"),
            DerError::TrailingData => f.write_str("trailing data"),
            DerError::BadInteger => f.write_str("bad or negative INTEGER"),
            DerError::IntegerTooLarge => f.write_str("INTEGER too large"),
            DerError::BadOid => f.write_str("bad OBJECT IDENTIFIER"),
            DerError::BadBoolean => f.write_str("bad BOOLEAN"),
            DerError::BadBitString => f.write_str("bad BIT STRING"),
            DerError::BadTime => f.write_str("bad time value"),
            DerError::Invalid(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for DerError {}

/// One tag-length-value element, borrowed from the input so signatures can be checked over the exact bytes.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub value: &'a [u8],
    pub raw: &'a [u8],
}

impl<'a> Tlv<'a> {
    /// A reader over the contents, for constructed elements.
    pub fn reader(&self) -> Reader<'a> {
        Reader::new(self.value)
    }
}

/// Reads consecutive elements from a byte slice.
pub(crate) struct Reader<'a> {
    data: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Reader { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    /// The next element, whatever its tag.
    pub fn any(&mut self) -> Result<Tlv<'a>, DerError> {
        let data = self.data;
        let (&tag, rest) = data.split_first().ok_or(DerError::Truncated)?;
        if tag & 0x1f == 0x1f {
            return Err(DerError::HighTagNumber);
        }
        let (&first, rest) = rest.split_first().ok_or(DerError::Truncated)?;
        let (len, rest) = if first < 0x80 {
            (usize::from(first), rest)
        } else if first == 0x80 {
            return Err(DerError::IndefiniteLength);
        } else {
            let n = usize::from(first & 0x7f);
            if n > 4 {
                return Err(DerError::LengthTooLarge);
            }
            if rest.len() < n {
                return Err(DerError::Truncated);
            }
            let (octets, rest) = rest.split_at(n);
            if octets[0] == 0 {
                return Err(DerError::NonMinimalLength);
            }
            let len = octets.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(DerError::NonMinimalLength);
            }
            (len, rest)
        };
        if rest.len() < len {
            return Err(DerError::Truncated);
        }
        let header = data.len() - rest.len();
        let raw = &data[..header + len];
        self.data = &data[header + len..];
        Ok(Tlv { tag, value: &rest[..len], raw })
    }

    /// The next element, which must carry `tag`.
    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, DerError> {
        match self.peek_tag() {
            Some(found) if found == tag => self.any(),
            found => Err(DerError::UnexpectedTag { expected: tag, found }),
        }
    }

    /// The next element if it carries `tag` (an OPTIONAL or DEFAULT field), else nothing is consumed.
    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, DerError> {
        if self.peek_tag() == Some(tag) { self.any().map(Some) } else { Ok(None) }
    }

    /// Fails when elements are left over, so appended or unknown data is never silently ignored.
    pub fn finish(&self) -> Result<(), DerError> {
        if self.data.is_empty() { Ok(()) } else { Err(DerError::TrailingData) }
    }
}

/// Reads `data` as exactly one element with `tag` and nothing after it.
pub(crate) fn single(data: &[u8], tag: u8) -> Result<Tlv<'_>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.expect(tag)?;
    r.finish()?;
    Ok(tlv)
}

/// Reads `data` as exactly one element of any tag (a CHOICE) and nothing after it.
pub(crate) fn single_any(data: &[u8]) -> Result<Tlv<'_>, DerError> {
    let mut r = Reader::new(data);
    let tlv = r.any()?;
    r.finish()?;
    Ok(tlv)
}

/// The magnitude of a non-negative INTEGER, without the sign octet.
pub(crate) fn unsigned(value: &[u8]) -> Result<&[u8], DerError> {
    match value {
        [] => Err(DerError::BadInteger),
        [first, ..] if first & 0x80 != 0 => Err(DerError::BadInteger),
        [0, rest @ ..] if !rest.is_empty() => Ok(rest),
        _ => Ok(value),
    }
}

/// A non-negative INTEGER that fits in 64 bits (versions, statuses, nonces).
pub(crate) fn small_uint(value: &[u8]) -> Result<u64, DerError> {
    let magnitude = unsigned(value)?;
    if magnitude.len() > 8 {
        return Err(DerError::IntegerTooLarge);
    }
    Ok(magnitude.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b)))
}

/// The content octets of a non-negative INTEGER: minimal, with a leading zero when the high bit is set.
pub(crate) fn uint_content(n: u64) -> Vec<u8> {
    let bytes = n.to_be_bytes();
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
    let mut out = Vec::with_capacity(9);
    if bytes[start] & 0x80 != 0 {
        out.push(0);
    }
    out.extend_from_slice(&bytes[start..]);
    out
}

/// An OBJECT IDENTIFIER's contents as dotted decimal, so OIDs can be compared and shown as text.
pub(crate) fn oid_string(value: &[u8]) -> Result<String, DerError> {
    if value.is_empty() || value.last().is_some_and(|b| b & 0x80 != 0) {
        return Err(DerError::BadOid);
    }
    let mut arcs: Vec<u128> = Vec::new();
    let mut acc: u128 = 0;
    let mut fresh = true;
    for &b in value {
        if fresh && b == 0x80 {
            return Err(DerError::BadOid);
        }
        if acc > (u128::MAX >> 7) {
            return Err(DerError::BadOid);
        }
        acc = (acc << 7) | u128::from(b & 0x7f);
        fresh = b & 0x80 == 0;
        if fresh {
            arcs.push(acc);
            acc = 0;
        }
    }
    let first = arcs[0];
    let (a, b) = match first {
        0..40 => (0, first),
        40..80 => (1, first - 40),
        _ => (2, first - 80),
    };
    let mut out = format!("{a}.{b}");
    for arc in &arcs[1..] {
        out.push('.');
        out.push_str(&arc.to_string());
    }
    Ok(out)
}

/// Reads the next element as an OBJECT IDENTIFIER in dotted form.
pub(crate) fn read_oid(r: &mut Reader<'_>) -> Result<String, DerError> {
    oid_string(r.expect(OID)?.value)
}

/// A DER BOOLEAN (only 0x00 and 0xff are DER).
pub(crate) fn boolean(value: &[u8]) -> Result<bool, DerError> {
    match value {
        [0x00] => Ok(false),
        [0xff] => Ok(true),
        _ => Err(DerError::BadBoolean),
    }
}

/// A BIT STRING that holds whole octets (keys and signatures).
pub(crate) fn bit_string_octets(value: &[u8]) -> Result<&[u8], DerError> {
    match value {
        [0, rest @ ..] => Ok(rest),
        _ => Err(DerError::BadBitString),
    }
}

/// Whether named bit `n` is set in a BIT STRING's contents (bit 0 is the high bit of the first octet).
pub(crate) fn bit_is_set(value: &[u8], n: usize) -> Result<bool, DerError> {
    let (&unused, bits) = value.split_first().ok_or(DerError::BadBitString)?;
    if unused > 7 || (bits.is_empty() && unused != 0) {
        return Err(DerError::BadBitString);
    }
    let total = bits.len() * 8 - usize::from(unused);
    Ok(n < total && bits[n / 8] & (0x80 >> (n % 8)) != 0)
}

/// The indices of all set bits of a BIT STRING, for showing flags such as a PKIFailureInfo.
pub(crate) fn set_bits(value: &[u8]) -> Result<Vec<usize>, DerError> {
    let len = value.len().saturating_sub(1) * 8;
    let mut out = Vec::new();
    for n in 0..len {
        if bit_is_set(value, n)? {
            out.push(n);
        }
    }
    Ok(out)
}

fn digits(s: &[u8]) -> Result<u32, DerError> {
    s.iter().try_fold(0u32, |acc, &b| {
        if b.is_ascii_digit() { Ok(acc * 10 + u32::from(b - b'0')) } else { Err(DerError::BadTime) }
    })
}

fn to_utc(year: i32, rest: &[u8], nanos: u32) -> Result<DateTime<Utc>, DerError> {
    let month = digits(&rest[0..2])?;
    let day = digits(&rest[2..4])?;
    let hour = digits(&rest[4..6])?;
    let minute = digits(&rest[6..8])?;
    let second = digits(&rest[8..10])?;
    if second > 59 {
        return Err(DerError::BadTime);
    }
    NaiveDate::from_ymd_opt(year, month, day)
        .and_then(|d| d.and_hms_nano_opt(hour, minute, second, nanos))
        .map(|t| t.and_utc())
        .ok_or(DerError::BadTime)
}

/// A GeneralizedTime `YYYYMMDDhhmmss[.f+]Z` (RFC 3161 § 2.4.2 allows fractional seconds; UTC only).
pub(crate) fn generalized_time(value: &[u8]) -> Result<DateTime<Utc>, DerError> {
    if value.len() < 15 || value.last() != Some(&b'Z') {
        return Err(DerError::BadTime);
    }
    let year = digits(&value[0..4])?;
    let body = &value[4..value.len() - 1];
    let (main, fraction) = body.split_at(10);
    let nanos = match fraction {
        [] => 0,
        [b'.', f @ ..] if !f.is_empty() && f.iter().all(u8::is_ascii_digit) => {
            // Digits finer than nanoseconds are dropped.
            (0..9).fold(0u32, |acc, i| acc * 10 + f.get(i).map_or(0, |b| u32::from(b - b'0')))
        }
        _ => return Err(DerError::BadTime),
    };
    to_utc(year as i32, main, nanos)
}

/// A UTCTime `YYMMDDhhmmssZ` as used in certificates (RFC 5280 § 4.1.2.5.1: years 50–99 are 19xx).
pub(crate) fn utc_time(value: &[u8]) -> Result<DateTime<Utc>, DerError> {
    if value.len() != 13 || value[12] != b'Z' {
        return Err(DerError::BadTime);
    }
    let yy = digits(&value[0..2])? as i32;
    let year = if yy >= 50 { 1900 + yy } else { 2000 + yy };
    to_utc(year, &value[2..12], 0)
}

/// Appends one element with a definite, minimal length.
pub(crate) fn write(out: &mut Vec<u8>, tag: u8, content: &[u8]) {
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len() - 1);
        out.push(0x80 | (bytes.len() - start) as u8);
        out.extend_from_slice(&bytes[start..]);
    }
    out.extend_from_slice(content);
}

/// One element as a new vector.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    write(&mut out, tag, content);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_are_strict() {
        assert_eq!(Reader::new(&[0x04, 0x80, 0, 0]).any().unwrap_err(), DerError::IndefiniteLength);
        assert_eq!(Reader::new(&[0x04, 0x81, 0x05, 1, 2, 3, 4, 5]).any().unwrap_err(), DerError::NonMinimalLength);
        assert_eq!(Reader::new(&[0x04, 0x82, 0x00, 0x80]).any().unwrap_err(), DerError::NonMinimalLength);
        assert_eq!(Reader::new(&[0x04, 0x03, 1, 2]).any().unwrap_err(), DerError::Truncated);
        assert_eq!(Reader::new(&[0x1f, 0x01, 0]).any().unwrap_err(), DerError::HighTagNumber);
        assert_eq!(single(&[0x05, 0x00, 0x00], NULL).unwrap_err(), DerError::TrailingData);
        let long = tlv(OCTET_STRING, &[7u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let t = single(&long, OCTET_STRING).unwrap();
        assert_eq!(t.value.len(), 300);
        assert_eq!(t.raw, &long[..]);
    }

    #[test]
    fn integers_and_oids() {
        assert_eq!(uint_content(0), vec![0]);
        assert_eq!(uint_content(0x7f), vec![0x7f]);
        assert_eq!(uint_content(0x80), vec![0, 0x80]);
        assert_eq!(uint_content(u64::MAX), vec![0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(small_uint(&uint_content(u64::MAX)).unwrap(), u64::MAX);
        assert_eq!(small_uint(&[0x80]).unwrap_err(), DerError::BadInteger);
        assert_eq!(small_uint(&[1, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap_err(), DerError::IntegerTooLarge);
        assert_eq!(
            oid_string(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]).unwrap(),
            "1.2.840.113549.1.7.2"
        );
        assert_eq!(oid_string(&[0x55, 0x1d, 0x25]).unwrap(), "2.5.29.37");
        assert_eq!(oid_string(&[0x88, 0x37]).unwrap(), "2.999");
        assert!(oid_string(&[0x2a, 0x86]).is_err());
        assert!(oid_string(&[0x2a, 0x80, 0x01]).is_err());
    }

    #[test]
    fn times() {
        let t = generalized_time(b"20260102030405Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-02T03:04:05+00:00");
        let t = generalized_time(b"20260102030405.123456789123Z").unwrap();
        assert_eq!(t.timestamp_subsec_nanos(), 123_456_789);
        assert_eq!(generalized_time(b"20260102030405.5Z").unwrap().timestamp_subsec_millis(), 500);
        assert!(generalized_time(b"20260102030405.Z").is_err());
        assert!(generalized_time(b"20260102030405").is_err());
        assert!(generalized_time(b"20261302030405Z").is_err());
        assert!(generalized_time(b"20260102030460Z").is_err());
        assert_eq!(utc_time(b"491231235959Z").unwrap().to_rfc3339(), "2049-12-31T23:59:59+00:00");
        assert_eq!(utc_time(b"500101000000Z").unwrap().to_rfc3339(), "1950-01-01T00:00:00+00:00");
    }

    #[test]
    fn bit_strings() {
        // failInfo badAlg (bit 0) and badDataFormat (bit 5): 0b1000_0100, two unused bits.
        assert_eq!(set_bits(&[0x02, 0x84]).unwrap(), vec![0, 5]);
        assert!(bit_is_set(&[0x07, 0x80], 0).unwrap());
        assert!(!bit_is_set(&[0x07, 0x80], 1).unwrap());
        assert!(bit_is_set(&[0x08, 0x80], 0).is_err());
        assert_eq!(bit_string_octets(&[0, 1, 2]).unwrap(), &[1, 2]);
        assert!(bit_string_octets(&[1, 2]).is_err());
    }
}
