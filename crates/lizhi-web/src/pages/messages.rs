//! The message center: each person's reminders and notices, and their own open tasks.

use super::*;
use lizhi_app::i18n::t;
use lizhi_app::reminders::{self, message_text};

/// One line of the message center.
pub struct MessageLine {
    pub text: String,
    pub case_id: Option<i64>,
    pub at: String,
    pub read: bool,
}

/// `/messages`.
#[derive(Template)]
#[template(path = "messages.html")]
pub struct MessagesPage {
    pub chrome: Chrome,
    pub messages: Vec<MessageLine>,
    /// (case id, text, due, overdue)
    pub tasks: Vec<(i64, String, String, bool)>,
}

/// The caller's messages and open tasks.
pub async fn messages(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    let c = ctx(&caller, &rid);
    let (inbox, tasks) =
        match (reminders::inbox(&s.app, &c, 200).await, lizhi_app::case_flow::my_tasks(&s.app, &c).await) {
            (Ok(inbox), Ok(tasks)) => (inbox, tasks),
            (Err(e), _) | (_, Err(e)) => return app_error_page(e, l, &caller),
        };
    let mut lines: Vec<(i64, String, String, bool)> = tasks
        .approvals
        .iter()
        .map(|a| {
            let step = t(l, &format!("approval-step-{}", a.step));
            let text = i18n::t_args(l, "task-approval", &[("case", &a.case_id.to_string()), ("step", &step)]);
            (a.case_id, text, a.due_on.map(|d| d.to_string()).unwrap_or_default(), false)
        })
        .collect();
    lines.extend(tasks.items.iter().map(|i| {
        (
            i.case_id,
            t(l, &format!("checklist-{}", i.key)),
            i.due_on.map(|d| d.to_string()).unwrap_or_default(),
            i.overdue,
        )
    }));
    render(&MessagesPage {
        chrome: chrome(l, Some(&caller), "messages-title", "/messages"),
        messages: inbox
            .iter()
            .map(|m| MessageLine {
                text: message_text(l, m),
                case_id: m.case_id,
                at: m.created_at.format("%Y-%m-%d %H:%M").to_string(),
                read: m.read,
            })
            .collect(),
        tasks: lines,
    })
}

/// Marks every message read and shows the center again.
pub async fn messages_read(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    match reminders::mark_read(&s.app, &ctx(&caller, &rid)).await {
        Ok(_) => Redirect::to("/messages").into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// `/alumni`.
#[derive(Template)]
#[template(path = "alumni.html")]
pub struct AlumniPage {
    pub chrome: Chrome,
    pub q: String,
    pub eligible: String,
    pub people: Vec<lizhi_app::alumni::Alumnus>,
}

/// Query of the alumni page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct AlumniParams {
    q: Option<String>,
    eligible: Option<String>,
}

/// The alumni pool, searchable by skills, last position and eligibility.
pub async fn alumni(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<AlumniParams>,
) -> Response {
    let eligible = match p.eligible.as_deref() {
        Some("true") => Some(true),
        Some("false") => Some(false),
        _ => None,
    };
    let query = lizhi_app::alumni::AlumniQuery { q: p.q.clone(), eligible, limit: Some(200) };
    match lizhi_app::alumni::search(&s.app, &ctx(&caller, &rid), &query).await {
        Ok(people) => render(&AlumniPage {
            chrome: chrome(l, Some(&caller), "alumni-title", "/alumni"),
            q: p.q.unwrap_or_default(),
            eligible: p.eligible.unwrap_or_default(),
            people,
        }),
        Err(e) => app_error_page(e, l, &caller),
    }
}
