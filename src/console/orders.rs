//! The Orders page: tabs by status with counts, search by order number, cursor paging. It
//! reads through `ops::list_orders` — the admin `GET /admin/orders` — narrowed by the same
//! access rule, so a merchant's page never lists another merchant's orders.
//!
//! Tab counts read the status indexes in pages and stop at [`COUNT_CAP`] ("10,000+"): the
//! store has no cheaper count the ledger exposes, and a page must stay fast with a large
//! backlog. Search matches an order number (any case) or a cart order id over the newest
//! [`SEARCH_READ`] orders of the tab.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use futures::future::try_join_all;
use maud::{Markup, html};
use serde::Deserialize;

use super::page::{Chrome, PageError, Section, layout, ok, status_word};
use super::session::Console;
use crate::domain::{MerchantId, Order, OrderStatus};
use crate::http::{ApiError, AppState};
use crate::ledger::{ListCursor, OrderFilter};

/// Orders per page.
const PAGE: usize = 50;
/// Counting stops here.
pub const COUNT_CAP: usize = 10_000;
/// Members read per count step.
const COUNT_STEP: usize = 1_000;
/// Orders a search reads at most.
const SEARCH_READ: usize = 5_000;

#[derive(Deserialize, Default)]
pub struct OrdersQuery {
    #[serde(default)]
    merchant: Option<String>,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    cursor: Option<String>,
}

impl OrdersQuery {
    fn link(&self, status: Option<OrderStatus>, cursor: Option<&str>) -> String {
        let pairs: Vec<(&str, &str)> = [
            ("merchant", self.merchant.as_deref()),
            ("status", status.map(OrderStatus::as_str)),
            ("q", self.q.as_deref()),
            ("cursor", cursor),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
        .collect();
        let query = serde_urlencoded::to_string(pairs).unwrap_or_default();
        if query.is_empty() { "/console/orders".to_owned() } else { format!("/console/orders?{query}") }
    }
}

#[get("/orders")]
pub async fn list(
    console: Console,
    q: web::Query<OrdersQuery>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    Ok(ok(render(&console, &q, &state).await?))
}

/// The whole page: the tab counts, then one page of rows (or the search's matches).
async fn render(console: &Console, q: &OrdersQuery, state: &AppState) -> Result<Markup, PageError> {
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(s) => Some(OrderStatus::parse(s).ok_or_else(|| ApiError::BadRequest(format!("unknown status `{s}`")))?),
    };
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(ListCursor::parse(c).ok_or_else(|| ApiError::BadRequest(format!("invalid cursor `{c}`")))?),
    };
    let merchant = console.merchant_for(q.merchant.as_deref());
    if let Some(m) = merchant {
        console.principal.merchant(&state.ops, m)?;
    }
    let filter = OrderFilter { status, merchant: merchant.map(str::to_owned), cart: None };
    let filter = console.principal.narrow(filter).ok_or_else(|| ApiError::not_found("no such merchant"))?;
    let known = merchants(state, merchant);
    let counts = try_join_all(OrderStatus::ALL.map(|s| count(state, &known, s))).await?;
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let (orders, next) = match search {
        Some(text) => (search_orders(state, &filter, text).await?, None),
        None => {
            let page = state.ops.list_orders(&filter, Some(PAGE), cursor).await?;
            (page.orders, page.next_cursor.map(|c| c.to_string()))
        }
    };
    let chrome = Chrome { principal: &console.principal, merchant, csrf: &console.csrf, section: Section::Orders };
    let tz = state.settings.hold.timezone;
    Ok(layout(
        "Orders",
        Some(&chrome),
        html! {
            h1 { "Orders" }
            form.card.row method="get" action="/console/orders" {
                @if matches!(console.principal, crate::http::admin::Principal::Operator) {
                    div {
                        label for="merchant" { "Merchant" }
                        select #merchant name="merchant" {
                            option value="" { "All merchants" }
                            @for m in merchants(state, None) {
                                option value=(m) selected[Some(m.as_str()) == merchant] { (m) }
                            }
                        }
                    }
                }
                @if let Some(s) = status { input type="hidden" name="status" value=(s.as_str()); }
                div {
                    label for="q" { "Order number" }
                    input #q type="search" name="q" value=(search.unwrap_or("")) placeholder="e.g. SO0001";
                }
                button type="submit" { "Show" }
            }
            nav.tabs {
                a.current[status.is_none()] href=(q.link(None, None)) { "All" }
                @for (s, n) in OrderStatus::ALL.iter().zip(&counts) {
                    a.current[status == Some(*s)] href=(q.link(Some(*s), None)) {
                        (status_word(*s)) span.count { (count_text(*n)) }
                    }
                }
            }
            (table(&orders, tz))
            @if let Some(text) = search {
                p.muted { "Orders numbered “" (text) "” among the " (SEARCH_READ) " oldest of this tab." }
            }
            @if let Some(next) = next {
                div.pager { a href=(q.link(status, Some(&next))) { "Next page →" } }
            }
        },
    ))
}

