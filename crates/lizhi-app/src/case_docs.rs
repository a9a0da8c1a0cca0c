//! Documents of a case: the letters filled from what the case recorded, rendered to PDF (archived with its
//! SHA-256 and recorded on the case) and to print-ready HTML; admins may replace the built-in templates.

use crate::audit::{change, record};
use crate::case_flow::{calendar_of, entity_of, local_today};
use crate::cases::{policy_of, visible_case};
use crate::{App, AppError, Ctx};
use chrono::{Datelike, NaiveDate};
use lizhi_core::auth::Permission;
use lizhi_docs::letters::{self, FieldType, Fonts, Lang, Letter, LetterError, LetterKind, Template};
use lizhi_store::cases::{self as cases_store, CaseRow};
use lizhi_store::documents as store;
use lizhi_store::{Conn, attendance, employees};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The fonts PDFs are set in, discovered once from the system folders and the configured ones.
#[derive(Default)]
pub struct FontCache {
    dirs: Vec<PathBuf>,
    fonts: OnceLock<Result<Fonts, LetterError>>,
}

impl FontCache {
    /// A cache that also searches these folders (`font_dirs` in the configuration).
    pub fn with_dirs(dirs: Vec<PathBuf>) -> FontCache {
        FontCache { dirs, fonts: OnceLock::new() }
    }

    fn get(&self) -> Result<&Fonts, AppError> {
        self.fonts.get_or_init(|| Fonts::discover(&self.dirs)).as_ref().map_err(|e| AppError::Letter(e.clone()))
    }
}

/// A generated document as listed on a case.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentView {
    /// Id (download with `GET /api/v1/documents/{id}`).
    pub id: i64,
    /// Letter kind code.
    pub kind: String,
    /// Language.
    pub lang: String,
    /// SHA-256 of the PDF.
    pub sha256: String,
    /// When.
    pub created_at: chrono::DateTime<chrono::Utc>,
    /// By whom.
    pub created_by: String,
}

impl From<store::DocumentInfo> for DocumentView {
    fn from(d: store::DocumentInfo) -> Self {
        DocumentView {
            id: d.id,
            kind: d.kind,
            lang: d.lang,
            sha256: d.sha256,
            created_at: d.created_at,
            created_by: d.created_by,
        }
    }
}

fn parse_kind(raw: &str) -> Result<LetterKind, AppError> {
    LetterKind::from_code(raw.trim()).ok_or_else(|| AppError::invalid("kind", "invalid_input"))
}

fn parse_lang(raw: &str) -> Result<Lang, AppError> {
    Lang::from_code(raw.trim()).ok_or_else(|| AppError::invalid("lang", "invalid_input"))
}

