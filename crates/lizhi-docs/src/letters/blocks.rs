//! Turning an evaluated template into blocks of styled text, the one
//! structure both the HTML and the PDF writers render.
//!
//! Template syntax (`# `, `- `, `**`, …) is recognised only in the
//! template's own text; field values are always plain text, so a value
//! cannot start a heading or switch bold on.

use super::kinds::{Column, FieldSpec, FieldType, Lang};
use super::template::Piece;
use super::value::{FieldValue, Letter, format_date};

/// A run of text inside a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Inline {
    /// Plain text, bold or not. Never contains a newline.
    Text { text: String, bold: bool },
    /// A line break within the block.
    Break,
}

/// A block of the document, in reading order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Block {
    /// The document title (`# `).
    Title(Vec<Inline>),
    /// A section heading (`## `).
    Heading(Vec<Inline>),
    /// A paragraph; its template lines are separated by [`Inline::Break`].
    Paragraph(Vec<Inline>),
    /// A bulleted list.
    List(Vec<Vec<Inline>>),
    /// The right-aligned signature and date block (`>> `).
    Signature(Vec<Inline>),
    /// A table field.
    Table { columns: &'static [Column], rows: Vec<Vec<String>> },
}

/// Plain text of inlines, for titles in metadata.
pub(crate) fn plain_text(inlines: &[Inline]) -> String {
    let mut out = String::new();
    for inline in inlines {
        match inline {
            Inline::Text { text, .. } => out.push_str(text),
            Inline::Break => out.push(' '),
        }
    }
    out
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum LineKind {
    Title,
    Heading,
    Item,
    Signature,
    Plain,
}

/// Lays out the evaluated pieces of a template as blocks.
pub(crate) fn layout(pieces: &[Piece<'_>], letter: &Letter) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<Block> = None;
    for line in split_lines(pieces) {
        let (kind, content) = classify(&line);
        let content = trim(content);
        if let [Piece::Field(spec)] = content.as_slice()
            && let FieldType::Table(columns) = spec.ty
        {
            close(&mut open, &mut blocks);
            if let Some(FieldValue::Table(rows)) = letter.get(spec.name) {
                blocks.push(Block::Table { columns, rows: rows.clone() });
            }
            continue;
        }
        if kind == LineKind::Item
            && let [Piece::Field(spec)] = content.as_slice()
            && matches!(spec.ty, FieldType::List | FieldType::DateList)
        {
            let items: Vec<Vec<Inline>> = list_items(letter, spec)
                .into_iter()
                .filter(|i| !i.trim().is_empty())
                .map(|i| text_inlines(&i, false))
                .collect();
            append_items(&mut open, &mut blocks, items);
            continue;
        }
        let inlines = inlines(&content, letter);
        if inlines.is_empty() {
            if kind != LineKind::Item {
                close(&mut open, &mut blocks);
            }
            continue;
        }
        match kind {
            LineKind::Title => {
                close(&mut open, &mut blocks);
                blocks.push(Block::Title(inlines));
            }
            LineKind::Heading => {
                close(&mut open, &mut blocks);
                blocks.push(Block::Heading(inlines));
            }
            LineKind::Item => append_items(&mut open, &mut blocks, vec![inlines]),
            LineKind::Signature => match &mut open {
                Some(Block::Signature(existing)) => {
                    existing.push(Inline::Break);
                    existing.extend(inlines);
                }
                _ => {
                    close(&mut open, &mut blocks);
                    open = Some(Block::Signature(inlines));
                }
            },
            LineKind::Plain => match &mut open {
                Some(Block::Paragraph(existing)) => {
                    existing.push(Inline::Break);
                    existing.extend(inlines);
                }
                _ => {
                    close(&mut open, &mut blocks);
                    open = Some(Block::Paragraph(inlines));
                }
            },
        }
    }
    close(&mut open, &mut blocks);
    blocks
}

fn close(open: &mut Option<Block>, blocks: &mut Vec<Block>) {
    if let Some(block) = open.take() {
        blocks.push(block);
    }
}

fn append_items(open: &mut Option<Block>, blocks: &mut Vec<Block>, items: Vec<Vec<Inline>>) {
    if items.is_empty() {
        return;
    }
    if let Some(Block::List(existing)) = open {
        existing.extend(items);
    } else {
        close(open, blocks);
        *open = Some(Block::List(items));
    }
}

fn split_lines<'t>(pieces: &[Piece<'t>]) -> Vec<Vec<Piece<'t>>> {
    let mut lines = vec![Vec::new()];
    for piece in pieces {
        match piece {
            Piece::Lit(text) => {
                let mut parts = text.split('\n');
                if let Some(first) = parts.next()
                    && !first.is_empty()
                    && let Some(line) = lines.last_mut()
                {
                    line.push(Piece::Lit(first));
                }
                for part in parts {
                    lines.push(if part.is_empty() { Vec::new() } else { vec![Piece::Lit(part)] });
                }
            }
            Piece::Field(_) => {
                if let Some(line) = lines.last_mut() {
                    line.push(*piece);
                }
            }
        }
    }
    lines
}

