//! The XML of WeCom callbacks: the POSTed envelope's `<Encrypt>` text, and the fields of the decrypted
//! message. A tiny strict scanner instead of an XML crate, so nothing like DOCTYPE or entity expansion beyond
//! the five predefined entities and character references is ever interpreted.

use super::crypto::CryptoError;

/// Reads the text of the `<Encrypt>` element of a POSTed callback (`<xml>…<Encrypt>…</Encrypt>…</xml>`),
/// CDATA or plain. The body must be one well-formed `<xml>` element without DOCTYPE or attributes, holding
/// exactly one `<Encrypt>` child with text only; anything else is refused.
pub fn extract_encrypt(xml: &str) -> Result<String, CryptoError> {
    let fields = fields(xml)?;
    if fields.iter().any(|(path, _)| path.starts_with("Encrypt.")) {
        return Err(CryptoError::BadXml("element inside <Encrypt>"));
    }
    if fields.iter().any(|(path, _)| path.ends_with(".Encrypt") || path.contains(".Encrypt.")) {
        return Err(CryptoError::BadXml("<Encrypt> not directly under <xml>"));
    }
    let mut found = fields.into_iter().filter(|(path, _)| path == "Encrypt");
    let (_, value) = found.next().ok_or(CryptoError::BadXml("no <Encrypt> element"))?;
    if found.next().is_some() {
        return Err(CryptoError::BadXml("more than one <Encrypt>"));
    }
    let value = value.trim();
    if value.is_empty() {
        return Err(CryptoError::BadXml("empty <Encrypt>"));
    }
    Ok(value.to_owned())
}

/// Every element without child elements under the `<xml>` root, as (dotted path below the root, text), in
/// document order: `<xml><ApprovalInfo><SpNo>1</SpNo></ApprovalInfo></xml>` gives `("ApprovalInfo.SpNo",
/// "1")`. Text is CDATA as is and character data with its entities decoded. Refuses anything but one
/// well-formed `<xml>` element without DOCTYPE, processing instructions or attributes.
pub fn fields(xml: &str) -> Result<Vec<(String, String)>, CryptoError> {
    let mut parser = XmlScan { rest: xml.trim_start_matches('\u{feff}') };
    parser.skip_prolog()?;
    // Open elements: name, text so far, whether a child element was seen.
    let mut stack: Vec<(&str, String, bool)> = Vec::new();
    let mut root_done = false;
    let mut out = Vec::new();
    let path_of = |stack: &[(&str, String, bool)], name: &str| {
        let mut parts: Vec<&str> = stack.iter().skip(1).map(|(n, _, _)| *n).collect();
        parts.push(name);
        parts.join(".")
    };
    while !parser.rest.is_empty() {
        if parser.eat("<![CDATA[") {
            let text = parser.take_until("]]>").ok_or(CryptoError::BadXml("unterminated CDATA"))?;
            let (_, value, _) = stack.last_mut().ok_or(CryptoError::BadXml("content outside the root element"))?;
            value.push_str(text);
        } else if parser.eat("<!--") {
            let comment = parser.take_until("-->").ok_or(CryptoError::BadXml("unterminated comment"))?;
            if comment.contains("--") {
                return Err(CryptoError::BadXml("'--' inside a comment"));
            }
        } else if parser.rest.starts_with("<!") || parser.rest.starts_with("<?") {
            return Err(CryptoError::BadXml("DOCTYPE or processing instruction"));
        } else if parser.eat("</") {
            let name = parser.name()?;
            parser.skip_whitespace();
            if !parser.eat(">") {
                return Err(CryptoError::BadXml("bad end tag"));
            }
            let (open, text, has_children) = stack.pop().ok_or(CryptoError::BadXml("mismatched end tag"))?;
            if open != name {
                return Err(CryptoError::BadXml("mismatched end tag"));
            }
            if stack.is_empty() {
                root_done = true;
            } else if !has_children {
                out.push((path_of(&stack, name), text));
            }
        } else if parser.eat("<") {
            let name = parser.name()?;
            parser.skip_whitespace();
            let empty = parser.eat("/");
            if !parser.eat(">") {
                return Err(CryptoError::BadXml("attributes or a bad start tag"));
            }
            if root_done {
                return Err(CryptoError::BadXml("more than one root element"));
            }
            if stack.is_empty() && name != "xml" {
                return Err(CryptoError::BadXml("root element is not <xml>"));
            }
            if let Some((_, _, has_children)) = stack.last_mut() {
                *has_children = true;
            }
            if !empty {
                stack.push((name, String::new(), false));
            } else if stack.is_empty() {
                root_done = true;
            } else {
                out.push((path_of(&stack, name), String::new()));
            }
        } else {
            let end = parser.rest.find('<').unwrap_or(parser.rest.len());
            let (text, rest) = parser.rest.split_at(end);
            parser.rest = rest;
            match stack.last_mut() {
                None if !text.trim().is_empty() => return Err(CryptoError::BadXml("text outside the root element")),
                None => {}
                Some((_, value, _)) => {
                    check_text(text)?;
                    value.push_str(&decode(text));
                }
            }
        }
    }
    if !stack.is_empty() || !root_done {
        return Err(CryptoError::BadXml("unclosed element"));
    }
    Ok(out)
}

