//! Parsing templates (see the module documentation of
//! [`letters`](super) for the language).

use std::collections::BTreeSet;

use super::error::LetterError;
use super::kinds::{FieldSpec, FieldType, Lang, LetterKind};
use super::value::Letter;

/// A parsed, checked template for one document kind.
///
/// Parsing checks everything that does not depend on values — placeholders
/// exist, conditionals are closed, every required field is shown, tables
/// stand alone — so an admin learns about a broken override when saving it,
/// not when a letter has to go out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    kind: LetterKind,
    nodes: Vec<Node>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Node {
    Text(String),
    Field(&'static FieldSpec),
    If { field: &'static FieldSpec, then: Vec<Node>, otherwise: Vec<Node> },
}

/// A piece of an evaluated template: literal template text or a field whose
/// value the block layout inserts (values are never parsed as template
/// syntax).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece<'a> {
    Lit(&'a str),
    Field(&'static FieldSpec),
}

struct Open {
    field: &'static FieldSpec,
    line: usize,
    then: Vec<Node>,
    otherwise: Option<Vec<Node>>,
}

enum Tag<'a> {
    If(&'a str),
    Else,
    EndIf,
    Field(&'a str),
}

impl Template {
    /// Parses and checks `text` as a template for `kind`.
    ///
    /// Fails with [`LetterError::MalformedPlaceholder`],
    /// [`LetterError::UnexpectedTag`], [`LetterError::TablePlacement`],
    /// [`LetterError::UnknownPlaceholder`] (listing every unknown name),
    /// [`LetterError::UnclosedIf`] or [`LetterError::MissingPlaceholder`]
    /// (a required field shown nowhere, or only under a condition on an
    /// optional field).
    pub fn parse(kind: LetterKind, text: &str) -> Result<Template, LetterError> {
        let mut root: Vec<Node> = Vec::new();
        let mut stack: Vec<Open> = Vec::new();
        let mut unknown: Vec<String> = Vec::new();
        let lines: Vec<&str> = text.split('\n').collect();
        let last = lines.len() - 1;

        for (index, raw) in lines.iter().enumerate() {
            let line_no = index + 1;
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            let trimmed = line.trim();
            // A tag alone on its line takes the whole line with it, so
            // conditional blocks do not leave blank lines behind.
            if let Some(inner) = trimmed.strip_prefix("{{").and_then(|t| t.strip_suffix("}}"))
                && !inner.contains("{{")
                && !inner.contains("}}")
            {
                let tag = classify(inner, line_no)?;
                if !matches!(tag, Tag::Field(_)) {
                    apply_tag(kind, tag, inner, line_no, &mut root, &mut stack, &mut unknown)?;
                    continue;
                }
            }
            let mut rest = line;
            while let Some(start) = rest.find("{{") {
                push_text(current(&mut root, &mut stack), &rest[..start]);
                let after_open = &rest[start + 2..];
                let Some(end) = after_open.find("}}") else {
                    return Err(LetterError::MalformedPlaceholder { text: rest[start..].to_owned(), line: line_no });
                };
                let inner = &after_open[..end];
                let tag = classify(inner, line_no)?;
                if let Tag::Field(name) = tag
                    && let Some(spec) = kind.field(name)
                    && matches!(spec.ty, FieldType::Table(_))
                    && !(rest[..start].trim().is_empty() && after_open[end + 2..].trim().is_empty() && rest == line)
                {
                    return Err(LetterError::TablePlacement { field: name.to_owned(), line: line_no });
                }
                apply_tag(kind, tag, inner, line_no, &mut root, &mut stack, &mut unknown)?;
                rest = &after_open[end + 2..];
            }
            push_text(current(&mut root, &mut stack), rest);
            if index != last {
                push_text(current(&mut root, &mut stack), "\n");
            }
        }

        if !unknown.is_empty() {
            return Err(LetterError::UnknownPlaceholder { names: unknown });
        }
        if let Some(open) = stack.pop() {
            return Err(LetterError::UnclosedIf { field: open.field.name.to_owned(), line: open.line });
        }
        let shown = always_shown(&root);
        let missing: Vec<&'static str> =
            kind.fields().iter().filter(|f| f.required && !shown.contains(f.name)).map(|f| f.name).collect();
        if !missing.is_empty() {
            return Err(LetterError::MissingPlaceholder { fields: missing });
        }
        Ok(Template { kind, nodes: root })
    }

    /// The built-in template of `kind` in `lang`, parsed.
    ///
    /// The built-in texts are checked by the crate's tests, so this cannot
    /// fail in a released build; it still returns a `Result` rather than
    /// panicking.
    pub fn builtin(kind: LetterKind, lang: Lang) -> Result<Template, LetterError> {
        Template::parse(kind, kind.builtin_template(lang))
    }

    /// The kind the template was parsed for.
    #[must_use]
    pub fn kind(&self) -> LetterKind {
        self.kind
    }

    /// Resolves the conditionals against `letter`, leaving literal text and
    /// field references in order.
    pub(crate) fn evaluate<'t>(&'t self, letter: &Letter) -> Vec<Piece<'t>> {
        let mut out = Vec::new();
        flatten(&self.nodes, letter, &mut out);
        out
    }
}

fn classify(inner: &str, line: usize) -> Result<Tag<'_>, LetterError> {
    let t = inner.trim();
    let malformed = || LetterError::MalformedPlaceholder { text: format!("{{{{{inner}}}}}"), line };
    let tag = if let Some(name) = t.strip_prefix("#if") {
        let name = name.trim();
        if !name.is_empty() && t.as_bytes().get(3).is_some_and(u8::is_ascii_whitespace) {
            Tag::If(name)
        } else {
            return Err(malformed());
        }
    } else if t == "else" {
        Tag::Else
    } else if t == "/if" {
        Tag::EndIf
    } else {
        Tag::Field(t)
    };
    match tag {
        Tag::If(name) | Tag::Field(name) if !is_identifier(name) => Err(malformed()),
        tag => Ok(tag),
    }
}

fn is_identifier(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn current<'a>(root: &'a mut Vec<Node>, stack: &'a mut [Open]) -> &'a mut Vec<Node> {
    match stack.last_mut() {
        Some(Open { otherwise: Some(nodes), .. }) => nodes,
        Some(Open { then, .. }) => then,
        None => root,
    }
}

fn push_text(nodes: &mut Vec<Node>, text: &str) {
    if text.is_empty() {
        return;
    }
    if let Some(Node::Text(previous)) = nodes.last_mut() {
        previous.push_str(text);
    } else {
        nodes.push(Node::Text(text.to_owned()));
    }
}

fn apply_tag(
    kind: LetterKind,
    tag: Tag<'_>,
    inner: &str,
    line: usize,
    root: &mut Vec<Node>,
    stack: &mut Vec<Open>,
    unknown: &mut Vec<String>,
) -> Result<(), LetterError> {
    let mut lookup = |name: &str| {
        let spec = kind.field(name);
        if spec.is_none() && !unknown.iter().any(|u| u == name) {
            unknown.push(name.to_owned());
        }
        spec
    };
    match tag {
        Tag::Field(name) => {
            if let Some(spec) = lookup(name) {
                current(root, stack).push(Node::Field(spec));
            }
        }
        Tag::If(name) => {
            // An unknown condition is reported with the other unknown names;
            // a placeholder spec stands in so nesting stays checkable.
            let spec = lookup(name).unwrap_or(&UNKNOWN);
            stack.push(Open { field: spec, line, then: Vec::new(), otherwise: None });
        }
        Tag::Else => match stack.last_mut() {
            Some(open) if open.otherwise.is_none() => open.otherwise = Some(Vec::new()),
            _ => return Err(LetterError::UnexpectedTag { tag: format!("{{{{{inner}}}}}"), line }),
        },
        Tag::EndIf => {
            let Some(open) = stack.pop() else {
                return Err(LetterError::UnexpectedTag { tag: format!("{{{{{inner}}}}}"), line });
            };
            let node = Node::If { field: open.field, then: open.then, otherwise: open.otherwise.unwrap_or_default() };
            current(root, stack).push(node);
        }
    }
    Ok(())
}

static UNKNOWN: FieldSpec = FieldSpec { name: "", ty: FieldType::Text, required: false, about: "" };

/// The fields `nodes` always show, whatever the values: those outside any
/// `{{#if}}`, those under a condition on a required field (always present),
/// and those shown by both branches of any condition.
fn always_shown(nodes: &[Node]) -> BTreeSet<&'static str> {
    let mut shown = BTreeSet::new();
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Field(spec) => {
                shown.insert(spec.name);
            }
            Node::If { field, then, otherwise } => {
                let then = always_shown(then);
                if field.required {
                    shown.extend(then);
                } else {
                    shown.extend(then.intersection(&always_shown(otherwise)).copied());
                }
            }
        }
    }
    shown
}

