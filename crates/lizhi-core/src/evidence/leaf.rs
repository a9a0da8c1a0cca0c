//! One audit event as a log leaf: its canonical JSON (the bytes that are hashed) and the salted
//! commitments that stand in for personal values.

use super::canonical;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

/// Version of the leaf format.
pub const LEAF_VERSION: u64 = 1;

/// Why bytes are not a valid log entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeafError {
    /// Not JSON, or a field is missing or of the wrong type.
    #[error("not a log entry: {0}")]
    Malformed(String),
    /// Valid JSON, but not in canonical form, so its hash cannot be reproduced.
    #[error("the entry is not in canonical form")]
    NotCanonical,
    /// A format version this code does not know.
    #[error("unknown entry version {0}")]
    Version(u64),
}

/// The public content of an audit event. Personal values (who acted, whom it concerned, the states) are
/// commitments; everything else is plain so a reader can follow the history without the openings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEvent {
    /// Leaf index.
    pub seq: u64,
    /// Server time, kept to the microsecond (what both databases store).
    pub at: DateTime<Utc>,
    /// What happened.
    pub action: String,
    /// Kind of thing changed.
    pub entity_type: String,
    /// The separation case the event belongs to (case ids are not personal data).
    pub case: Option<i64>,
    /// Position of the previous event of the same case: the case's events form a chain, so a bundle that
    /// leaves one out shows a broken link.
    pub case_prev: Option<u64>,
    /// Commitment to the actor.
    pub actor: String,
    /// Commitment to the entity key.
    pub entity: String,
    /// Commitment to the state before.
    pub before: Option<String>,
    /// Commitment to the state after.
    pub after: Option<String>,
    /// SHA-256 (hex) of the documents attached by the event.
    pub docs: Vec<String>,
    /// The request that caused it.
    pub request_id: String,
}

/// The time format of log entries: UTC with exactly six fractional digits.
pub fn format_time(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl LogEvent {
    /// The leaf data: canonical JSON, written directly in sorted key order (a million events are hashed
    /// when the log is verified; [`LogEvent::to_value`] gives the same bytes through the generic path).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        let opt = |out: &mut Vec<u8>, v: &Option<String>| match v {
            Some(s) => canonical::write_str(s, out),
            None => out.extend_from_slice(b"null"),
        };
        out.extend_from_slice(b"{\"action\":");
        canonical::write_str(&self.action, &mut out);
        out.extend_from_slice(b",\"actor\":");
        canonical::write_str(&self.actor, &mut out);
        out.extend_from_slice(b",\"after\":");
        opt(&mut out, &self.after);
        out.extend_from_slice(b",\"at\":");
        canonical::write_str(&format_time(self.at), &mut out);
        out.extend_from_slice(b",\"before\":");
        opt(&mut out, &self.before);
        out.extend_from_slice(b",\"case\":");
        out.extend_from_slice(self.case.map_or("null".to_owned(), |c| c.to_string()).as_bytes());
        out.extend_from_slice(b",\"case_prev\":");
        out.extend_from_slice(self.case_prev.map_or("null".to_owned(), |c| c.to_string()).as_bytes());
        out.extend_from_slice(b",\"docs\":[");
        for (i, doc) in self.docs.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            canonical::write_str(doc, &mut out);
        }
        out.extend_from_slice(b"],\"entity\":");
        canonical::write_str(&self.entity, &mut out);
        out.extend_from_slice(b",\"entity_type\":");
        canonical::write_str(&self.entity_type, &mut out);
        out.extend_from_slice(b",\"request_id\":");
        canonical::write_str(&self.request_id, &mut out);
        out.extend_from_slice(format!(",\"seq\":{},\"v\":{LEAF_VERSION}}}", self.seq).as_bytes());
        out
    }

    /// The entry as a JSON value (its canonical form is [`LogEvent::to_bytes`]).
    pub fn to_value(&self) -> Value {
        json!({
            "v": LEAF_VERSION,
            "seq": self.seq,
            "at": format_time(self.at),
            "action": self.action,
            "entity_type": self.entity_type,
            "case": self.case,
            "case_prev": self.case_prev,
            "actor": self.actor,
            "entity": self.entity,
            "before": self.before,
            "after": self.after,
            "docs": self.docs,
            "request_id": self.request_id,
        })
    }

    /// Reads leaf data, refusing anything that would not hash the same when written again.
    pub fn parse(bytes: &[u8]) -> Result<LogEvent, LeafError> {
        let value: Value = serde_json::from_slice(bytes).map_err(|e| LeafError::Malformed(e.to_string()))?;
        let map = value.as_object().ok_or_else(|| LeafError::Malformed("not an object".into()))?;
        let version = uint(map, "v")?;
        if version != LEAF_VERSION {
            return Err(LeafError::Version(version));
        }
        let at = DateTime::parse_from_rfc3339(&string(map, "at")?)
            .map_err(|e| LeafError::Malformed(format!("at: {e}")))?
            .with_timezone(&Utc);
        let docs = match map.get("docs") {
            Some(Value::Array(items)) => items
                .iter()
                .map(|d| d.as_str().map(str::to_owned).ok_or_else(|| LeafError::Malformed("docs".into())))
                .collect::<Result<_, _>>()?,
            _ => return Err(LeafError::Malformed("docs".into())),
        };
        let case = match map.get("case") {
            Some(Value::Null) => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| LeafError::Malformed("case".into()))?),
            None => return Err(LeafError::Malformed("case".into())),
        };
        let case_prev = match map.get("case_prev") {
            Some(Value::Null) => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| LeafError::Malformed("case_prev".into()))?),
            None => return Err(LeafError::Malformed("case_prev".into())),
        };
        let event = LogEvent {
            seq: uint(map, "seq")?,
            at,
            action: string(map, "action")?,
            entity_type: string(map, "entity_type")?,
            case,
            case_prev,
            actor: string(map, "actor")?,
            entity: string(map, "entity")?,
            before: optional(map, "before")?,
            after: optional(map, "after")?,
            docs,
            request_id: string(map, "request_id")?,
        };
        if map.len() != 13 || event.to_bytes() != bytes {
            return Err(LeafError::NotCanonical);
        }
        Ok(event)
    }
}

