//! A merchant's pages: Holds (what is on hold and why, Release now) and Aliases (the table,
//! add, remove, CSV upload naming a bad line). Each action is the admin API's operation on
//! `ops::MerchantOps`, resolved through the same access rule (another merchant's → 404) and
//! audited under the same action names.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use futures::StreamExt;
use maud::{Markup, html};
use serde::Deserialize;

use super::orders::local_time;
use super::page::{Chrome, PageError, Section, csrf_field, layout, status_word};
use super::session::Console;
use crate::domain::{Order, OrderStatus};
use crate::http::{ApiError, AppState};
use crate::ledger::{Alias, OrderFilter};
use crate::ops::OpError;
use crate::ops::aliases::AliasFormat;
use crate::ops::audit::Write;

/// SKUs named in the audit entry of one upload (as the admin API does).
const AUDITED_SKUS: usize = 100;
/// Held orders the page lists at most.
const HELD_SHOWN: usize = 500;

/// A result shown above a page: good news or a problem.
pub enum Notice {
    Good(String),
    Bad(String),
}

pub fn notice(n: Option<&Notice>) -> Markup {
    html! {
        @match n {
            Some(Notice::Good(t)) => p.card.notice.good { (t) },
            Some(Notice::Bad(t)) => p.card.notice.bad { (t) },
            None => {},
        }
    }
}

/// A page of merchant `m` in the layout, with a status.
pub fn merchant_page(
    console: &Console,
    m: &str,
    section: Section,
    title: &str,
    status: StatusCode,
    body: Markup,
) -> HttpResponse {
    let chrome = Chrome { principal: &console.principal, merchant: Some(m), csrf: &console.csrf, section };
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .body(layout(title, Some(&chrome), body).into_string())
}

#[get("/m/{m}/holds")]
pub async fn holds(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    holds_page(&console, &m, &state, None).await
}

async fn holds_page(
    console: &Console,
    m: &str,
    state: &AppState,
    n: Option<Notice>,
) -> Result<HttpResponse, PageError> {
    console.principal.merchant(&state.ops, m)?;
    let filter = OrderFilter { status: Some(OrderStatus::OnHold), merchant: Some(m.to_owned()), cart: None };
    let held = state.ops.list_orders(&filter, Some(HELD_SHOWN), None).await?.orders;
    let tz = state.settings.hold.timezone;
    let body = html! {
        h1 { "Holds" }
        (notice(n.as_ref()))
        section.card.row {
            p { (held.len()) " orders " (status_word(OrderStatus::OnHold)) ". They are sent again at the next release ("
                (state.settings.hold.release_at.0.format("%H:%M")) " " (tz.name()) ") or when stock arrives." }
            form method="post" action=(format!("/console/m/{m}/holds/release")) {
                (csrf_field(&console.csrf)) button type="submit" { "Release now" }
            }
        }
        (held_table(&held, tz))
    };
    Ok(merchant_page(console, m, Section::Holds, "Holds", StatusCode::OK, body))
}

fn held_table(held: &[Order], tz: chrono_tz::Tz) -> Markup {
    html! { @if !held.is_empty() { div.table { table {
        thead { tr { th { "Order" } th { "Customer" } th { "Why" } th { "Release" } } }
        tbody { @for o in held { tr {
            td { a href=(format!("/console/carts/{}/orders/{}", o.cart, o.cart_order_id)) { (o.order_number) } }
            td { (o.destination.name) }
            td { (o.status_reason.as_deref().unwrap_or("")) }
            td { (o.next_attempt_at.map(|t| local_time(t, tz)).unwrap_or_default()) }
        } } }
    } } } }
}

#[post("/m/{m}/holds/release")]
pub async fn release(
    console: Console,
    m: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    let merchant = console.principal.merchant(&state.ops, &m)?;
    let released = merchant.release_holds().await?;
    state.ops.audit(&merchant.settings().id, &console.principal.actor(), Write::new("holds.release", m.as_str())).await;
    holds_page(&console, &m, &state, Some(Notice::Good(format!("Released {released} held orders.")))).await
}

#[get("/m/{m}/aliases")]
pub async fn aliases(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    aliases_page(&console, &m, &state, None).await
}