fn classify<'t>(line: &[Piece<'t>]) -> (LineKind, Vec<Piece<'t>>) {
    let mut content = line.to_vec();
    let Some(Piece::Lit(first)) = content.first().copied() else {
        return (LineKind::Plain, content);
    };
    let start = first.trim_start();
    let prefixes =
        [("## ", LineKind::Heading), ("# ", LineKind::Title), ("- ", LineKind::Item), (">> ", LineKind::Signature)];
    for (prefix, kind) in prefixes {
        let bare = prefix.trim_end();
        let rest = if let Some(rest) = start.strip_prefix(prefix) {
            Some(rest)
        } else if start == bare {
            // `- {{field}}`: the space before the placeholder belongs to
            // the prefix; a lone `-` or `#` is still the prefix.
            Some("")
        } else {
            None
        };
        if let Some(rest) = rest {
            content[0] = Piece::Lit(rest);
            return (kind, content);
        }
    }
    (LineKind::Plain, content)
}

fn trim<'t>(mut content: Vec<Piece<'t>>) -> Vec<Piece<'t>> {
    if let Some(Piece::Lit(first)) = content.first_mut() {
        *first = first.trim_start();
    }
    if let Some(Piece::Lit(last)) = content.last_mut() {
        *last = last.trim_end();
    }
    content.retain(|p| !matches!(p, Piece::Lit("")));
    content
}

fn list_items(letter: &Letter, spec: &FieldSpec) -> Vec<String> {
    match letter.get(spec.name) {
        Some(FieldValue::List(items)) => items.clone(),
        Some(FieldValue::DateList(dates)) => dates.iter().map(|d| format_date(*d, letter.lang())).collect(),
        _ => Vec::new(),
    }
}

/// The inline text of a field value.
fn value_text(letter: &Letter, spec: &FieldSpec) -> String {
    let separator = match letter.lang() {
        Lang::ZhCn => "、",
        Lang::En => ", ",
    };
    match letter.get(spec.name) {
        None | Some(FieldValue::Table(_)) => String::new(),
        Some(FieldValue::Text(text)) => text.trim().to_owned(),
        Some(FieldValue::Date(date)) => format_date(*date, letter.lang()),
        Some(FieldValue::Number(n)) => n.to_string(),
        Some(FieldValue::List(_) | FieldValue::DateList(_)) => {
            let items = list_items(letter, spec);
            items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()).collect::<Vec<_>>().join(separator)
        }
    }
}

/// Text (possibly with newlines) as inlines with the given weight.
fn text_inlines(text: &str, bold: bool) -> Vec<Inline> {
    let mut out = Vec::new();
    push_text(&mut out, text, bold);
    out
}

fn push_text(out: &mut Vec<Inline>, text: &str, bold: bool) {
    for (i, line) in text.split('\n').enumerate() {
        if i > 0 {
            out.push(Inline::Break);
        }
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        if let Some(Inline::Text { text: previous, bold: previous_bold }) = out.last_mut()
            && *previous_bold == bold
        {
            previous.push_str(line);
        } else {
            out.push(Inline::Text { text: line.to_owned(), bold });
        }
    }
}

/// The inlines of one line's content. `**` in template text toggles bold;
/// an unpaired last `**` is kept as literal text.
fn inlines(content: &[Piece<'_>], letter: &Letter) -> Vec<Inline> {
    let markers: usize = content.iter().map(|p| if let Piece::Lit(t) = p { t.matches("**").count() } else { 0 }).sum();
    let mut toggles_left = markers - markers % 2;
    let mut bold = false;
    let mut out = Vec::new();
    for piece in content {
        match piece {
            Piece::Field(spec) => push_text(&mut out, &value_text(letter, spec), bold),
            Piece::Lit(text) => {
                let mut rest = *text;
                while toggles_left > 0
                    && let Some(at) = rest.find("**")
                {
                    push_text(&mut out, &rest[..at], bold);
                    bold = !bold;
                    toggles_left -= 1;
                    rest = &rest[at + 2..];
                }
                push_text(&mut out, rest, bold);
            }
        }
    }
    // A line whose fields are all absent has nothing to show.
    if out
        .iter()
        .all(|i| matches!(i, Inline::Break) || matches!(i, Inline::Text { text, .. } if text.trim().is_empty()))
    {
        out.clear();
    }
    out
}

/// The title for metadata: the first `# ` block, else the kind's name.
pub(crate) fn title_of(blocks: &[Block], fallback: &str) -> String {
    blocks
        .iter()
        .find_map(|b| if let Block::Title(items) = b { Some(plain_text(items)) } else { None })
        .unwrap_or_else(|| fallback.to_owned())
}
