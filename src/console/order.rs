//! One order: lines (SKU → barcode, units), destination, ship method → service, the warehouse
//! order id, shipments with tracking links, the timeline; and the merchant's two actions.
//! The buttons show only where the state machine allows them — the page asks the same rules
//! the admin API applies (`ops::orders::{cancel_sending, resend}`) on a copy of the order —
//! and the actions are the admin API's operations, audited the same way.

use actix_web::{HttpResponse, get, post, web};
use chrono::Utc;
use maud::{Markup, html};

use super::orders::local_time;
use super::page::{Chrome, PageError, Section, csrf_field, layout, ok, see_other, status_word};
use super::session::Console;
use crate::domain::{Order, OrderStatus};
use crate::http::AppState;
use crate::ops::audit::Write;
use crate::ops::orders::{cancel_sending, resend};
use crate::settings::CartSettings;

type OrderPath = web::Path<(String, u64)>;

#[get("/carts/{cart}/orders/{id}")]
pub async fn show(console: Console, path: OrderPath, state: web::Data<AppState>) -> Result<HttpResponse, PageError> {
    let cart = console.principal.cart(&state.ops, &path.0)?;
    let order = cart.order(path.1).await?;
    let merchant = order.merchant.to_string();
    let chrome = Chrome {
        principal: &console.principal,
        merchant: Some(&merchant),
        csrf: &console.csrf,
        section: Section::Orders,
    };
    let title = format!("Order {}", order.order_number);
    Ok(ok(layout(&title, Some(&chrome), page(&order, cart.settings(), &console.csrf, &state))))
}

fn page(o: &Order, cart: &CartSettings, csrf: &str, state: &AppState) -> Markup {
    let tz = state.settings.hold.timezone;
    let base = format!("/console/carts/{}/orders/{}", o.cart, o.cart_order_id);
    let (may_cancel, may_resend) = offered(o);
    let service = cart.ship_methods.resolve(o.ship_method.as_deref()).map(|s| s.service.clone());
    let d = &o.destination;
    html! {
        h1 { "Order " (o.order_number) " " span class=(format!("status {}", o.status())) { (status_word(o.status())) } }
        section.card {
            dl.facts {
                dt { "Cart" } dd { (o.cart) " · order id " (o.cart_order_id) }
                @if let Some(r) = &o.status_reason { dt { "Reason" } dd { (r) } }
                @if let Some(t) = o.next_attempt_at { dt { "Next attempt" } dd { (local_time(t, tz)) } }
                dt { "Warehouse order" } dd { (o.wms_order_id.as_deref().unwrap_or("—")) }
                dt { "Ship method" } dd {
                    (o.ship_method.as_deref().unwrap_or("(none)")) " → "
                    @match &service { Ok(s) => (s), Err(_) => "not mapped" }
                }
            }
            @if may_cancel || may_resend {
                div.actions {
                    @if may_cancel {
                        form method="post" action=(format!("{base}/cancel-sending")) {
                            (csrf_field(csrf)) button.danger type="submit" { "Cancel Sending To WMS" }
                        }
                    }
                    @if may_resend {
                        form method="post" action=(format!("{base}/resend")) {
                            (csrf_field(csrf)) button type="submit" { "Resend" }
                        }
                    }
                }
            }
        }
        h2 { "Lines" }
        div.table { table {
            thead { tr { th { "SKU" } th { "Barcode" } th { "Units" } } }
            tbody { @for l in &o.lines {
                tr { td { (l.sku) } td { @match &l.barcode { Some(b) => (b), None => span.muted { "not translated yet" } } } td { (l.quantity) } }
            } }
        } }
        h2 { "Destination" }
        section.card {
            p { (d.name) @if let Some(c) = &d.company { br; (c) } br; (d.street1)
                @if let Some(s) = &d.street2 { br; (s) }
                br; (d.city) @if let Some(s) = &d.state { ", " (s) } " " (d.zip) br; (d.country) }
        }
        h2 { "Shipments" }
        @if o.shipments.is_empty() { p.muted { "None yet." } }
        @for s in &o.shipments {
            section.card {
                dl.facts {
                    dt { "Tracking" } dd {
                        @match &s.public_url {
                            Some(url) if url.starts_with("https://") => a href=(url) rel="noreferrer" { (s.tracking_code) },
                            _ => (s.tracking_code),
                        }
                        " " span.muted { (s.carrier.as_deref().unwrap_or("")) " · " (s.tracking_status) }
                    }
                    dt { "Shipped" } dd { (local_time(s.shipped_at, tz)) }
                    dt { "Items" } dd { @for (b, q) in &s.items { (b) " × " (q) " " } }
                }
            }
        }
        h2 { "Timeline" }
        ol.timeline.card { @for t in o.timeline().iter().rev() {
            li { span.muted { (local_time(t.at, tz)) } " · " (status_word(t.status)) " — " (t.reason) }
        } }
    }
}