async fn aliases_page(
    console: &Console,
    m: &str,
    state: &AppState,
    n: Option<Notice>,
) -> Result<HttpResponse, PageError> {
    let rows = console.principal.merchant(&state.ops, m)?.aliases().await?;
    let status = if matches!(n, Some(Notice::Bad(_))) { StatusCode::BAD_REQUEST } else { StatusCode::OK };
    let csrf = &console.csrf;
    let body = html! {
        h1 { "Aliases" }
        (notice(n.as_ref()))
        section.card {
            p.muted { "An alias sends a SKU to the warehouse as another barcode." }
            form.row method="post" action=(format!("/console/m/{m}/aliases")) {
                (csrf_field(csrf))
                div { label for="sku" { "SKU" } input #sku type="text" name="sku" required; }
                div { label for="barcode" { "Barcode" } input #barcode type="text" name="barcode" required; }
                button type="submit" { "Add" }
            }
            form.row method="post" action=(format!("/console/m/{m}/aliases/upload")) enctype="multipart/form-data" {
                (csrf_field(csrf))
                div { label for="csv" { "CSV file (sku,barcode header; all rows or none)" } input #csv type="file" name="file" accept=".csv,text/csv" required; }
                button.quiet type="submit" { "Upload CSV" }
            }
        }
        (alias_table(&rows, m, csrf))
    };
    Ok(merchant_page(console, m, Section::Aliases, "Aliases", status, body))
}

fn alias_table(rows: &[Alias], m: &str, csrf: &str) -> Markup {
    html! { @if rows.is_empty() { p.card.muted { "No aliases yet." } } @else { div.table { table {
        thead { tr { th { "SKU" } th { "Barcode" } th {} } }
        tbody { @for a in rows { tr {
            td { (a.sku) } td { (a.barcode) }
            td { form method="post" action=(format!("/console/m/{m}/aliases/remove")) {
                (csrf_field(csrf)) input type="hidden" name="sku" value=(a.sku);
                button.danger type="submit" { "Remove" }
            } }
        } } }
    } } } }
}

#[derive(Deserialize)]
pub struct AliasForm {
    sku: String,
    #[serde(default)]
    barcode: String,
}

#[post("/m/{m}/aliases")]
pub async fn add_alias(
    console: Console,
    m: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: AliasForm = console.form(&body)?;
    let json = serde_json::json!([{"sku": form.sku, "barcode": form.barcode}]).to_string();
    import(&console, &m, &state, AliasFormat::Json, json.as_bytes()).await
}

#[post("/m/{m}/aliases/remove")]
pub async fn remove_alias(
    console: Console,
    m: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: AliasForm = console.form(&body)?;
    let merchant = console.principal.merchant(&state.ops, &m)?;
    merchant.delete_alias(&form.sku).await?;
    let write = Write::new("aliases.delete", "aliases").changed([form.sku.as_str()]);
    state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
    aliases_page(&console, &m, &state, Some(Notice::Good(format!("Removed the alias of {}.", form.sku)))).await
}

#[post("/m/{m}/aliases/upload")]
pub async fn upload(
    console: Console,
    m: web::Path<String>,
    mut parts: Multipart,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let limit = state.settings.server.max_body_bytes;
    let (mut csrf, mut file) = (Vec::new(), Vec::new());
    while let Some(field) = parts.next().await {
        let mut field = field.map_err(|e| ApiError::BadRequest(format!("invalid upload: {e}")))?;
        let name = field.name().unwrap_or_default().to_owned();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|e| ApiError::BadRequest(format!("invalid upload: {e}")))?;
            let into = if name == "csrf" {
                &mut csrf
            } else if name == "file" {
                &mut file
            } else {
                continue;
            };
            if into.len() + chunk.len() > limit {
                return Err(ApiError::PayloadTooLarge { limit }.into());
            }
            into.extend_from_slice(&chunk);
        }
    }
    console.check_csrf(std::str::from_utf8(&csrf).unwrap_or_default())?;
    import(&console, &m, &state, AliasFormat::Csv, &file).await
}

/// Stores aliases through the admin operation; a bad row is shown naming its line.
async fn import(
    console: &Console,
    m: &str,
    state: &AppState,
    format: AliasFormat,
    body: &[u8],
) -> Result<HttpResponse, PageError> {
    let merchant = console.principal.merchant(&state.ops, m)?;
    let n = match merchant.import_aliases(format, body).await {
        Ok(imported) => {
            let write = Write::new("aliases.put", "aliases").changed(imported.skus.iter().take(AUDITED_SKUS));
            state.ops.audit(&merchant.settings().id, &console.principal.actor(), write).await;
            Notice::Good(format!(
                "Saved {} aliases; {} waiting orders sent again.",
                imported.upserted, imported.requeued
            ))
        }
        Err(e @ OpError::BadAliases(_)) => Notice::Bad(format!("Nothing was saved: {e}")),
        Err(e) => return Err(e.into()),
    };
    aliases_page(console, m, state, Some(n)).await
}