fn uint(map: &Map<String, Value>, key: &str) -> Result<u64, LeafError> {
    map.get(key).and_then(Value::as_u64).ok_or_else(|| LeafError::Malformed(key.into()))
}

fn string(map: &Map<String, Value>, key: &str) -> Result<String, LeafError> {
    map.get(key).and_then(Value::as_str).map(str::to_owned).ok_or_else(|| LeafError::Malformed(key.into()))
}

fn optional(map: &Map<String, Value>, key: &str) -> Result<Option<String>, LeafError> {
    match map.get(key) {
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        _ => Err(LeafError::Malformed(key.into())),
    }
}

/// The commitment to `value` under `salt`: lowercase hex of `SHA-256(salt ‖ value)`.
pub fn commit(salt: &[u8], value: &str) -> String {
    let mut h = Sha256::new();
    h.update(salt);
    h.update(value.as_bytes());
    hex::encode(h.finalize())
}

/// What opens a commitment: the salt (hex) and the value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Opening {
    /// 32 random bytes, hex.
    pub salt: String,
    /// The committed text.
    pub value: String,
}

impl Opening {
    /// Whether this opening reveals `commitment`.
    pub fn opens(&self, commitment: &str) -> bool {
        hex::decode(&self.salt).is_ok_and(|salt| salt.len() == 32 && commit(&salt, &self.value) == commitment)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn event() -> LogEvent {
        LogEvent {
            seq: 7,
            at: Utc.with_ymd_and_hms(2026, 11, 28, 3, 4, 5).unwrap() + chrono::Duration::microseconds(120),
            action: "case.confirm_departure".into(),
            entity_type: "case".into(),
            case: Some(12),
            case_prev: Some(3),
            actor: commit(&[1; 32], "hr.li"),
            entity: commit(&[2; 32], "12"),
            before: None,
            after: Some(commit(&[3; 32], "{\"step\":\"confirm\"}")),
            docs: vec!["ab".repeat(32)],
            request_id: "req-1".into(),
        }
    }

    #[test]
    fn an_entry_round_trips_through_its_canonical_bytes() {
        let bytes = event().to_bytes();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with(r#"{"action":"case.confirm_departure","actor":""#), "{text}");
        assert!(text.contains(r#""at":"2026-11-28T03:04:05.000120Z""#), "{text}");
        assert_eq!(LogEvent::parse(&bytes).unwrap(), event());
    }

    #[test]
    fn the_direct_writer_gives_the_generic_canonical_bytes() {
        let mut e = event();
        assert_eq!(e.to_bytes(), canonical::to_vec(&e.to_value()).unwrap());
        e.case = None;
        e.case_prev = None;
        e.after = None;
        e.docs = vec!["a".into(), "b\"\n\u{1}".into()];
        e.request_id = "引号\\".into();
        assert_eq!(e.to_bytes(), canonical::to_vec(&e.to_value()).unwrap());
        assert_eq!(LogEvent::parse(&e.to_bytes()).unwrap(), e);
    }

    #[test]
    fn non_canonical_or_altered_entries_are_refused() {
        let text = String::from_utf8(event().to_bytes()).unwrap();
        assert_eq!(LogEvent::parse(text.replacen(':', ": ", 1).as_bytes()), Err(LeafError::NotCanonical));
        let extra = text.replacen('{', "{\"x\":1,", 1);
        assert_eq!(LogEvent::parse(extra.as_bytes()), Err(LeafError::NotCanonical));
        let v2 = text.replace("\"v\":1", "\"v\":2");
        assert_eq!(LogEvent::parse(v2.as_bytes()), Err(LeafError::Version(2)));
        assert!(matches!(LogEvent::parse(b"[1]"), Err(LeafError::Malformed(_))));
    }

    #[test]
    fn an_opening_reveals_only_its_own_commitment() {
        let opening = Opening { salt: hex::encode([1u8; 32]), value: "hr.li".into() };
        assert!(opening.opens(&event().actor));
        assert!(!opening.opens(&event().entity));
        assert!(!Opening { value: "hr.wang".into(), ..opening.clone() }.opens(&event().actor));
        assert!(!Opening { salt: hex::encode([1u8; 31]), ..opening }.opens(&event().actor));
    }
}
