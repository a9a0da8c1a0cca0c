//! The PDF writer: blocks → typst markup → typst (as a library) → PDF.
//!
//! Every piece of text, from the template as well as from field values, is
//! escaped before it enters the markup, so neither an admin's template nor a
//! name or note can run typst code. The world below also refuses every file
//! and package access, as a second line of defence.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::LazyLock;

use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration};
use typst::layout::{Frame, FrameItem};
use typst::syntax::{FileId, Source};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World};

use super::blocks::{Block, Inline};
use super::error::LetterError;
use super::fonts::{Fonts, Inner};
use super::kinds::Lang;

/// typst's standard library, built once per process.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

/// Escapes text for typst markup: every ASCII character that is not a
/// letter, digit or space is backslash-escaped (typst treats an escaped
/// symbol as itself), which covers `# $ * _ @ < > \ [ ] / ~ - = + ' "` and
/// anything a later typst version might make special.
pub(crate) fn escape_markup(text: &str, out: &mut String) {
    for c in text.chars() {
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_ascii_punctuation() => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

/// Escapes text for a typst string literal.
fn escape_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
}

fn inlines(items: &[Inline], out: &mut String) {
    for item in items {
        match item {
            Inline::Break => out.push_str("#linebreak()"),
            Inline::Text { text, bold: true } => {
                out.push_str("#strong[");
                escape_markup(text, out);
                out.push(']');
            }
            Inline::Text { text, bold: false } => escape_markup(text, out),
        }
    }
}

/// Writes the typst source of a document.
pub(crate) fn markup(blocks: &[Block], lang: Lang, title: &str, author: &str, fonts: &Fonts) -> String {
    let inner = fonts.inner();
    let mut families = Vec::new();
    match lang {
        Lang::ZhCn => {
            families.push(inner.cjk_family.as_str());
            families.extend(inner.latin_family.as_deref());
        }
        Lang::En => {
            families.extend(inner.latin_family.as_deref());
            families.push(inner.cjk_family.as_str());
        }
    }
    let mut out = String::with_capacity(8 * 1024);
    out.push_str("#set document(title: ");
    escape_string(title, &mut out);
    out.push_str(", author: ");
    escape_string(author, &mut out);
    // Page "n / total" in the footer: a multi-page legal document shows
    // that no page is missing or was swapped.
    out.push_str(
        ")\n#set page(paper: \"a4\", margin: (x: 20mm, top: 25mm, bottom: 25mm), \
         footer: context align(center, text(size: 9pt, counter(page).display(\"1 / 1\", both: true))))\n",
    );
    out.push_str("#set text(font: (");
    for family in families {
        escape_string(family, &mut out);
        out.push_str(", ");
    }
    // No automatic extra space between Chinese and Latin text, as in
    // formal Chinese documents and in the HTML version.
    out.push_str("), size: 11.5pt, cjk-latin-spacing: none, ");
    out.push_str(match lang {
        Lang::ZhCn => "lang: \"zh\", region: \"cn\")\n",
        Lang::En => "lang: \"en\", region: \"gb\", hyphenate: false)\n",
    });
    // Chinese documents are set justified; English letters ragged right,
    // which also keeps a Chinese name in an English line from being spread
    // out by justification.
    out.push_str(match lang {
        Lang::ZhCn => "#set par(justify: true, leading: 0.9em, spacing: 1.2em)\n",
        Lang::En => "#set par(justify: false, leading: 0.75em, spacing: 1.1em)\n",
    });
    out.push_str("#set list(indent: 1.2em, spacing: 0.8em)\n");
    out.push_str("#set table(stroke: 0.6pt, inset: (x: 6pt, y: 5pt))\n\n");

    for block in blocks {
        match block {
            Block::Title(items) => {
                out.push_str("#align(center)[#block(below: 1.6em)[#text(size: 17pt, weight: \"bold\")[");
                inlines(items, &mut out);
                out.push_str("]]]\n\n");
            }
            Block::Heading(items) => {
                out.push_str("#block(above: 1.4em, below: 0.8em, sticky: true)[#text(size: 12.5pt, weight: \"bold\")[");
                inlines(items, &mut out);
                out.push_str("]]\n\n");
            }
            Block::Paragraph(items) => {
                out.push_str("#par[");
                inlines(items, &mut out);
                out.push_str("]\n\n");
            }
            Block::Signature(items) => {
                out.push_str("#align(right)[#block(above: 2.5em, breakable: false)[#set par(justify: false)\n");
                inlines(items, &mut out);
                out.push_str("]]\n\n");
            }
            Block::List(entries) => {
                out.push_str("#list(");
                for entry in entries {
                    out.push('[');
                    inlines(entry, &mut out);
                    out.push_str("], ");
                }
                out.push_str(")\n\n");
            }
            Block::Table { columns, rows } => {
                out.push_str("#table(columns: (");
                for column in *columns {
                    out.push_str(if column.numeric { "auto, " } else { "1fr, " });
                }
                out.push_str("), align: (");
                for column in *columns {
                    out.push_str(if column.numeric { "right, " } else { "left, " });
                }
                out.push_str("), table.header(");
                for column in *columns {
                    out.push_str("[#strong[");
                    escape_markup(column.header(lang), &mut out);
                    out.push_str("]], ");
                }
                out.push_str("), ");
                for row in rows {
                    for cell in row {
                        out.push('[');
                        escape_markup(cell.trim(), &mut out);
                        out.push_str("], ");
                    }
                }
                out.push_str(")\n\n");
            }
        }
    }
    out
}

/// The smallest world typst needs: one source, our fonts, no files, no
/// packages, no clock.
struct LetterWorld<'a> {
    fonts: &'a Inner,
    main: Source,
}

