//! The Operator page (the operator only; a merchant's session gets the admin API's 403):
//! every merchant with its source, state and carts, **Add a merchant** (its EasyPost key; the
//! rest on its own pages), the queue's depths, the newest dead letters, and **Redrive** — the
//! admin API's `ops` operations, under the same rule (`Principal::operator_only`).

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, get, post, web};
use chrono::DateTime;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::merchant::{Notice, notice};
use super::page::{Chrome, PageError, Section, csrf_field, layout};
use super::session::Console;
use crate::domain::MerchantId;
use crate::http::AppState;
use crate::ops::audit::Write;

/// Dead letters listed.
const DEAD_SHOWN: usize = 50;

#[get("/operator")]
pub async fn show(console: Console, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    page(&console, &state, None).await
}

async fn page(console: &Console, state: &AppState, n: Option<Notice>) -> Result<HttpResponse, PageError> {
    console.principal.operator_only()?;
    let depths = state.ops.queue_depths().await?;
    let dead = state.ops.dead_letters(Some(DEAD_SHOWN)).await?;
    let merchants = state.ops.merchants_view();
    let body = html! {
        h1 { "Operator" }
        (notice(n.as_ref()))
        h2 { "Merchants" }
        (merchant_table(&merchants))
        form.card.row method="post" action="/console/operator/merchants" {
            (csrf_field(&console.csrf))
            div { label for="new-id" { "Merchant id" } input #new-id type="text" name="id" required; }
            div { label for="new-key" { "EasyPost production API key" }
                input #new-key type="password" name="production_api_key" autocomplete="off" required; }
            button type="submit" { "Add merchant" }
        }
        h2 { "Queue" }
        section.card { dl.facts {
            dt { "Due" } dd { (depths.due) } dt { "In flight" } dd { (depths.inflight) }
            dt { "Held" } dd { (depths.hold) } dt { "Dead" } dd { (depths.dead) }
        } }
        h2 { "Dead letters" }
        @if dead.is_empty() { p.card.muted { "None." } } @else {
            form.card.row method="post" action="/console/operator/redrive" {
                (csrf_field(&console.csrf))
                div { label for="limit" { "Redrive the oldest" } input #limit type="text" name="limit" value=(depths.dead) inputmode="numeric"; }
                button type="submit" { "Redrive" }
            }
            div.table { table {
                thead { tr { th { "Job" } th { "Attempts" } th { "Last error" } th.hide-narrow { "Died" } } }
                tbody { @for d in &dead { tr {
                    td { (d.id) } td { (d.attempts) } td { (d.last_error.as_deref().unwrap_or("")) }
                    td.hide-narrow { (DateTime::from_timestamp_millis(d.died_at).map(|t| t.to_rfc3339()).unwrap_or_default()) }
                } } }
            } }
        }
    };
    let chrome =
        Chrome { principal: &console.principal, merchant: None, csrf: &console.csrf, section: Section::Operator };
    Ok(HttpResponse::build(StatusCode::OK)
        .content_type("text/html; charset=utf-8")
        .body(layout("Operator", Some(&chrome), body).into_string()))
}

fn merchant_table(view: &Value) -> Markup {
    let merchants = view["merchants"].as_array().cloned().unwrap_or_default();
    let text = |v: &Value| v.as_str().unwrap_or("").to_owned();
    html! { div.table { table {
        thead { tr { th { "Merchant" } th { "Source" } th { "State" } th { "Carts" } } }
        tbody { @for m in &merchants { tr {
            td { a href=(format!("/console/orders?merchant={}", text(&m["id"]))) { (text(&m["id"])) } }
            td { (text(&m["source"])) }
            td { (text(&m["state"])) @if let Some(r) = m["reason"].as_str() { br; span.muted { (r) } } }
            td { @for c in m["carts"].as_array().into_iter().flatten() { (text(&c["id"])) " " } }
        } } }
    } } }
}

#[derive(Deserialize)]
pub struct NewMerchantForm {
    id: String,
    production_api_key: String,
}

/// **Add merchant**: the admin API's `PUT /admin/merchants/{m}` for a merchant that does not
/// exist yet (an existing one is edited on its own pages, never overwritten from here), with
/// EasyPost's production host; the key is sealed like every secret written through the API.
#[post("/operator/merchants")]
pub async fn create_merchant(
    console: Console,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: NewMerchantForm = console.form(&body)?;
    console.principal.operator_only()?;
    let n = match create(&console, &state, &form).await {
        Ok(id) => Notice::Good(format!("Merchant {id} added: test its key on WMS Setup, then add its carts.")),
        Err(why) => Notice::Bad(why),
    };
    page(&console, &state, Some(n)).await
}

async fn create(console: &Console, state: &AppState, form: &NewMerchantForm) -> Result<MerchantId, String> {
    let id = MerchantId::parse(form.id.trim()).map_err(|e| format!("merchant id: {e}"))?;
    let view = state.ops.merchants_view();
    if view["merchants"].as_array().is_some_and(|all| all.iter().any(|m| m["id"] == id.as_str())) {
        return Err(format!("merchant `{id}` exists already: change it on its own pages"));
    }
    let key = form.production_api_key.trim();
    let wms = json!({"kind": "easypost", "base_url": EASYPOST_API, "production_api_key": key});
    state.ops.put_merchant(id.as_str(), json!({ "wms": wms })).await.map_err(|e| e.to_string())?;
    let write = Write::new("merchant.put", format!("merchant {id}")).changed(["wms"]);
    state.ops.audit(&id, &console.principal.actor(), write).await;
    Ok(id)
}

/// Where a merchant added here reaches EasyPost (another host: the admin API).
const EASYPOST_API: &str = "https://api.easypost.com";

#[derive(Deserialize)]
pub struct RedriveForm {
    limit: String,
}

#[post("/operator/redrive")]
pub async fn redrive(
    console: Console,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    let form: RedriveForm = console.form(&body)?;
    console.principal.operator_only()?;
    let n = match form.limit.trim().parse::<usize>() {
        Ok(limit) => match state.ops.redrive(limit).await {
            Ok(moved) => Notice::Good(format!("Redrove {moved} dead jobs.")),
            Err(e) => Notice::Bad(e.to_string()),
        },
        Err(_) => Notice::Bad(format!("`{}` is not a number of jobs", form.limit)),
    };
    page(&console, &state, Some(n)).await
}
