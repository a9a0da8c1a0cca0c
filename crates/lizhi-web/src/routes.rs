//! The route table: every path, its method, who may call it, and whether it is part of the API.
//!
//! Routes are added only through [`Routes::add`], which attaches the access check and records the
//! route, so tests can walk every route × role and compare the API routes with the OpenAPI document.

use crate::caller::{Caller, Lang, Via};
use crate::error::ApiError;
use crate::{
    AppState, api, api_cases, api_connectors, api_evidence, api_outbox, api_risk, caller, middleware, pages,
    wecom_callback,
};
use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, delete, get, post, put};
use lizhi_core::auth::Permission;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Any signed-in user.
    SignedIn,
    /// Signed-in users whose roles grant the permission.
    Needs(Permission),
}

/// One declared route.
#[derive(Debug, Clone)]
pub struct RouteSpec {
    /// HTTP method.
    pub method: Method,
    /// Path with `{param}` placeholders.
    pub path: &'static str,
    /// Who may call it.
    pub access: Access,
}

impl RouteSpec {
    /// Whether it belongs to the JSON API (documented in OpenAPI).
    pub fn is_api(&self) -> bool {
        self.path.starts_with("/api/v1/")
    }
}

/// A router that records what it holds.
pub struct Routes {
    router: Router<AppState>,
    specs: Vec<RouteSpec>,
}

impl Routes {
    fn new() -> Routes {
        Routes { router: Router::new(), specs: Vec::new() }
    }

    /// Adds one route with its access check.
    fn add(mut self, method: Method, path: &'static str, access: Access, handler: MethodRouter<AppState>) -> Routes {
        let api = path.starts_with("/api/");
        let unsafe_method = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
        let guarded =
            handler.route_layer(from_fn(move |req: Request, next: Next| check(access, api, unsafe_method, req, next)));
        self.router = self.router.route(path, guarded);
        self.specs.push(RouteSpec { method, path, access });
        self
    }
}

async fn check(access: Access, api: bool, unsafe_method: bool, req: Request, next: Next) -> Response {
    let Lang(locale) = req.extensions().get::<Lang>().copied().unwrap_or(Lang(lizhi_app::i18n::Locale::En));
    let caller = req.extensions().get::<Caller>().cloned();
    if access != Access::Public {
        let Some(caller) = &caller else {
            if api {
                return ApiError::new(StatusCode::UNAUTHORIZED, "unauthenticated", locale).into_response();
            }
            let next_url = req.uri().path_and_query().map(|p| p.as_str()).unwrap_or("/");
            let target = format!("/login?next={}", pages::url_encode(next_url));
            return Redirect::to(&target).into_response();
        };
        // Someone signed in with a one-time password sets their own before anything else.
        let path = req.uri().path();
        if !api
            && caller.user.must_change_password
            && matches!(caller.via, Via::Session { .. })
            && !matches!(path, "/account" | "/account/password" | "/logout")
        {
            return Redirect::to("/account").into_response();
        }
        if let Access::Needs(permission) = access
            && !caller.principal.can(permission)
        {
            return if api {
                ApiError::new(StatusCode::FORBIDDEN, "forbidden", locale).into_response()
            } else {
                pages::error_page(locale, Some(caller), StatusCode::FORBIDDEN, "forbidden")
            };
        }
    }
    // A browser session changing state must prove the request came from our own pages.
    if unsafe_method && let Some(Caller { via: Via::Session { csrf, .. }, .. }) = &caller {
        return match middleware::verify_csrf(req, csrf).await {
            Ok(req) => next.run(req).await,
            Err(()) if api => ApiError::new(StatusCode::FORBIDDEN, "csrf", locale).into_response(),
            Err(()) => pages::error_page(locale, caller.as_ref(), StatusCode::FORBIDDEN, "csrf"),
        };
    }
    next.run(req).await
}

