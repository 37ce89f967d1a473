//! The Alerts page: a merchant's open and recently resolved alerts, newest first, each with
//! **Acknowledge** until someone has. The listing and the acknowledgement are the admin API's
//! (`ops::alerts`), audited as `alert.ack` the same way.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};

use super::merchant::{Notice, merchant_page, notice};
use super::page::{PageError, Section, csrf_field};
use super::session::Console;
use crate::alerts::{Alert, AlertState};
use crate::http::AppState;
use crate::ops::audit::Write;

/// Alerts of each state shown at most.
const SHOWN: usize = 100;

#[get("/m/{m}/alerts")]
pub async fn list(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    page(&console, &m, &state, None).await
}

async fn page(console: &Console, m: &str, state: &AppState, n: Option<Notice>) -> Result<HttpResponse, PageError> {
    let merchant = console.principal.merchant(&state.ops, m)?;
    let open = merchant.alerts(Some(AlertState::Open), Some(SHOWN)).await?;
    let resolved = merchant.alerts(Some(AlertState::Resolved), Some(SHOWN)).await?;
    let body = html! {
        h1 { "Alerts" }
        (notice(n.as_ref()))
        h2 { "Open" }
        (table(&open, m, &console.csrf))
        h2 { "Resolved (last 30 days)" }
        (table(&resolved, m, &console.csrf))
    };
    Ok(merchant_page(console, m, Section::Alerts, "Alerts", StatusCode::OK, body))
}

fn table(alerts: &[Alert], m: &str, csrf: &str) -> Markup {
    html! { @if alerts.is_empty() { p.card.muted { "None." } } @else { div.table { table {
        thead { tr { th { "What" } th.hide-narrow { "Since" } th { "Seen" } th {} } }
        tbody { @for a in alerts { tr {
            td { (a.summary) br; span.muted { (a.subject) } }
            td.hide-narrow { (a.opened_at) @if let Some(r) = &a.resolved_at { br; span.muted { "resolved " (r) } } }
            td { (a.count) }
            td { @match &a.acked_at {
                Some(at) => span.muted { "acknowledged " (at) },
                None => form method="post" action=(format!("/console/m/{m}/alerts/{}/ack", a.id)) {
                    (csrf_field(csrf)) button.quiet type="submit" { "Acknowledge" }
                },
            } }
        } } }
    } } } }
}

#[post("/m/{m}/alerts/{id}/ack")]
pub async fn ack(
    console: Console,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    let merchant = console.principal.merchant(&state.ops, &path.0)?;
    merchant.ack_alert(&path.1).await?;
    let write = Write::new("alert.ack", format!("alert:{}", path.1)).changed(["acked_at"]);
    state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
    page(&console, &path.0, &state, Some(Notice::Good("Acknowledged.".into()))).await
}
