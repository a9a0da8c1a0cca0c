//! The legal documents ("letters") separation cases produce, rendered from
//! admin-overridable templates to print-ready HTML and to PDF.
//!
//! A case step builds a [`Letter`] — a [`LetterKind`], a [`Lang`] and typed
//! field values checked against the kind's field list
//! ([`LetterKind::fields`]) — and renders it with [`render_html`] (for the
//! browser's print preview) or [`render_pdf`] (the archived, hashed copy).
//! Each kind has a built-in template per language
//! ([`LetterKind::builtin_template`]); a company can override it with its own
//! text, checked with [`Template::parse`] when the admin saves it.
//!
//! # Template language
//!
//! Templates are plain text in a small Markdown-like language that an HR
//! admin can edit without learning HTML or typst. It is deliberately
//! minimal: everything a template can express renders identically in HTML
//! and PDF, and nothing in it can run code.
//!
//! | syntax | meaning |
//! |---|---|
//! | `# Title` | the document title (centred) |
//! | `## Heading` | a section heading |
//! | blank line | ends a paragraph, list or signature block |
//! | consecutive lines | one paragraph; each line starts a new line in it (letters have address blocks, so line breaks are kept rather than reflowed) |
//! | `- item` | a bulleted list item |
//! | `>> text` | a line of the right-aligned signature and date block |
//! | `**bold**` | bold text, opened and closed on the same line |
//! | `{{field}}` | the value of a field |
//! | `{{#if field}}` … `{{else}}` … `{{/if}}` | shown only when the field is present and non-empty (`{{else}}` optional) |
//!
//! Values are written according to their [`FieldType`]: dates in the
//! letter's language (`2026年3月5日`, `5 March 2026`); a list or date list
//! alone on a `- {{field}}` line becomes one list item per value, elsewhere a
//! phrase joined with `、` (Chinese) or `, ` (English); a table placeholder
//! must be alone on its line and becomes a table with the kind's fixed,
//! translated column headers. An absent optional field shows as nothing.
//!
//! A tag alone on its line (`{{#if note}}`) takes the whole line, so
//! conditional blocks leave no blank lines; tags may also be used inline
//! (`至{{#if contract_end}}{{contract_end}}{{else}}无固定期限{{/if}}`).
//! Field values are never interpreted as template syntax: a name that
//! starts with `# ` or contains `**` prints as written.
//!
//! [`Template::parse`] rejects unknown placeholders (listing all of them),
//! unclosed or stray `{{#if}}`/`{{else}}`/`{{/if}}`, malformed `{{…}}`, a
//! table sharing its line, and a template that never shows a required field
//! (or shows it only under a condition on an optional field).
//!
//! # Fonts
//!
//! PDFs are typeset with typst, used as a library and kept private to this
//! crate. [`Fonts::discover`] scans the font folders once; it fails with
//! [`LetterError::NoCjkFont`] unless some font covers Chinese, including the
//! rare name characters 喆 and 堃 that GB2312-only fonts lack. typst warnings
//! and characters without a glyph are errors, never a silently degraded
//! document.

mod blocks;
mod error;
mod fonts;
mod html;
mod kinds;
mod pdf;
mod template;
mod value;

pub use error::LetterError;
pub use fonts::Fonts;
pub use kinds::{Column, FieldSpec, FieldType, Lang, LetterKind};
pub use template::Template;
pub use value::{FieldValue, Letter, LetterBuilder, format_date};

/// Parses the override, or the built-in template, and lays the letter out.
fn layout(letter: &Letter, template: Option<&str>) -> Result<(Vec<blocks::Block>, String), LetterError> {
    let template = match template {
        Some(text) => Template::parse(letter.kind(), text)?,
        None => Template::builtin(letter.kind(), letter.lang())?,
    };
    let blocks = blocks::layout(&template.evaluate(letter), letter);
    let title = blocks::title_of(&blocks, letter.kind().title(letter.lang()));
    Ok((blocks, title))
}

/// Renders a letter as a complete, print-ready HTML page.
///
/// The page is self-contained (A4 `@page` rules and our own style sheet
/// inline, no scripts, no external resources) so it prints the same from
/// any browser and passes a strict Content Security Policy; every value is
/// HTML-escaped. `template` is an admin's override text; `None` uses the
/// built-in template for the letter's kind and language.
pub fn render_html(letter: &Letter, template: Option<&str>) -> Result<String, LetterError> {
    let (blocks, title) = layout(letter, template)?;
    Ok(html::page(&blocks, letter.lang(), &title))
}

/// Renders a letter as a PDF with typst.
///
/// Same template rules as [`render_html`]. Fails with
/// [`LetterError::MissingGlyph`] when some character has no glyph in the
/// available fonts and with [`LetterError::Typesetting`] on any typst error
/// or warning. The output does not embed the current time, so the same
/// letter and fonts give the same bytes (the caller hashes them as evidence).
pub fn render_pdf(letter: &Letter, template: Option<&str>, fonts: &Fonts) -> Result<Vec<u8>, LetterError> {
    let (blocks, title) = layout(letter, template)?;
    let author = match letter.get("company") {
        Some(FieldValue::Text(company)) => company.trim().to_owned(),
        _ => String::new(),
    };
    pdf::compile(pdf::markup(&blocks, letter.lang(), &title, &author, fonts), fonts)
}
