//! The Tokens page: a merchant's API and console tokens — listed without their value, issued
//! (the value is shown on the answer page once and never again: the store keeps its SHA-256
//! only) and revoked (in force on every replica at once; its console sessions end with it).
//! The operations and audit entries are the admin API's (`ops::tokens`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::DateTime;
use maud::html;
use secrecy::ExposeSecret;
use serde::Deserialize;

use super::merchant::{Notice, merchant_page, notice};
use super::page::{PageError, Section, csrf_field};
use super::session::Console;
use crate::http::AppState;
use crate::ops::audit::Write;

#[get("/m/{m}/tokens")]
pub async fn list(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    page(&console, &m, &state, None).await
}

fn when(ms: i64) -> String {
    DateTime::from_timestamp_millis(ms).map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

async fn page(console: &Console, m: &str, state: &AppState, n: Option<Notice>) -> Result<HttpResponse, PageError> {
    let tokens = console.principal.merchant(&state.ops, m)?.tokens().await?;
    let csrf = &console.csrf;
    let body = html! {
        h1 { "Tokens" }
        (notice(n.as_ref()))
        form.card.row method="post" action=(format!("/console/m/{m}/tokens")) {
            (csrf_field(csrf))
            div { label for="name" { "New token's name" } input #name type="text" name="name" required maxlength="100"; }
            button type="submit" { "Issue token" }
        }
        @if tokens.is_empty() { p.card.muted { "No tokens." } } @else { div.table { table {
            thead { tr { th { "Name" } th.hide-narrow { "Created" } th { "Last used" } th {} } }
            tbody { @for t in &tokens { tr {
                td { (t.record.name) } td.hide-narrow { (when(t.record.created_at)) }
                td { (t.last_used_at.map(when).unwrap_or_else(|| "never".into())) }
                td { form method="post" action=(format!("/console/m/{m}/tokens/{}/revoke", t.id)) {
                    (csrf_field(csrf)) button.danger type="submit" { "Revoke" }
                } }
            } } }
        } } }
    };
    Ok(merchant_page(console, m, Section::Tokens, "Tokens", StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct NewToken {
    name: String,
}

#[post("/m/{m}/tokens")]
pub async fn create(
    console: Console,
    m: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: NewToken = console.form(&body)?;
    let merchant = console.principal.merchant(&state.ops, &m)?;
    let n = match merchant.create_token(&form.name).await {
        Ok(issued) => {
            let write = Write::new("token.create", format!("token:{}", issued.id)).changed(["name"]);
            state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
            Notice::Good(format!("Token issued — copy it now, it is not shown again: {}", issued.token.expose_secret()))
        }
        Err(e) => Notice::Bad(e.to_string()),
    };
    page(&console, &m, &state, Some(n)).await
}

#[post("/m/{m}/tokens/{id}/revoke")]
pub async fn revoke(
    console: Console,
    path: web::Path<(String, String)>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    let merchant = console.principal.merchant(&state.ops, &path.0)?;
    merchant.revoke_token(&path.1).await?;
    let write = Write::new("token.revoke", format!("token:{}", path.1));
    state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
    page(&console, &path.0, &state, Some(Notice::Good("Revoked.".into()))).await
}