fn flatten<'t>(nodes: &'t [Node], letter: &Letter, out: &mut Vec<Piece<'t>>) {
    for node in nodes {
        match node {
            Node::Text(text) => out.push(Piece::Lit(text)),
            Node::Field(spec) => out.push(Piece::Field(spec)),
            Node::If { field, then, otherwise } => {
                let branch = if letter.get(field.name).is_some() { then } else { otherwise };
                flatten(branch, letter, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KIND: LetterKind = LetterKind::TerminationCertificate;
    const MINIMAL: &str = "{{company}} {{employee_name}} {{employee_no}} {{contract_start}} {{termination_date}} \
                           {{position}} {{years_of_service}} {{issue_date}}";

    fn code(text: &str) -> &'static str {
        Template::parse(KIND, text).map(|_| "ok").unwrap_or_else(|e| e.code())
    }

    #[test]
    fn structure_errors_have_their_codes() {
        assert_eq!(code(MINIMAL), "ok");
        assert_eq!(code(&format!("{MINIMAL}\n{{{{#if reason}}}}\nx")), "unclosed_if");
        assert_eq!(code(&format!("{MINIMAL}\n{{{{/if}}}}")), "unexpected_tag");
        assert_eq!(
            code(&format!("{MINIMAL}\n{{{{#if reason}}}}a{{{{else}}}}b{{{{else}}}}c{{{{/if}}}}")),
            "unexpected_tag"
        );
        assert_eq!(code(&format!("{MINIMAL} {{{{company")), "malformed_placeholder");
        assert_eq!(code(&format!("{MINIMAL} {{{{Company Name}}}}")), "malformed_placeholder");
        assert_eq!(code(&format!("{MINIMAL} {{{{#if}}}}x{{{{/if}}}}")), "malformed_placeholder");
        assert_eq!(code(&MINIMAL.replace("{{position}}", "")), "missing_placeholder");
    }

    #[test]
    fn unknown_placeholders_are_all_listed() {
        let e = Template::parse(KIND, &format!("{MINIMAL} {{{{salary}}}} {{{{#if bonus}}}}{{{{salary}}}}{{{{/if}}}}"))
            .expect_err("unknown");
        assert_eq!(e, LetterError::UnknownPlaceholder { names: vec!["salary".into(), "bonus".into()] });
    }

    #[test]
    fn required_field_only_under_optional_condition_is_missing() {
        let text = MINIMAL.replace("{{position}}", "{{#if reason}}{{position}}{{/if}}");
        assert_eq!(code(&text), "missing_placeholder");
        let text = MINIMAL.replace("{{position}}", "{{#if company}}{{position}}{{/if}}");
        assert_eq!(code(&text), "ok");
        let text = MINIMAL.replace("{{position}}", "{{#if reason}}{{position}}{{else}}-{{position}}{{/if}}");
        assert_eq!(code(&text), "ok");
        let text = MINIMAL.replace("{{position}}", "{{#if reason}}{{position}}{{else}}{{reason}}{{/if}}");
        assert_eq!(code(&text), "missing_placeholder");
    }

    #[test]
    fn table_must_be_alone_on_its_line() {
        let wages = LetterKind::WageSettlement.builtin_template(Lang::En);
        assert!(Template::parse(LetterKind::WageSettlement, wages).is_ok());
        let inline = wages.replace("\n{{lines}}\n", "\nLines: {{lines}}\n");
        assert_eq!(
            Template::parse(LetterKind::WageSettlement, &inline).map(|_| ()).map_err(|e| e.code()),
            Err("table_placement")
        );
    }
}
