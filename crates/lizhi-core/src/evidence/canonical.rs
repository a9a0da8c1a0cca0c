//! RFC 8785-style canonical JSON for log entries: keys sorted, no whitespace, minimal string escapes. Log
//! entries hold only strings, integers, null, arrays and objects, so floats (whose canonical form needs the
//! ECMAScript number printer) are refused rather than approximated.

use serde_json::Value;

/// Why a value has no canonical form here.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CanonicalError {
    /// A non-integer number.
    #[error("floating-point numbers are not allowed in log entries")]
    Float,
}

/// The canonical bytes of `value`.
pub fn to_vec(value: &Value) -> Result<Vec<u8>, CanonicalError> {
    let mut out = Vec::with_capacity(256);
    write(value, &mut out)?;
    Ok(out)
}

fn write(value: &Value, out: &mut Vec<u8>) -> Result<(), CanonicalError> {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => out.extend_from_slice(i.to_string().as_bytes()),
            (None, Some(u)) => out.extend_from_slice(u.to_string().as_bytes()),
            _ => return Err(CanonicalError::Float),
        },
        Value::String(s) => write_str(s, out),
        Value::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(item, out)?;
            }
            out.push(b']');
        }
        Value::Object(map) => {
            // RFC 8785 sorts by UTF-16 code units, which differs from byte order only above U+FFFF.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
            out.push(b'{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_str(key, out);
                out.push(b':');
                write(&map[key], out)?;
            }
            out.push(b'}');
        }
    }
    Ok(())
}

/// Escapes only what RFC 8785 escapes: `"`, `\` and control characters (short forms where JSON has them).
pub(crate) fn write_str(s: &str, out: &mut Vec<u8>) {
    out.push(b'"');
    for c in s.chars() {
        match c {
            '"' => out.extend_from_slice(b"\\\""),
            '\\' => out.extend_from_slice(b"\\\\"),
            '\u{8}' => out.extend_from_slice(b"\\b"),
            '\t' => out.extend_from_slice(b"\\t"),
            '\n' => out.extend_from_slice(b"\\n"),
            '\u{c}' => out.extend_from_slice(b"\\f"),
            '\r' => out.extend_from_slice(b"\\r"),
            c if (c as u32) < 0x20 => out.extend_from_slice(format!("\\u{:04x}", c as u32).as_bytes()),
            c => {
                let mut buf = [0u8; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_and_strings_minimally_escaped() {
        let v = json!({"b": [1, null, true], "a": {"z": "\"\\\n\u{1}/é离", "y": -5}, "": 0});
        let text = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(text, r#"{"":0,"a":{"y":-5,"z":"\"\\\n\u0001/é离"},"b":[1,null,true]}"#);
    }

    #[test]
    fn keys_sort_by_utf16_units_and_floats_are_refused() {
        // U+FFFD sorts after U+1F600 in code points but before it in UTF-16 (0xD83D).
        let v = json!({"\u{fffd}": 1, "\u{1f600}": 2});
        let text = String::from_utf8(to_vec(&v).unwrap()).unwrap();
        assert_eq!(text, "{\"\u{1f600}\":2,\"\u{fffd}\":1}");
        assert_eq!(to_vec(&json!({"x": 1.5})), Err(CanonicalError::Float));
    }
}