/// Replaces the predefined entities and character references ([`check_text`] has vetted them).
fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').unwrap_or(after.len());
        let entity = &after[..end];
        let ch = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => entity
                .strip_prefix("#x")
                .map(|h| u32::from_str_radix(h, 16))
                .or_else(|| entity.strip_prefix('#').map(str::parse::<u32>))
                .and_then(Result::ok)
                .and_then(char::from_u32),
        };
        out.push(ch.unwrap_or('\u{fffd}'));
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Character data must not hold a bare `&` or the CDATA terminator.
fn check_text(text: &str) -> Result<(), CryptoError> {
    if text.contains("]]>") {
        return Err(CryptoError::BadXml("']]>' in text"));
    }
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        let after = &rest[at + 1..];
        let end = after.find(';').ok_or(CryptoError::BadXml("unterminated entity"))?;
        let entity = &after[..end];
        let known = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity.strip_prefix("#x").is_some_and(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_hexdigit()))
            || entity.strip_prefix('#').is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()));
        if !known {
            return Err(CryptoError::BadXml("unknown entity"));
        }
        rest = &after[end + 1..];
    }
    Ok(())
}

/// Cursor over the remaining input.
struct XmlScan<'a> {
    rest: &'a str,
}

impl<'a> XmlScan<'a> {
    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn take_until(&mut self, end: &str) -> Option<&'a str> {
        let at = self.rest.find(end)?;
        let taken = &self.rest[..at];
        self.rest = &self.rest[at + end.len()..];
        Some(taken)
    }

    fn skip_whitespace(&mut self) {
        self.rest = self.rest.trim_start_matches([' ', '\t', '\r', '\n']);
    }

    /// Skips leading whitespace and an optional `<?xml …?>` declaration.
    fn skip_prolog(&mut self) -> Result<(), CryptoError> {
        self.skip_whitespace();
        if self.rest.starts_with("<?xml") {
            self.take_until("?>").ok_or(CryptoError::BadXml("unterminated XML declaration"))?;
        }
        Ok(())
    }

    /// A tag name: ASCII letters, digits, `_`, `-`, `.`, `:`, not starting with a digit, `-` or `.`.
    fn name(&mut self) -> Result<&'a str, CryptoError> {
        let end = self
            .rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
            .unwrap_or(self.rest.len());
        let name = &self.rest[..end];
        match name.bytes().next() {
            Some(first) if first.is_ascii_alphabetic() || first == b'_' || first == b':' => {
                self.rest = &self.rest[end..];
                Ok(name)
            }
            _ => Err(CryptoError::BadXml("bad tag name")),
        }
    }
}
