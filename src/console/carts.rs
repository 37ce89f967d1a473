//! The Carts page: per cart of a merchant, its connection state with **Test Cart Connection**
//! and (for an OAuth cart) **Connect**, its schedule and filters, and the ship-method mapping
//! with the methods seen on recent orders, mapped or not — where an unmapped one can be mapped.
//! Every action is the admin API's (`ops`), audited under the same names.
//!
//! Connect answers a page with a link to TradeGecko rather than a redirect: the CSP's
//! `form-action 'self'` (rightly) stops a form from landing on another origin.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::merchant::{Notice, merchant_page, notice};
use super::page::{PageError, Section, csrf_field};
use super::session::Console;
use crate::http::AppState;
use crate::ops::audit::Write;
use crate::settings::CartSettings;

#[get("/m/{m}/carts")]
pub async fn list(
    console: Console,
    m: web::Path<String>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    page(&console, &m, &state, None).await
}

async fn page(console: &Console, m: &str, state: &AppState, n: Option<Notice>) -> Result<HttpResponse, PageError> {
    let merchant = console.principal.merchant(&state.ops, m)?;
    let mut sections = Vec::new();
    for settings in &merchant.settings().carts {
        let cart = state.ops.cart(settings.id.as_str())?;
        sections.push(cart_section(settings, &cart.connection().await?, &cart.ship_methods().await?, &console.csrf));
    }
    let body = html! {
        h1 { "Carts" }
        (notice(n.as_ref()))
        @if sections.is_empty() { p.card.muted { "No carts yet." } }
        @for s in sections { (s) }
    };
    Ok(merchant_page(console, m, Section::Carts, "Carts", StatusCode::OK, body))
}

fn cart_section(c: &CartSettings, connection: &Value, methods: &Value, csrf: &str) -> Markup {
    let base = format!("/console/carts/{}", c.id);
    let status = connection["status"].as_str().unwrap_or("unknown");
    html! {
        h2 { "Cart " (c.id) }
        section.card {
            dl.facts {
                dt { "Connection" } dd { (status) @if let Some(r) = connection["reason"].as_str() { " — " (r) } }
                (facts(&serde_json::to_value(&c.schedule).unwrap_or_default()))
            }
            div.actions {
                form method="post" action=(format!("{base}/test")) { (csrf_field(csrf)) button.quiet type="submit" { "Test Cart Connection" } }
                @if status != "token" {
                    form method="post" action=(format!("{base}/connect")) { (csrf_field(csrf)) button type="submit" { "Connect" } }
                }
            }
        }
        section.card {
            p.muted { "Filters" }
            dl.facts { (facts(&serde_json::to_value(&c.filters).unwrap_or_default())) }
        }
        div.table { table {
            thead { tr { th { "Ship method seen" } th { "Orders (30 days)" } th { "Goes out as" } } }
            tbody {
                @if methods["seen"].as_array().is_none_or(Vec::is_empty) { tr { td.muted colspan="3" { "No orders with a ship method in the last 30 days." } } }
                @for s in methods["seen"].as_array().into_iter().flatten() { tr {
                td { (s["label"].as_str().unwrap_or("")) }
                td { (s["orders"]) }
                td {
                    @if s["mapped"].as_bool() == Some(true) { (s["service"].as_str().unwrap_or("")) } @else {
                        form.row method="post" action=(format!("{base}/ship-methods")) {
                            (csrf_field(csrf))
                            input type="hidden" name="label" value=(s["label"].as_str().unwrap_or(""));
                            input type="text" name="service" placeholder=(s["service"].as_str().unwrap_or("not mapped")) aria-label="service";
                            button.quiet type="submit" { "Map" }
                        }
                    }
                }
            } }
            }
        } }
    }
}

/// A table's keys and values as facts (nested values shown as JSON).
fn facts(table: &Value) -> Markup {
    html! { @if let Value::Object(entries) = table { @for (k, v) in entries {
        dt { (k.replace('_', " ")) } dd { (shown(v)) }
    } } }
}

fn shown(v: &Value) -> String {
    match v {
        Value::Null => "—".to_owned(),
        Value::Array(items) if items.is_empty() => "none".to_owned(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

type CartPath = web::Path<String>;

#[post("/carts/{c}/test")]
pub async fn test(
    console: Console,
    c: CartPath,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    let cart = console.principal.cart(&state.ops, &c)?;
    let check = cart.test().await;
    let n = if check.ok { Notice::Good(check.message) } else { Notice::Bad(check.message) };
    page(&console, cart.merchant_id().as_str(), &state, Some(n)).await
}

#[post("/carts/{c}/connect")]
pub async fn connect(
    console: Console,
    c: CartPath,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(&body)?;
    let cart = console.principal.cart(&state.ops, &c)?;
    let url = cart.connect().await?;
    state.ops.audit(cart.merchant_id(), &console.principal.actor(), Write::new("cart.connect", c.as_str())).await;
    let body = html! {
        h1 { "Connect " (c.as_str()) }
        section.card {
            p { "Approve cartgate in TradeGecko; it sends you back here when done. The link works once, for 10 minutes." }
            p { a href=(url.as_str()) rel="noreferrer" { "Continue to TradeGecko →" } }
        }
    };
    Ok(merchant_page(&console, cart.merchant_id().as_str(), Section::Carts, "Connect", StatusCode::OK, body))
}

#[derive(Deserialize)]
pub struct MapForm {
    label: String,
    service: String,
}

#[post("/carts/{c}/ship-methods")]
pub async fn map(
    console: Console,
    c: CartPath,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: MapForm = console.form(&body)?;
    let cart = console.principal.cart(&state.ops, &c)?;
    let merchant = cart.merchant_id().clone();
    let mut table = serde_json::to_value(&cart.settings().ship_methods).unwrap_or_else(|_| json!({}));
    table["map"][form.label.trim()] = json!({"service": form.service.trim()});
    let n = match state.ops.put_ship_methods(merchant.as_str(), &c, table).await {
        Ok(saved) => {
            let methods = saved.methods.map.keys().map(|k| format!("map.{k}"));
            let changed = methods.chain(["default".to_owned(), "reject_unmapped".to_owned()]);
            let write = Write::new("ship_methods.put", format!("cart {}", c.as_str())).changed(changed);
            state.ops.audit(&merchant, &console.principal.actor(), write).await;
            Notice::Good(format!("Mapped {}; {} waiting orders sent again.", form.label.trim(), saved.requeued))
        }
        Err(e) => Notice::Bad(format!("Not saved: {e}")),
    };
    page(&console, merchant.as_str(), &state, Some(n)).await
}
