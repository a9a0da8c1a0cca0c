//! Import (upload, preview, commit) and export pages.
#![allow(clippy::too_many_arguments)]

use super::*;

pub(super) fn kinds(l: Locale, of: &[ImportKind]) -> Vec<(&'static str, String)> {
    of.iter().map(|k| (k.name(), i18n::t(l, &format!("kind-{}", k.name())))).collect()
}

/// Upload form and export links.
pub async fn imports(Lang(l): Lang, caller: Caller) -> Response {
    let can_export = caller.principal.can(Permission::ExportData);
    render(&ImportsPage {
        chrome: chrome(l, Some(&caller), "imports-title", "/imports"),
        kinds: kinds(l, &ImportKind::ALL),
        export_kinds: kinds(l, &ImportKind::PEOPLE),
        can_export,
    })
}

/// Receives an upload, checks it, and shows the preview.
pub async fn import_upload(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    mut multipart: Multipart,
) -> Response {
    let mut kind = None;
    let mut file: Option<(String, Vec<u8>)> = None;
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) => match field.name() {
                Some("kind") => kind = field.text().await.ok().and_then(|k| ImportKind::parse(&k)),
                Some("file") => {
                    let name = field.file_name().unwrap_or("upload.csv").to_owned();
                    match field.bytes().await {
                        Ok(b) => file = Some((name, b.to_vec())),
                        Err(_) => {
                            return error_page(l, Some(&caller), StatusCode::PAYLOAD_TOO_LARGE, "file_too_large");
                        }
                    }
                }
                _ => {}
            },
            Ok(None) => break,
            Err(_) => return error_page(l, Some(&caller), StatusCode::BAD_REQUEST, "bad_request"),
        }
    }
    let (Some(kind), Some((name, bytes))) = (kind, file) else {
        return error_page(l, Some(&caller), StatusCode::UNPROCESSABLE_ENTITY, "required");
    };
    match import::stage(&s.app, &ctx(&caller, &rid), kind, &name, &bytes).await {
        Ok(staged) => Redirect::to(&format!("/imports/{}", staged.id)).into_response(),
        Err(e) => app_error_page(e, l, &caller),
    }
}

pub(super) fn preview_page(l: Locale, caller: &Caller, staged: import::Staged) -> Response {
    let r = staged.report;
    let tr = Tr(l);
    let errors = r
        .errors
        .iter()
        .map(|e| {
            (
                e.row.map(|r| r.to_string()).unwrap_or_default(),
                e.column.clone().unwrap_or_default(),
                i18n::error_message(l, &e.code, None, e.value.as_deref()),
            )
        })
        .collect();
    render(&ImportPreviewPage {
        chrome: chrome(l, Some(caller), "imports-title", "/imports"),
        id: staged.id,
        kind_label: tr.t(&format!("kind-{}", r.kind.name())),
        file_name: staged.file_name,
        rows: r.rows,
        created: r.created,
        updated: r.updated,
        unchanged: r.unchanged,
        error_count: r.error_count,
        errors,
        applied: r.applied,
    })
}

/// The preview of a staged upload.
pub async fn import_preview(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match import::staged(&s.app, &ctx(&caller, &rid), id).await {
        Ok(staged) => preview_page(l, &caller, staged),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Applies a staged upload.
pub async fn import_commit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(id): Path<i64>,
) -> Response {
    match import::commit_staged(&s.app, &ctx(&caller, &rid), id).await {
        Ok(staged) => preview_page(l, &caller, staged),
        Err(e) => app_error_page(e, l, &caller),
    }
}

/// Download of an export from the page.
pub async fn export_download(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(kind): Path<String>,
    Query(p): Query<crate::api::ExportParams>,
) -> Response {
    match crate::api::download(&s, &ctx(&caller, &rid), l, &kind, p.format.as_deref()).await {
        Ok(r) => r,
        Err(e) => error_page(l, Some(&caller), e.status, &e.code),
    }
}
