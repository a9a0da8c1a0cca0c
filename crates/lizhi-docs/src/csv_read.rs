//! CSV decoding and parsing.
//!
//! A hand-written parser rather than a general CSV library because imports
//! need two things general parsers do not give: broken quoting must be an
//! error (a silently merged or split row would import wrong data), and blank
//! lines must still count towards row numbers.

use std::borrow::Cow;

use encoding_rs::{GB18030, UTF_16BE, UTF_16LE};

use crate::error::TableError;
use crate::table::{Table, TableBuilder};

pub(crate) fn read_csv(bytes: &[u8]) -> Result<Table, TableError> {
    let text = decode(bytes)?;
    let delimiter = detect_delimiter(&text);
    let mut parser = Parser { text: &text, pos: 0, row: 0, delimiter, scratch: String::new() };
    let mut builder = TableBuilder::new(0);
    while let Some((row, cells)) = parser.next_record(builder.width_hint())? {
        builder.push(row, cells)?;
    }
    builder.finish()
}

/// Decodes the file to text: UTF-8 (BOM stripped), UTF-16 with a BOM, or
/// GB18030 (a superset of GBK) when the bytes are not valid UTF-8.
fn decode(bytes: &[u8]) -> Result<Cow<'_, str>, TableError> {
    let text = if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Cow::Borrowed(std::str::from_utf8(rest).map_err(|_| TableError::BadEncoding {
            detail: "the file starts with a UTF-8 byte order mark but is not valid UTF-8",
        })?)
    } else if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        UTF_16LE.decode_without_bom_handling_and_without_replacement(rest).ok_or(TableError::BadEncoding {
            detail: "the file starts with a UTF-16 byte order mark but is not valid UTF-16",
        })?
    } else if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        UTF_16BE.decode_without_bom_handling_and_without_replacement(rest).ok_or(TableError::BadEncoding {
            detail: "the file starts with a UTF-16 byte order mark but is not valid UTF-16",
        })?
    } else if let Ok(text) = std::str::from_utf8(bytes) {
        Cow::Borrowed(text)
    } else {
        GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .ok_or(TableError::BadEncoding { detail: "the file is neither UTF-8 nor GBK/GB18030 text" })?
    };
    // NUL never occurs in real CSV; it means UTF-16/32 without a BOM or a
    // binary file, which would otherwise parse into garbage headers.
    if text.as_bytes().contains(&0) {
        return Err(TableError::BadEncoding {
            detail: "the file contains NUL characters (UTF-16 without a byte order mark, or not a text file)",
        });
    }
    Ok(text)
}

/// Picks the delimiter that occurs most often outside quotes in the first
/// line with content; ties prefer comma, then tab, then semicolon.
fn detect_delimiter(text: &str) -> u8 {
    let (mut comma, mut tab, mut semicolon) = (0usize, 0usize, 0usize);
    let mut content = false;
    let mut in_quotes = false;
    for &b in text.as_bytes() {
        match b {
            b'"' => {
                in_quotes = !in_quotes;
                content = true;
            }
            _ if in_quotes => {}
            b',' => comma += 1,
            b'\t' => tab += 1,
            b';' => semicolon += 1,
            b'\r' | b'\n' => {
                if content || comma + tab + semicolon > 0 {
                    break;
                }
            }
            b' ' => {}
            _ => content = true,
        }
    }
    if comma >= tab && comma >= semicolon {
        b','
    } else if tab >= semicolon {
        b'\t'
    } else {
        b';'
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Byte offset of the next unread byte; always on a char boundary.
    pos: usize,
    /// Number of the record most recently started.
    row: usize,
    delimiter: u8,
    /// Reused buffer for quoted cells, which need unescaping.
    scratch: String,
}

/// Undoes the formula-injection guard of [`crate::write_csv`] (a `'` written before `= + - @`
/// or a control character), so an exported file imports back to the values it came from.
fn unguard(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@', '\t', '\r']) => rest.to_owned(),
        _ => cell,
    }
}

