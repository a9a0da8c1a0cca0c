//! The start page, employees (list, detail, forms) and the org tree.
#![allow(clippy::too_many_arguments)]

use super::*;

/// The start page: tiles for what the user may do.
pub async fn home(Lang(l): Lang, caller: Caller) -> Response {
    let c = chrome(l, Some(&caller), "home-title", "/");
    let tr = c.tr;
    let tiles: Vec<(&'static str, String, String)> = c
        .nav
        .iter()
        .map(|n| (n.href, n.label.clone(), tr.t(&format!("home-{}", n.href.trim_start_matches('/')))))
        .collect();
    render(&HomePage { chrome: c, tiles })
}

pub(super) fn employee_rows(l: Locale, items: &[lizhi_core::model::Employee]) -> Vec<EmployeeRow> {
    items
        .iter()
        .map(|e| EmployeeRow {
            employee_no: e.employee_no.clone(),
            name: e.name.clone(),
            org_unit_name: e.org_unit_name.clone(),
            position: e.position.clone().unwrap_or_default(),
            status: e.status.name(),
            status_label: i18n::t(l, &format!("status-{}", e.status.name())),
        })
        .collect()
}

/// The employee list with filters and keyset pages; `?partial=1` returns only the table.
pub async fn employees(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Query(p): Query<crate::api::ListParams>,
) -> Response {
    let ctx = ctx(&caller, &rid);
    let query = match p.to_query() {
        Ok(q) => q,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let page = match people::list_employees(&s.app, &ctx, &query).await {
        Ok(p) => p,
        Err(e) => return app_error_page(e, l, &caller),
    };
    let base = {
        let mut parts = Vec::new();
        for (k, v) in [("q", &p.q), ("org_unit", &p.org_unit), ("legal_entity", &p.legal_entity), ("status", &p.status)]
        {
            if let Some(v) = v.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{k}={}", url_encode(v)));
            }
        }
        parts.join("&")
    };
    let link = |cursor: &str, value: &str| {
        let sep = if base.is_empty() { "" } else { "&" };
        format!("/employees?{base}{sep}{cursor}={}", url_encode(value))
    };
    let next_href = page.next_after.as_deref().map(|v| link("after", v));
    let prev_href = page.prev_before.as_deref().map(|v| link("before", v));
    let rows = employee_rows(l, &page.items);
    let c = chrome(l, Some(&caller), "employees-title", "/employees");
    if p_partial(&rid, &p) {
        return render(&EmployeesTable { chrome: c, rows, prev_href, next_href });
    }
    let entities = people::list_entities(&s.app, &ctx).await.unwrap_or_default();
    let units = people::list_org_units(&s.app, &ctx).await.unwrap_or_default();
    let sel = |v: &Option<String>, code: &str| v.as_deref() == Some(code);
    render(&EmployeesPage {
        chrome: c,
        total: page.total,
        q: p.q.clone().unwrap_or_default(),
        status: p.status.clone().unwrap_or_default(),
        entities: entities.iter().map(|e| (e.code.clone(), e.name.clone(), sel(&p.legal_entity, &e.code))).collect(),
        units: units
            .iter()
            .map(|u| {
                (u.code.clone(), format!("{}{}", "· ".repeat(u.depth as usize), u.name), sel(&p.org_unit, &u.code))
            })
            .collect(),
        rows,
        prev_href,
        next_href,
        can_edit: caller.principal.can(Permission::EditPeople),
    })
}

pub(super) fn p_partial(_rid: &RequestId, p: &crate::api::ListParams) -> bool {
    p.partial.as_deref() == Some("1")
}

/// One employee.
pub async fn employee_detail(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> Response {
    let e = match people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        Ok(e) => e,
        Err(err) => return app_error_page(err, l, &caller),
    };
    let tr = Tr(l);
    let opt = |v: &Option<String>| v.clone().unwrap_or_else(|| "—".into());
    let mut facts = vec![
        (tr.t("field-employee_no"), e.employee_no.clone()),
        (tr.t("field-legal_entity"), e.legal_entity_code.clone()),
        (tr.t("field-org_unit"), format!("{} ({})", e.org_unit_name, e.org_unit_code)),
        (
            tr.t("field-manager"),
            match (&e.manager_name, &e.manager_no) {
                (Some(n), Some(no)) => format!("{n} ({no})"),
                _ => "—".into(),
            },
        ),
        (tr.t("field-position"), opt(&e.position)),
        (tr.t("field-hire_date"), e.hire_date.format("%Y-%m-%d").to_string()),
        (tr.t("field-status"), tr.t(&format!("status-{}", e.status.name()))),
        (tr.t("field-email"), opt(&e.email)),
        (tr.t("field-mobile"), opt(&e.mobile)),
        (tr.t("field-work_calendar"), opt(&e.work_calendar)),
    ];
    if caller.principal.can(Permission::ViewPersonalDetails) {
        facts.push((tr.t("field-contract_address"), opt(&e.contract_address)));
    }
    let mut c = chrome(l, Some(&caller), "employees-title", "/employees");
    c.title = e.name.clone();
    let can_edit = caller.principal.can(Permission::EditPeople);
    render(&EmployeePage { chrome: c, e, facts, can_edit })
}

/// The org tree per legal entity.
pub async fn org_tree(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    let ctx = ctx(&caller, &rid);
    let (entities, units) =
        match (people::list_entities(&s.app, &ctx).await, people::list_org_units(&s.app, &ctx).await) {
            (Ok(e), Ok(u)) => (e, u),
            (Err(e), _) | (_, Err(e)) => return app_error_page(e, l, &caller),
        };
    let counts = people::headcounts(&s.app, &ctx, &units).await.unwrap_or_default();
    let units = units
        .into_iter()
        .map(|u| {
            let (direct, total) = counts.get(&u.id).copied().unwrap_or_default();
            UnitView {
                code: u.code,
                name: u.name,
                legal_entity_id: u.legal_entity_id,
                depth_class: u.depth.min(6),
                direct,
                total,
            }
        })
        .collect();
    render(&OrgPage { chrome: chrome(l, Some(&caller), "org-title", "/org"), entities, units })
}

/// Text inputs of the employee form, in order: (column, input type, required).
pub(super) const EMPLOYEE_FIELDS: [(&str, &str, bool); 9] = [
    ("name", "text", true),
    ("manager_no", "text", false),
    ("hire_date", "date", true),
    ("position", "text", false),
    ("email", "email", false),
    ("mobile", "tel", false),
    ("contract_address", "text", false),
    ("work_calendar", "text", false),
    ("employee_no", "hidden", false),
];

pub(super) async fn employee_form(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    no: Option<&str>,
    values: &std::collections::BTreeMap<String, String>,
    errors: Vec<String>,
) -> Response {
    let c = ctx(caller, rid);
    let entities = people::list_entities(&s.app, &c).await.unwrap_or_default();
    let units = people::list_org_units(&s.app, &c).await.unwrap_or_default();
    let value = |k: &str| values.get(k).cloned().unwrap_or_default();
    let tr = Tr(l);
    let mut chrome = chrome(l, Some(caller), "employees-title", "/employees");
    chrome.title = match no {
        Some(no) => format!("{} {}", tr.t("form-edit-employee"), no),
        None => tr.t("form-new-employee"),
    };
    let fields = EMPLOYEE_FIELDS
        .iter()
        .filter(|(name, _, _)| *name != "employee_no")
        .filter(|(name, _, _)| *name != "contract_address" || caller.principal.can(Permission::ViewPersonalDetails))
        .map(|&(name, input_type, required)| FieldView {
            name,
            label: tr.t(&format!("field-{}", if name == "manager_no" { "manager" } else { name })),
            value: value(name),
            input_type,
            required,
        })
        .collect();
    let page = EmployeeFormPage {
        chrome,
        is_new: no.is_none(),
        action: no.map_or("/new-employee".to_owned(), |no| format!("/employees/{}/edit", url_encode(no))),
        back: no.map_or("/employees".to_owned(), |no| format!("/employees/{}", url_encode(no))),
        employee_no: value("employee_no"),
        entities: entities.iter().map(|e| (e.code.clone(), e.name.clone(), value("legal_entity") == e.code)).collect(),
        units: units
            .iter()
            .map(|u| {
                (u.code.clone(), format!("{}{}", "· ".repeat(u.depth as usize), u.name), value("org_unit") == u.code)
            })
            .collect(),
        fields,
        errors: errors.clone(),
    };
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    (status, render(&page)).into_response()
}

/// The form to create an employee.
pub async fn employee_new_form(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
) -> Response {
    employee_form(&s, l, &caller, &rid, None, &Default::default(), Vec::new()).await
}

/// The form to edit an employee (404 outside the caller's scope, like the detail page).
pub async fn employee_edit_form(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
) -> Response {
    if let Err(e) = people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        return app_error_page(e, l, &caller);
    }
    let values = match lizhi_app::export::current_row(&s.app, ImportKind::Employees, &no).await {
        Ok(Some(row)) => ImportKind::Employees.all_columns().into_iter().map(str::to_owned).zip(row).collect(),
        Ok(None) => return error_page(l, Some(&caller), StatusCode::NOT_FOUND, "not_found"),
        Err(e) => return app_error_page(e, l, &caller),
    };
    employee_form(&s, l, &caller, &rid, Some(&no), &values, Vec::new()).await
}