fn table(orders: &[Order], tz: chrono_tz::Tz) -> Markup {
    html! {
        @if orders.is_empty() {
            p.card.muted { "No orders here." }
        } @else {
            div.table { table {
                thead { tr {
                    th.hide-narrow { "Cart" } th { "Order" } th { "Customer" } th { "Status" }
                    th.hide-narrow { "Reason" } th { "Next attempt" }
                } }
                tbody { @for o in orders {
                    tr {
                        td.hide-narrow { (o.cart) }
                        td { a href=(format!("/console/carts/{}/orders/{}", o.cart, o.cart_order_id)) { (o.order_number) } }
                        td { (o.destination.name) }
                        td { span class=(format!("status {}", o.status())) { (status_word(o.status())) } }
                        td.hide-narrow { (o.status_reason.as_deref().unwrap_or("")) }
                        td { (o.next_attempt_at.map(|t| local_time(t, tz)).unwrap_or_default()) }
                    }
                } }
            } }
        }
    }
}

/// A time in the merchants' hold time zone (`hold.timezone`), as the release time reads.
pub fn local_time(t: DateTime<Utc>, tz: chrono_tz::Tz) -> String {
    t.with_timezone(&tz).format("%Y-%m-%d %H:%M %Z").to_string()
}

fn count_text(n: usize) -> String {
    if n >= COUNT_CAP { format!("{COUNT_CAP}+") } else { n.to_string() }
}

/// The merchants a listing covers: the one picked, or every known one.
fn merchants(state: &AppState, picked: Option<&str>) -> Vec<MerchantId> {
    match picked {
        Some(m) => MerchantId::parse(m).into_iter().collect(),
        None => state.tenants().now().entries().filter_map(|(id, _)| MerchantId::parse(id).ok()).collect(),
    }
}

/// Orders in `status` over `merchants`, counted up to [`COUNT_CAP`].
async fn count(state: &AppState, merchants: &[MerchantId], status: OrderStatus) -> Result<usize, PageError> {
    let mut total = 0;
    for m in merchants {
        let mut offset = 0;
        while total < COUNT_CAP {
            let got = state
                .ops
                .deps()
                .ledger
                .orders
                .with_status(m, status, offset, COUNT_STEP)
                .await
                .map_err(ApiError::from)?;
            total += got.len();
            offset += got.len();
            if got.len() < COUNT_STEP {
                break;
            }
        }
    }
    Ok(total.min(COUNT_CAP))
}

/// Orders of the listing whose number (any case) or cart order id is `text`.
async fn search_orders(state: &AppState, filter: &OrderFilter, text: &str) -> Result<Vec<Order>, PageError> {
    let (mut found, mut cursor, mut read) = (Vec::new(), None, 0);
    while read < SEARCH_READ {
        let page = state.ops.list_orders(filter, Some(500), cursor).await?;
        read += page.orders.len();
        found.extend(
            page.orders
                .into_iter()
                .filter(|o| o.order_number.eq_ignore_ascii_case(text) || o.cart_order_id.to_string() == text),
        );
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(found)
}