impl World for LetterWorld<'_> {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &self.fonts.book
    }

    fn main(&self) -> FileId {
        self.main.id()
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        if id == self.main.id() { Ok(self.main.clone()) } else { Err(FileError::AccessDenied) }
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.main.id() { Ok(Bytes::from_string(self.main.clone())) } else { Err(FileError::AccessDenied) }
    }

    fn font(&self, index: usize) -> Option<Font> {
        self.fonts.font(index)
    }

    fn today(&self, _offset: Option<Duration>) -> Option<Datetime> {
        None
    }
}

/// typst's messages with their hints, each distinct message once.
fn messages(diagnostics: &[SourceDiagnostic]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for diagnostic in diagnostics {
        let mut text = diagnostic.message.to_string();
        for hint in &diagnostic.hints {
            let _ = write!(text, " (hint: {})", hint.v);
        }
        if !out.contains(&text) {
            out.push(text);
        }
    }
    out
}

/// Typesets `source` and exports the PDF. Warnings are errors, and so is any
/// character that came out as an empty box (typst does not warn about those).
pub(crate) fn compile(source: String, fonts: &Fonts) -> Result<Vec<u8>, LetterError> {
    let world = LetterWorld { fonts: fonts.inner(), main: Source::detached(source) };
    let warned = typst::compile(&world);
    // typst memoises across compilations; without eviction a long-running
    // server would keep every document it ever typeset in memory.
    typst::comemo::evict(10);
    if !warned.warnings.is_empty() {
        return Err(LetterError::Typesetting { messages: messages(&warned.warnings) });
    }
    let document = warned.output.map_err(|errors| LetterError::Typesetting { messages: messages(&errors) })?;
    // Exporting first also fixes the document's type (typst does not
    // re-export it); the glyph check below is cheap next to typesetting.
    let options = typst_pdf::PdfOptions::default();
    let bytes = typst_pdf::pdf(&document, &options)
        .map_err(|errors| LetterError::Typesetting { messages: messages(&errors) })?;
    let mut missing = BTreeSet::new();
    for page in document.pages() {
        missing_glyphs(&page.frame, &mut missing);
    }
    if !missing.is_empty() {
        return Err(LetterError::MissingGlyph { chars: missing.into_iter().collect() });
    }
    Ok(bytes)
}

/// Collects the characters typst set with glyph 0 (`.notdef`, the empty box).
fn missing_glyphs(frame: &Frame, out: &mut BTreeSet<char>) {
    for (_, item) in frame.items() {
        match item {
            FrameItem::Group(group) => missing_glyphs(&group.frame, out),
            FrameItem::Text(text) => {
                for glyph in text.glyphs.iter().filter(|g| g.id == 0) {
                    if let Some(chars) = text.text.get(glyph.range()) {
                        out.extend(chars.chars().filter(|c| !c.is_whitespace()));
                    }
                }
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typst_warnings_are_errors() {
        let fonts = Fonts::discover(&[]).expect("tests need a CJK font (fonts-noto-cjk)");
        let e = compile("#set text(font: \"No Such Font Family\")\nHello".into(), &fonts).expect_err("warning");
        assert!(
            matches!(&e, LetterError::Typesetting { messages } if messages.iter().any(|m| m.contains("unknown font family"))),
            "{e:?}"
        );
        let e = compile("#read(\"/etc/passwd\")".into(), &fonts).expect_err("file access");
        assert_eq!(e.code(), "typesetting");
        assert!(compile("Hello 王喆堃".into(), &fonts).is_ok());
    }

    #[test]
    fn markup_escaping_covers_every_ascii_symbol() {
        let mut out = String::new();
        escape_markup("#set page(width: 1pt) $x$ *b* _i_ @ref <l> \\ ] // 1. a", &mut out);
        assert_eq!(out, "\\#set page\\(width\\: 1pt\\) \\$x\\$ \\*b\\* \\_i\\_ \\@ref \\<l\\> \\\\ \\] \\/\\/ 1\\. a");
        let mut s = String::new();
        escape_string("a\"b\\c", &mut s);
        assert_eq!(s, "\"a\\\"b\\\\c\"");
    }
}