pub(super) async fn employee_save(
    s: &AppState,
    l: Locale,
    caller: &Caller,
    rid: &RequestId,
    no: Option<String>,
    body: &Bytes,
) -> Response {
    let values: std::collections::BTreeMap<String, String> =
        form_pairs(body).into_iter().filter(|(k, _)| k != "csrf").collect();
    let key = no.clone().unwrap_or_else(|| values.get("employee_no").cloned().unwrap_or_default());
    if no.is_none()
        && lizhi_app::export::current_row(&s.app, ImportKind::Employees, &key).await.ok().flatten().is_some()
    {
        let msg = i18n::error_message(l, "conflict", Some("employee_no"), Some(&key));
        return employee_form(s, l, caller, rid, None, &values, vec![msg]).await;
    }
    match import::save_one(&s.app, &ctx(caller, rid), ImportKind::Employees, &key, &values).await {
        Ok(_) => Redirect::to(&format!("/employees/{}", url_encode(&key))).into_response(),
        Err(AppError::Rejected(errors)) => {
            let messages = errors
                .iter()
                .map(|e| i18n::error_message(l, &e.code, e.column.as_deref(), e.value.as_deref()))
                .collect();
            employee_form(s, l, caller, rid, no.as_deref(), &values, messages).await
        }
        Err(e) => app_error_page(e, l, caller),
    }
}

/// Creates an employee from the form.
pub async fn employee_new_submit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    body: Bytes,
) -> Response {
    employee_save(&s, l, &caller, &rid, None, &body).await
}

/// Saves the edit form.
pub async fn employee_edit_submit(
    State(s): State<AppState>,
    Lang(l): Lang,
    caller: Caller,
    Extension(rid): Extension<RequestId>,
    Path(no): Path<String>,
    body: Bytes,
) -> Response {
    if let Err(e) = people::get_employee(&s.app, &ctx(&caller, &rid), &no).await {
        return app_error_page(e, l, &caller);
    }
    employee_save(&s, l, &caller, &rid, Some(no), &body).await
}