/// Every route Lizhi serves, with the access it needs.
#[rustfmt::skip]
fn declare(r: Routes) -> Routes {
    use Access::*;
    use Permission::*;
    r
        // Public
        .add(Method::GET, "/healthz", Public, get(api::healthz))
        .add(Method::GET, "/metrics", Public, get(api::metrics))
        .add(Method::GET, "/api/openapi.json", Public, get(api::openapi))
        .add(Method::GET, "/static/app.css", Public, get(pages::css))
        .add(Method::GET, "/static/app.js", Public, get(pages::js))
        .add(Method::GET, "/favicon.ico", Public, get(pages::favicon))
        .add(Method::GET, "/login", Public, get(pages::login_form))
        .add(Method::POST, "/login", Public, post(pages::login_submit))
        .add(Method::POST, "/locale", Public, post(pages::set_locale))
        // WeCom signs and encrypts its callbacks; the handler checks both before reading anything.
        .add(Method::GET, "/wecom/callback/{code}", Public, get(wecom_callback::verify_url))
        .add(Method::POST, "/wecom/callback/{code}", Public, post(wecom_callback::receive))
        // Pages
        .add(Method::GET, "/", SignedIn, get(pages::home))
        .add(Method::POST, "/logout", SignedIn, post(pages::logout))
        .add(Method::GET, "/account", SignedIn, get(pages::account))
        .add(Method::POST, "/account/password", SignedIn, post(pages::account_password))
        .add(Method::GET, "/employees", Needs(ViewEmployees), get(pages::employees))
        .add(Method::GET, "/employees/{no}", Needs(ViewEmployees), get(pages::employee_detail))
        .add(Method::GET, "/employees/{no}/edit", Needs(EditPeople), get(pages::employee_edit_form))
        .add(Method::POST, "/employees/{no}/edit", Needs(EditPeople), post(pages::employee_edit_submit))
        .add(Method::GET, "/new-employee", Needs(EditPeople), get(pages::employee_new_form))
        .add(Method::POST, "/new-employee", Needs(EditPeople), post(pages::employee_new_submit))
        .add(Method::GET, "/org", Needs(ViewOrg), get(pages::org_tree))
        .add(Method::GET, "/imports", Needs(ImportData), get(pages::imports))
        .add(Method::POST, "/imports", Needs(ImportData), post(pages::import_upload))
        .add(Method::GET, "/imports/{id}", Needs(ImportData), get(pages::import_preview))
        .add(Method::POST, "/imports/{id}/commit", Needs(ImportData), post(pages::import_commit))
        .add(Method::GET, "/exports/{kind}", Needs(ExportData), get(pages::export_download))
        .add(Method::GET, "/users", Needs(ManageUsers), get(pages::users))
        .add(Method::POST, "/users", Needs(ManageUsers), post(pages::user_create))
        .add(Method::POST, "/users/{id}/roles", Needs(ManageUsers), post(pages::user_roles))
        .add(Method::POST, "/users/{id}/disabled", Needs(ManageUsers), post(pages::user_disabled))
        .add(Method::POST, "/users/{id}/password", Needs(ManageUsers), post(pages::user_password))
        .add(Method::POST, "/users/{id}/tokens", Needs(ManageUsers), post(pages::user_token))
        .add(Method::GET, "/connectors", Needs(ManageUsers), get(pages::connectors))
        .add(Method::POST, "/connectors", Needs(ManageUsers), post(pages::connector_save))
        .add(Method::POST, "/connectors/{code}/test", Needs(ManageUsers), post(pages::connector_test))
        .add(Method::GET, "/outbox", Needs(ManageUsers), get(pages::outbox))
        .add(Method::GET, "/outbox/{id}", Needs(ManageUsers), get(pages::delivery))
        .add(Method::POST, "/outbox/{id}/retry", Needs(ManageUsers), post(pages::delivery_retry))
        .add(Method::POST, "/outbox/actions/{id}/retry", Needs(ManageUsers), post(pages::action_retry))
        .add(Method::GET, "/audit", Needs(ViewAudit), get(pages::audit))
        .add(Method::GET, "/risk", Needs(ViewRisk), get(pages::risk_board))
        .add(Method::POST, "/risk/scan", Needs(ActOnRisk), post(pages::risk_scan))
        .add(Method::GET, "/risk/trial", Needs(ViewRisk), get(pages::risk_trial))
        .add(Method::GET, "/risk/{no}", Needs(ViewRisk), get(pages::risk_detail))
        .add(Method::POST, "/risk/{no}/actions", Needs(ActOnRisk), post(pages::risk_act))
        .add(Method::GET, "/cases", Needs(ViewCases), get(pages::cases_board))
        .add(Method::GET, "/cases/export", Needs(ExportData), get(api_cases::export))
        .add(Method::POST, "/cases", Needs(WorkCases), post(pages::case_open))
        .add(Method::GET, "/cases/{id}", Needs(ViewCases), get(pages::case_detail))
        .add(Method::GET, "/cases/{id}/evidence", Needs(ViewAudit), get(api_evidence::case_bundle))
        .add(Method::GET, "/cases/{id}/access", Needs(ViewCases), get(pages::case_access_table))
        .add(Method::POST, "/cases/{id}/access", Needs(WorkCases), post(pages::case_access_request))
        .add(Method::POST, "/cases/{id}/actions", Needs(WorkCases), post(pages::case_act))
        .add(Method::POST, "/cases/{id}/decisions", SignedIn, post(pages::case_decide))
        .add(Method::POST, "/cases/{id}/documents", Needs(WorkCases), post(pages::case_document))
        .add(Method::GET, "/documents/{id}", Needs(ViewCases), get(pages::document_download))
        .add(Method::GET, "/attachments/{id}", Needs(ViewCases), get(api_cases::attachment))
        .add(Method::POST, "/checklist/{id}", SignedIn, post(pages::checklist_update))
        .add(Method::GET, "/messages", SignedIn, get(pages::messages))
        .add(Method::GET, "/alumni", Needs(ViewEmployees), get(pages::alumni))
        .add(Method::POST, "/messages/read", SignedIn, post(pages::messages_read))
        // API
        .add(Method::GET, "/api/v1/me", SignedIn, get(api::me))
        .add(Method::GET, "/api/v1/legal-entities", Needs(ViewOrg), get(api::legal_entities))
        .add(Method::PUT, "/api/v1/legal-entities/{code}", Needs(EditPeople), put(api::put_record))
        .add(Method::GET, "/api/v1/org-units", Needs(ViewOrg), get(api::org_units))
        .add(Method::PUT, "/api/v1/org-units/{code}", Needs(EditPeople), put(api::put_record))
        .add(Method::GET, "/api/v1/employees", Needs(ViewEmployees), get(api::employees))
        .add(Method::GET, "/api/v1/employees/{no}", Needs(ViewEmployees), get(api::employee))
        .add(Method::PUT, "/api/v1/employees/{no}", Needs(EditPeople), put(api::put_record))
        .add(Method::POST, "/api/v1/imports/{kind}", Needs(ImportData), post(api::import))
        .add(Method::POST, "/api/v1/punches", Needs(ImportData), post(api::push_punches))
        .add(Method::GET, "/api/v1/exports/{kind}", Needs(ExportData), get(api::export))
        .add(Method::GET, "/api/v1/users", Needs(ManageUsers), get(api::users))
        .add(Method::POST, "/api/v1/users", Needs(ManageUsers), post(api::user_create))
        .add(Method::PUT, "/api/v1/users/{id}/roles", Needs(ManageUsers), put(api::user_roles))
        .add(Method::PUT, "/api/v1/users/{id}/disabled", Needs(ManageUsers), put(api::user_disabled))
        .add(Method::PUT, "/api/v1/users/{id}/employee", Needs(ManageUsers), put(api::user_employee))
        .add(Method::POST, "/api/v1/users/{id}/tokens", Needs(ManageUsers), post(api::token_create))
        .add(Method::GET, "/api/v1/users/{id}/tokens", Needs(ManageUsers), get(api::tokens))
        .add(Method::DELETE, "/api/v1/tokens/{id}", Needs(ManageUsers), delete(api::token_revoke))
        .add(Method::GET, "/api/v1/cases/{id}/access", Needs(ViewCases), get(api_connectors::access_matrix))
        .add(Method::POST, "/api/v1/cases/{id}/access", Needs(WorkCases), post(api_connectors::request_access))
        .add(Method::GET, "/api/v1/connectors", Needs(ManageUsers), get(api_connectors::list))
        .add(Method::PUT, "/api/v1/connectors/{code}", Needs(ManageUsers), put(api_connectors::put))
        .add(Method::POST, "/api/v1/connectors/{code}/test", Needs(ManageUsers), post(api_outbox::test))
        .add(Method::GET, "/api/v1/outbox", Needs(ManageUsers), get(api_outbox::list))
        .add(Method::GET, "/api/v1/outbox/{id}", Needs(ManageUsers), get(api_outbox::detail))
        .add(Method::POST, "/api/v1/outbox/{id}/retry", Needs(ManageUsers), post(api_outbox::retry))
        .add(Method::GET, "/api/v1/access-actions", Needs(ManageUsers), get(api_outbox::attention))
        .add(Method::POST, "/api/v1/access-actions/{id}/retry", Needs(ManageUsers), post(api_outbox::retry_action))
        .add(Method::GET, "/api/v1/employees/{no}/identities", Needs(ViewEmployees), get(api_connectors::identities))
        .add(Method::PUT, "/api/v1/employees/{no}/identities/{system}", Needs(EditPeople), put(api_connectors::put_identity))
        .add(Method::DELETE, "/api/v1/employees/{no}/identities/{system}", Needs(EditPeople), delete(api_connectors::delete_identity))
        .add(Method::GET, "/api/v1/audit", Needs(ViewAudit), get(api::audit))
        .add(Method::GET, "/api/v1/audit/log", Needs(ViewAudit), get(api_evidence::log_status))
        .add(Method::GET, "/api/v1/cases/{id}/evidence", Needs(ViewAudit), get(api_evidence::case_bundle))
        .add(Method::GET, "/api/v1/employees/{no}/evidence", Needs(ViewAudit), get(api_evidence::employee_bundle))
        .add(Method::GET, "/api/v1/risk", Needs(ViewRisk), get(api_risk::risk))
        .add(Method::GET, "/api/v1/risk/board", Needs(ViewRisk), get(api_risk::risk_board))
        .add(Method::GET, "/api/v1/risk/scans", Needs(ViewRisk), get(api_risk::risk_scans))
        .add(Method::POST, "/api/v1/risk/scans", Needs(ActOnRisk), post(api_risk::risk_scan_now))
        .add(Method::GET, "/api/v1/cases", Needs(ViewCases), get(api_cases::list))
        .add(Method::GET, "/api/v1/cases/export", Needs(ExportData), get(api_cases::export))
        .add(Method::POST, "/api/v1/cases", Needs(WorkCases), post(api_cases::open))
        .add(Method::GET, "/api/v1/cases/{id}", Needs(ViewCases), get(api_cases::get))
        .add(Method::POST, "/api/v1/cases/{id}/actions", Needs(WorkCases), post(api_cases::act))
        // Approvers are whoever a chain names (a department head is a manager); the use case checks it.
        .add(Method::POST, "/api/v1/cases/{id}/decisions", SignedIn, post(api_cases::decide))
        .add(Method::POST, "/api/v1/cases/{id}/documents", Needs(WorkCases), post(api_cases::generate_document))
        .add(Method::GET, "/api/v1/documents/{id}", Needs(ViewCases), get(api_cases::document))
        .add(Method::PUT, "/api/v1/document-templates/{kind}/{lang}", Needs(ManageUsers), put(api_cases::put_template))
        // Item owners hold any role (IT, finance, facilities); the use case checks ownership.
        .add(Method::PUT, "/api/v1/checklist/{id}", SignedIn, put(api_cases::item))
        .add(Method::POST, "/api/v1/checklist/{id}/attachments", SignedIn, post(api_cases::attach))
        .add(Method::GET, "/api/v1/attachments/{id}", Needs(ViewCases), get(api_cases::attachment))
        .add(Method::GET, "/api/v1/me/tasks", SignedIn, get(api_cases::my_tasks))
        .add(Method::GET, "/api/v1/alumni", Needs(ViewEmployees), get(api_cases::alumni))
        .add(Method::GET, "/api/v1/assets", Needs(ViewEmployees), get(api_cases::assets))
        .add(Method::PUT, "/api/v1/assets/{tag}", Needs(EditPeople), put(api_cases::asset_put))
        .add(Method::GET, "/api/v1/approval-chains", Needs(ViewCases), get(api_cases::chains))
        .add(Method::PUT, "/api/v1/approval-chains/{case_type}", Needs(ManageUsers), put(api_cases::put_chain))
        .add(Method::PUT, "/api/v1/alumni/{no}", Needs(EditPeople), put(api_cases::alumnus_update))
        .add(Method::GET, "/api/v1/me/messages", SignedIn, get(api_cases::my_messages))
        .add(Method::POST, "/api/v1/me/messages/read", SignedIn, post(api_cases::read_messages))
}

/// Builds the router and returns it with the table of routes it holds.
pub fn build(state: AppState) -> (Router, Vec<RouteSpec>) {
    let r = declare(Routes::new());
    let specs = r.specs;
    let router = r
        .router
        .fallback(pages::not_found)
        .layer(from_fn_with_state(state.clone(), caller::resolve))
        .layer(from_fn_with_state(state.clone(), middleware::observe))
        .layer(from_fn_with_state(state.clone(), middleware::security_headers))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(lizhi_app::import::MAX_UPLOAD_BYTES + 64 * 1024))
        .with_state(state);
    (router, specs)
}

/// The route table (for documentation and the route × role tests).
pub fn table(app: lizhi_app::App) -> Vec<RouteSpec> {
    let state = AppState { app, config: Default::default(), metrics: Default::default() };
    build(state).1
}
