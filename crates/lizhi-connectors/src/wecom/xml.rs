//! The one piece of XML a callback needs: the `<Encrypt>` element's text. A tiny strict scanner instead of
//! an XML crate, so nothing like DOCTYPE or entity expansion is ever interpreted.

use super::crypto::CryptoError;

/// Reads the text of the `<Encrypt>` element of a POSTed callback (`<xml>…<Encrypt>…</Encrypt>…</xml>`),
/// CDATA or plain. A small strict parser: the body must be one well-formed `<xml>` element without
/// DOCTYPE or attributes, holding exactly one `<Encrypt>` child with text only; anything else is refused.
pub fn extract_encrypt(xml: &str) -> Result<String, CryptoError> {
    let mut parser = XmlScan { rest: xml.trim_start_matches('\u{feff}') };
    parser.skip_prolog()?;
    let mut stack: Vec<&str> = Vec::new();
    let mut root_done = false;
    let mut encrypt: Option<String> = None;
    let mut in_encrypt = false;
    while !parser.rest.is_empty() {
        if parser.eat("<![CDATA[") {
            let text = parser.take_until("]]>").ok_or(CryptoError::BadXml("unterminated CDATA"))?;
            if stack.is_empty() {
                return Err(CryptoError::BadXml("content outside the root element"));
            }
            if in_encrypt && let Some(value) = encrypt.as_mut() {
                value.push_str(text);
            }
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
            if stack.pop() != Some(name) {
                return Err(CryptoError::BadXml("mismatched end tag"));
            }
            in_encrypt = false;
            if stack.is_empty() {
                root_done = true;
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
            if in_encrypt {
                return Err(CryptoError::BadXml("element inside <Encrypt>"));
            }
            if name == "Encrypt" {
                if stack.len() != 1 {
                    return Err(CryptoError::BadXml("<Encrypt> not directly under <xml>"));
                }
                if encrypt.is_some() {
                    return Err(CryptoError::BadXml("more than one <Encrypt>"));
                }
                encrypt = Some(String::new());
                in_encrypt = !empty;
            }
            if !empty {
                stack.push(name);
            } else if stack.is_empty() {
                root_done = true;
            }
        } else {
            let end = parser.rest.find('<').unwrap_or(parser.rest.len());
            let (text, rest) = parser.rest.split_at(end);
            parser.rest = rest;
            if stack.is_empty() {
                if !text.trim().is_empty() {
                    return Err(CryptoError::BadXml("text outside the root element"));
                }
                continue;
            }
            check_text(text)?;
            if in_encrypt && let Some(value) = encrypt.as_mut() {
                value.push_str(text);
            }
        }
    }
    if !stack.is_empty() || !root_done {
        return Err(CryptoError::BadXml("unclosed element"));
    }
    let value = encrypt.ok_or(CryptoError::BadXml("no <Encrypt> element"))?;
    let value = value.trim();
    if value.is_empty() {
        return Err(CryptoError::BadXml("empty <Encrypt>"));
    }
    Ok(value.to_owned())
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