/// Which of (Cancel Sending To WMS, Resend) the page offers: those the admin API's rules
/// would carry out on this order now (tried on copies); cancelling an order already in
/// Cancelled Sending To WMS changes nothing, so it is not offered again.
fn offered(o: &Order) -> (bool, bool) {
    let now = Utc::now();
    let may_cancel = o.status() != OrderStatus::CancelSending && cancel_sending(&mut o.clone(), now).is_ok();
    (may_cancel, resend(&mut o.clone(), now).is_ok())
}

#[post("/carts/{cart}/orders/{id}/cancel-sending")]
pub async fn cancel(
    console: Console,
    path: OrderPath,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    act(&console, &path, &body, &state, Action::CancelSending).await
}

#[post("/carts/{cart}/orders/{id}/resend")]
pub async fn resend_now(
    console: Console,
    path: OrderPath,
    body: web::Bytes,
    state: web::Data<AppState>,
) -> Result<HttpResponse, PageError> {
    act(&console, &path, &body, &state, Action::Resend).await
}

/// The order page's two buttons.
#[derive(Clone, Copy)]
enum Action {
    CancelSending,
    Resend,
}

/// A button's admin API operation on the order, audited as the admin API audits it, then back
/// to the order's page.
async fn act(
    console: &Console,
    path: &OrderPath,
    body: &[u8],
    state: &AppState,
    action: Action,
) -> Result<HttpResponse, PageError> {
    console.form::<serde::de::IgnoredAny>(body)?;
    let cart = console.principal.cart(&state.ops, &path.0)?;
    let audited = match action {
        Action::CancelSending => cart.cancel_sending(path.1).await.map(|_| "order.cancel_sending")?,
        Action::Resend => cart.resend(path.1).await.map(|()| "order.resend")?,
    };
    let write = Write::new(audited, format!("{}/{}", path.0, path.1)).changed(["status"]);
    state.ops.audit(cart.merchant_id(), &console.principal.actor(), write).await;
    Ok(see_other(&format!("/console/carts/{}/orders/{}", path.0, path.1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order_in(status: OrderStatus) -> Order {
        let mut o = Order::sample(vec![]);
        let via = if status.is_unsent() || status == OrderStatus::Skipped { None } else { Some(OrderStatus::AtWms) };
        for s in via.into_iter().chain([status]).filter(|s| *s != OrderStatus::New) {
            if o.status() != s {
                o.transition(s, "setup", Utc::now()).unwrap();
            }
        }
        o
    }

    #[test]
    fn the_buttons_follow_the_admin_api_rules() {
        assert_eq!(offered(&order_in(OrderStatus::New)), (true, true));
        assert_eq!(offered(&order_in(OrderStatus::OnHold)), (true, true));
        assert_eq!(offered(&order_in(OrderStatus::Error)), (true, true));
        assert_eq!(offered(&order_in(OrderStatus::CancelSending)), (false, true));
        assert_eq!(offered(&order_in(OrderStatus::AtWms)), (false, false));
        assert_eq!(offered(&order_in(OrderStatus::Skipped)), (false, false));
        let mut sending = order_in(OrderStatus::New);
        sending.send_started_at = Some(Utc::now());
        assert!(!offered(&sending).0, "not while a send is under way");
    }
}