impl Parser<'_> {
    /// Parses the next record; `None` at the end of the text.
    fn next_record(&mut self, width_hint: usize) -> Result<Option<(usize, Vec<String>)>, TableError> {
        let bytes = self.text.as_bytes();
        if self.pos >= bytes.len() {
            return Ok(None);
        }
        self.row += 1;
        let mut cells = Vec::with_capacity(width_hint);
        loop {
            cells.push(unguard(self.cell()?));
            // `cell` stops at a delimiter, a line break or the end.
            match bytes.get(self.pos) {
                Some(&b) if b == self.delimiter => self.pos += 1,
                Some(b'\r') => {
                    self.pos += 1;
                    if bytes.get(self.pos) == Some(&b'\n') {
                        self.pos += 1;
                    }
                    break;
                }
                Some(_) => {
                    self.pos += 1;
                    break;
                }
                None => break,
            }
        }
        Ok(Some((self.row, cells)))
    }

    fn is_blank(&self, b: u8) -> bool {
        (b == b' ' || b == b'\t') && b != self.delimiter
    }

    /// Parses one cell starting at `pos` and leaves `pos` on the byte that
    /// ends it.
    fn cell(&mut self) -> Result<String, TableError> {
        let bytes = self.text.as_bytes();
        let start = self.pos;
        let mut p = start;
        while p < bytes.len() && self.is_blank(bytes[p]) {
            p += 1;
        }
        if bytes.get(p) == Some(&b'"') {
            self.pos = p + 1;
            return self.quoted_cell();
        }
        let delimiter = self.delimiter;
        let end =
            bytes[p..].iter().position(|&b| b == delimiter || b == b'\n' || b == b'\r').map_or(bytes.len(), |i| p + i);
        self.pos = end;
        // A stray quote inside an unquoted cell is kept literally, as Excel does.
        Ok(self.text[start..end].trim().to_owned())
    }

    /// Parses a quoted cell; `pos` is just after the opening quote.
    fn quoted_cell(&mut self) -> Result<String, TableError> {
        let bytes = self.text.as_bytes();
        self.scratch.clear();
        loop {
            let Some(i) = bytes[self.pos..].iter().position(|&b| b == b'"') else {
                return Err(TableError::MalformedCsv {
                    row: self.row,
                    detail: "a quoted cell is never closed (missing closing quote)",
                });
            };
            self.scratch.push_str(&self.text[self.pos..self.pos + i]);
            self.pos += i + 1;
            if bytes.get(self.pos) == Some(&b'"') {
                self.scratch.push('"');
                self.pos += 1;
            } else {
                break;
            }
        }
        while self.pos < bytes.len() && self.is_blank(bytes[self.pos]) {
            self.pos += 1;
        }
        match bytes.get(self.pos) {
            None | Some(b'\r' | b'\n') => {}
            Some(&b) if b == self.delimiter => {}
            Some(_) => {
                return Err(TableError::MalformedCsv {
                    row: self.row,
                    detail: "text follows a closing quote (a quote inside a quoted cell must be doubled)",
                });
            }
        }
        let value = self.scratch.trim();
        Ok(if value.contains('\r') { value.replace("\r\n", "\n") } else { value.to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<(usize, Vec<String>)> {
        let mut p = Parser { text, pos: 0, row: 0, delimiter: detect_delimiter(text), scratch: String::new() };
        let mut out = Vec::new();
        while let Some(r) = p.next_record(4).unwrap() {
            out.push(r);
        }
        out
    }

    #[test]
    fn records_and_blank_lines() {
        let r = rows("a,b\r\n\r\n c , \"d\"\"e\" \rf\n");
        assert_eq!(r.len(), 4);
        assert_eq!(r[1], (2, vec![String::new()]));
        assert_eq!(r[2], (3, vec!["c".to_owned(), "d\"e".to_owned()]));
        assert_eq!(r[3], (4, vec!["f".to_owned()]));
    }

    #[test]
    fn trailing_delimiter_gives_empty_last_cell() {
        assert_eq!(rows("a,")[0].1, ["a", ""]);
    }

    #[test]
    fn quoted_crlf_becomes_lf() {
        assert_eq!(rows("\"x\r\ny\",z")[0].1, ["x\ny", "z"]);
    }

    #[test]
    fn delimiter_detection() {
        assert_eq!(detect_delimiter("a;b;c,d\n"), b';');
        assert_eq!(detect_delimiter("a\tb\n"), b'\t');
        assert_eq!(detect_delimiter("\"a;b;c\",d\n"), b',');
        assert_eq!(detect_delimiter("\n  \na;b\n"), b';');
        assert_eq!(detect_delimiter("single\nx,y,z\n"), b',');
        assert_eq!(detect_delimiter("a;b\tc,d\n"), b',');
        assert_eq!(detect_delimiter(""), b',');
    }

    #[test]
    fn nul_is_rejected() {
        assert_eq!(decode(b"a\0b").unwrap_err().code(), "bad_encoding");
    }
}