/// Scheduled days from the first absence up to yesterday with neither a punch nor approved leave.
async fn absent_dates(c: &mut Conn<'_>, case: &CaseRow, today: NaiveDate) -> Result<Vec<NaiveDate>, AppError> {
    let Some(first) = case.first_absent_date else { return Ok(Vec::new()) };
    let end = case.effective_on.unwrap_or(today).min(today.pred_opt().unwrap_or(today));
    let employee = employees::get_by_id(c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let calendar = calendar_of(c, &employee).await?;
    let punched: std::collections::HashSet<NaiveDate> =
        attendance::attendance_days(c, first, end, Some(case.employee_id)).await?.into_iter().map(|(_, d)| d).collect();
    let leave = attendance::leaves(c, first, end, Some(case.employee_id)).await?;
    let on_leave = |d: NaiveDate| leave.iter().any(|l| l.status == "approved" && l.start_day <= d && d <= l.end_day);
    Ok(first
        .iter_days()
        .take_while(|d| *d <= end)
        .filter(|d| calendar.is_workday(*d) && !punched.contains(d) && !on_leave(*d))
        .collect())
}

/// "3年5个月" / "3 years 5 months" between two dates.
fn service_length(from: NaiveDate, to: NaiveDate, lang: Lang) -> String {
    let months =
        (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32 - i32::from(to.day() < from.day());
    let (y, m) = (months.max(0) / 12, months.max(0) % 12);
    match lang {
        Lang::ZhCn => format!("{y}年{m}个月"),
        Lang::En => format!("{y} years {m} months"),
    }
}

/// Fills a letter from the case: facts the case recorded, dates from the calendar, texts the caller gives
/// (`fields`: any text field, e.g. the HR phone or the company-rule text) on top of the computed defaults.
async fn letter(
    c: &mut Conn<'_>,
    ctx: &Ctx,
    case: &CaseRow,
    kind: LetterKind,
    lang: Lang,
    fields: &BTreeMap<String, String>,
    today: NaiveDate,
) -> Result<Letter, AppError> {
    let employee = employees::get_by_id(c, case.employee_id).await?.ok_or(AppError::NotFound)?;
    let entity = entity_of(c, case.legal_entity_id).await?;
    let policy = policy_of(case)?;
    let zh = lang == Lang::ZhCn;
    let method_name = |m: &str| {
        crate::i18n::t(if zh { crate::i18n::Locale::ZhCn } else { crate::i18n::Locale::En }, &format!("method-{m}"))
    };
    let receipt_name = |m: &str| {
        crate::i18n::t(if zh { crate::i18n::Locale::ZhCn } else { crate::i18n::Locale::En }, &format!("receipt-{m}"))
    };
    let notices = cases_store::notices(c, case.id).await?;
    let served: Vec<Vec<String>> = notices
        .iter()
        .filter(|n| n.receipt_outcome.as_deref().is_some_and(|o| o != "undeliverable"))
        .map(|n| {
            let title =
                if n.kind == "termination" { LetterKind::TerminationNotice } else { LetterKind::ReturnToWorkNotice };
            vec![
                format!("{} #{}", title.title(lang), n.round),
                method_name(&n.method),
                n.received_on.map(|d| letters::format_date(d, lang)).unwrap_or_default(),
            ]
        })
        .collect();
    let attempts: Vec<Vec<String>> = notices
        .iter()
        .map(|n| {
            vec![
                letters::format_date(n.dispatched_on, lang),
                method_name(&n.method),
                n.receipt_outcome.as_deref().map(receipt_name).unwrap_or_default(),
            ]
        })
        .collect();
    let rule_clause = if policy.rule_reference.is_empty() {
        if zh {
            "《员工手册》考勤管理制度".to_owned()
        } else {
            "the attendance rules of the Employee Handbook".to_owned()
        }
    } else {
        policy.rule_reference.clone()
    };
    let rule_text = if zh {
        format!(
            "员工无正当理由连续旷工{}个工作日及以上的，属严重违反公司规章制度，公司可以解除劳动合同。",
            policy.consecutive_red
        )
    } else {
        format!(
            "Unexcused absence on {} or more consecutive scheduled workdays is a serious breach of company rules for which the company may terminate the employment contract.",
            policy.consecutive_red
        )
    };
    let actor_name = ctx.principal.as_ref().map_or_else(|| ctx.actor.clone(), |p| p.username.clone());
    let mut b = Letter::builder(kind, lang)
        .text("company", entity.name.clone())
        .text("reference", format!("LZ-{}", case.id))
        .text("employee_name", employee.name.clone())
        .text("employee_no", employee.employee_no.clone());
    let has = |name: &str| kind.field(name).is_some();
    let set_text = |b: letters::LetterBuilder, name: &str, value: String| {
        if has(name) && !value.is_empty() { b.text(name, value) } else { b }
    };
    b = set_text(
        b,
        "position",
        employee.position.clone().unwrap_or_else(|| if zh { "员工".into() } else { "Employee".into() }),
    );
    b = set_text(b, "contract_address", employee.contract_address.clone().unwrap_or_default());
    b = set_text(b, "rule_clause", rule_clause);
    b = set_text(b, "rule_text", rule_text);
    b = set_text(b, "hr_contact_name", actor_name);
    b = set_text(
        b,
        "union_name",
        if zh { format!("{}工会委员会", entity.name) } else { format!("Trade union of {}", entity.name) },
    );
    b = set_text(b, "years_of_service", service_length(employee.hire_date, case.effective_on.unwrap_or(today), lang));
    if has("absent_dates") {
        b = b.dates("absent_dates", absent_dates(c, case, today).await?);
    }
    for (name, value) in [
        ("issue_date", Some(today)),
        ("decision_date", Some(today)),
        ("publication_date", Some(today)),
        ("contract_start", Some(employee.hire_date)),
        ("termination_date", case.effective_on),
        ("union_notified_on", case.union_notified_on),
        ("final_pay_date", case.effective_on),
    ] {
        if let (true, Some(v)) = (has(name), value) {
            b = b.date(name, v);
        }
    }
    for (name, value) in [
        ("notice_sequence", case.return_round.max(1) as u64),
        ("response_days", u64::from(policy.return_notice_response_days)),
        ("reply_workdays", u64::from(policy.union_wait_workdays)),
    ] {
        if has(name) {
            b = b.number(name, value);
        }
    }
    if has("notices_served") {
        b = b.table("notices_served", served);
    }
    if has("service_attempts") {
        b = b.table("service_attempts", attempts);
    }
    // The caller's texts win over the defaults; only text fields can be given this way.
    for (name, value) in fields {
        let value = value.trim();
        match kind.field(name) {
            Some(spec) if spec.ty == FieldType::Text && !value.is_empty() => b = b.text(name.as_str(), value),
            Some(_) if value.is_empty() => {}
            _ => return Err(AppError::invalid(name, "unknown_field")),
        }
    }
    b.build().map_err(AppError::Letter)
}

/// Generates a document for a case, stores the PDF with its SHA-256 and the HTML copy, and records it.
pub async fn generate(
    app: &App,
    ctx: &Ctx,
    case_id: i64,
    kind: &str,
    lang: &str,
    fields: &BTreeMap<String, String>,
) -> Result<DocumentView, AppError> {
    ctx.require(Permission::WorkCases)?;
    let (kind, lang) = (parse_kind(kind)?, parse_lang(lang)?);
    let fonts = app.fonts.get()?;
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    let case = visible_case(&mut c, ctx, case_id, true).await?;
    let entity = entity_of(&mut c, case.legal_entity_id).await?;
    let now = app.clock.now();
    let today = local_today(&entity.time_zone, now);
    if kind == LetterKind::TerminationCertificate && case.effective_on.is_none_or(|d| d > today) {
        return Err(AppError::invalid("kind", "not_before_termination"));
    }
    let letter = letter(&mut c, ctx, &case, kind, lang, fields, today).await?;
    let template = store::template(&mut c, kind.code(), lang.code()).await?;
    let pdf = letters::render_pdf(&letter, template.as_deref(), fonts).map_err(AppError::Letter)?;
    let html = letters::render_html(&letter, template.as_deref()).map_err(AppError::Letter)?;
    let sha256 = hex::encode(Sha256::digest(&pdf));
    let id = store::insert(&mut c, case_id, kind.code(), lang.code(), &sha256, &pdf, &html, &ctx.actor, now).await?;
    let detail = serde_json::json!({"document_id": id, "kind": kind.code(), "lang": lang.code(), "sha256": sha256,
        "template": if template.is_some() { "custom" } else { "builtin" }});
    crate::cases::timeline(&mut c, &case, "document", &case.state, &detail, &ctx.actor, now).await?;
    let mut event = change(ctx, "case.document", "case", &case_id.to_string(), None, Some(&detail));
    event.docs = vec![sha256.clone()];
    record(app, &mut c, ctx, &[event]).await?;
    tx.commit().await?;
    Ok(DocumentView {
        id,
        kind: kind.code().into(),
        lang: lang.code().into(),
        sha256,
        created_at: now,
        created_by: ctx.actor.clone(),
    })
}

/// A case's documents.
pub async fn list(app: &App, ctx: &Ctx, case_id: i64) -> Result<Vec<DocumentView>, AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    visible_case(&mut c, ctx, case_id, false).await?;
    Ok(store::of_case(&mut c, case_id).await?.into_iter().map(DocumentView::from).collect())
}

/// One document: its listing, PDF bytes and HTML, if the caller may see its case.
pub async fn get(app: &App, ctx: &Ctx, id: i64) -> Result<(DocumentView, Vec<u8>, String), AppError> {
    let mut conn = app.db.acquire().await?;
    let mut c = conn.conn();
    let (info, pdf, html) = store::get(&mut c, id).await?.ok_or(AppError::NotFound)?;
    visible_case(&mut c, ctx, info.case_id, false).await?;
    Ok((info.into(), pdf, html))
}

/// Replaces a built-in template (checked before it is stored), or restores it with `None`.
pub async fn put_template(app: &App, ctx: &Ctx, kind: &str, lang: &str, body: Option<&str>) -> Result<(), AppError> {
    ctx.require(Permission::ManageUsers)?;
    let (kind, lang) = (parse_kind(kind)?, parse_lang(lang)?);
    if let Some(body) = body {
        Template::parse(kind, body).map_err(AppError::Letter)?;
    }
    let mut tx = app.db.begin().await?;
    let mut c = tx.conn();
    store::put_template(&mut c, kind.code(), lang.code(), body, &ctx.actor, app.clock.now()).await?;
    let detail = serde_json::json!({"kind": kind.code(), "lang": lang.code(), "custom": body.is_some(),
        "sha256": body.map(|b| hex::encode(Sha256::digest(b.as_bytes())))});
    let key = format!("{}/{}", kind.code(), lang.code());
    record(app, &mut c, ctx, &[change(ctx, "document_template.put", "document_template", &key, None, Some(&detail))])
        .await?;
    tx.commit().await?;
    Ok(())
}
