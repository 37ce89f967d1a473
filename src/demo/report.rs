//! What the demo found: every order against the status its part of the story should end in,
//! the counts at each simulator, and the steps that failed. Rendered as the closing table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use super::alerts::AlertCounts;
use super::progress::Progress;
use super::world::{CART, MERCHANT};
use crate::alerts::AlertState;
use crate::domain::OrderStatus;

/// Mismatched orders listed one by one; the rest are counted.
const MAX_LISTED: usize = 10;

/// An order's part in the story.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// Finalized, delivered, shipped (in one or two picks), confirmed.
    Regular,
    /// Stopped for a SKU without an alias, delivered once the alias is added.
    Unaliased,
    /// Held for stock, released when stock arrives.
    BeyondStock,
    /// Held for stock, then "Cancelled Sending To WMS" by the merchant.
    CancelledSending,
    /// Voided in the cart after it reached the warehouse.
    Voided,
    /// Shipped by a mapped method (Express): goes with its service, then like a regular one.
    ShipMethod,
    /// Shipped by a method the cart rejects unmapped: waits in error, delivered once mapped.
    UnmappedMethod,
}

impl Role {
    /// The status the order must end in.
    pub fn expected(self) -> OrderStatus {
        match self {
            Self::Regular | Self::Unaliased | Self::BeyondStock | Self::ShipMethod | Self::UnmappedMethod => {
                OrderStatus::Confirmed
            }
            Self::CancelledSending => OrderStatus::CancelSending,
            Self::Voided => OrderStatus::Canceled,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Regular => "regular",
            Self::Unaliased => "SKU without alias",
            Self::BeyondStock => "beyond stock",
            Self::CancelledSending => "cancelled sending",
            Self::Voided => "voided after sending",
            Self::ShipMethod => "mapped ship method",
            Self::UnmappedMethod => "ship method mapped later",
        }
    }
}

/// One order at the end.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    pub cart_order_id: u64,
    pub order_number: String,
    pub role: Role,
    pub actual: Option<OrderStatus>,
    pub reason: Option<String>,
}

impl OrderOutcome {
    pub fn as_expected(&self) -> bool {
        self.actual == Some(self.role.expected())
    }
}

/// One step of the scenario; `error` says what did not happen.
#[derive(Debug, Clone)]
pub struct StepOutcome {
    pub title: String,
    pub error: Option<String>,
}

/// What the simulators saw.
#[derive(Debug, Clone, Default)]
pub struct SimCounts {
    /// Orders created at EasyPost Fulfillment.
    pub wms_orders: usize,
    /// Order descriptions (order numbers) created more than once at EasyPost.
    pub wms_duplicates: Vec<String>,
    /// Fulfillments created at TradeGecko, and how many parcels the warehouse shipped.
    pub fulfillments: usize,
    pub picks: usize,
    /// Fulfillments beyond one per parcel, summed over orders.
    pub duplicate_fulfillments: usize,
    pub stock_adjustments: usize,
    /// Catalogue items whose cart stock differs from the warehouse's at the end.
    pub stock_differences: Vec<String>,
    /// OAuth: access tokens refreshed, refreshes refused, most token calls at once.
    pub token_refreshes: u64,
    pub refresh_failures: u64,
    pub max_concurrent_token_requests: u64,
}

/// The demo's result (`cartgate::demo::run`).
#[derive(Debug, Clone)]
pub struct DemoReport {
    pub orders: Vec<OrderOutcome>,
    pub steps: Vec<StepOutcome>,
    pub counts: SimCounts,
    /// The merchant's alerts and the messages its channels received.
    pub alerts: AlertCounts,
    /// cartgate's base URL and admin token (both die with the demo unless `--keep-running`).
    pub url: String,
    pub admin_token: String,
    pub elapsed: Duration,
}

impl DemoReport {
    /// Every order as expected, no duplicate anywhere, every step done.
    pub fn passed(&self) -> bool {
        self.mismatched().is_empty()
            && self.duplicates() == 0
            && self.failed_steps().is_empty()
            && self.alerts.as_expected()
    }

    pub fn mismatched(&self) -> Vec<&OrderOutcome> {
        self.orders.iter().filter(|o| !o.as_expected()).collect()
    }

    pub fn failed_steps(&self) -> Vec<&StepOutcome> {
        self.steps.iter().filter(|s| s.error.is_some()).collect()
    }

    /// Duplicate warehouse orders plus duplicate fulfillments.
    pub fn duplicates(&self) -> usize {
        self.counts.wms_duplicates.len() + self.counts.duplicate_fulfillments
    }

    /// The closing tables.
    pub fn render(&self, p: &Progress) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "\n{}", p.heading("Orders by status"));
        self.render_statuses(&mut out);
        let _ = writeln!(out, "\n{}", p.heading("At the simulators"));
        self.render_counts(&mut out);
        let _ = writeln!(out, "\n{}", p.heading("Alerts (e-mail and signed webhook, instant)"));
        self.render_alerts(&mut out);
        let _ = writeln!(out, "\n{}", p.heading("Admin API (bearer token below)"));
        self.render_admin(&mut out);
        let verdict = if self.passed() { "PASSED" } else { "FAILED" };
        let _ = writeln!(out, "\n{} in {:.1} s", p.heading(&format!("demo {verdict}")), self.elapsed.as_secs_f64());
        out
    }

    fn render_statuses(&self, out: &mut String) {
        // Rows in the order of `OrderStatus::ALL`; past its end, "never imported".
        let mut rows: BTreeMap<usize, (usize, usize, Vec<&OrderOutcome>)> = BTreeMap::new();
        let key = |s: Option<OrderStatus>| s.and_then(|s| OrderStatus::ALL.iter().position(|a| *a == s)).unwrap_or(99);
        for o in &self.orders {
            rows.entry(key(Some(o.role.expected()))).or_default().0 += 1;
            let row = rows.entry(key(o.actual)).or_default();
            row.1 += 1;
            row.2.push(o);
        }
        let _ = writeln!(out, "  {:<15} {:>8} {:>6}  orders / reason", "status", "expected", "actual");
        for (index, (expected, actual, orders)) in &rows {
            let status = OrderStatus::ALL.get(*index).map_or_else(|| "(not imported)".to_owned(), |s| s.to_string());
            let _ = writeln!(out, "  {status:<15} {expected:>8} {actual:>6}  {}", summary(orders));
        }
        let mismatched = self.mismatched();
        for o in mismatched.iter().take(MAX_LISTED) {
            let actual = o.actual.map_or_else(|| "not imported".to_owned(), |s| s.to_string());
            let reason = o.reason.as_deref().map(|r| format!(" — {}", shorten(r, 80))).unwrap_or_default();
            let (number, role, expected) = (&o.order_number, o.role.label(), o.role.expected());
            let _ = writeln!(out, "  MISMATCH {number} ({role}): expected {expected}, is {actual}{reason}");
        }
        if mismatched.len() > MAX_LISTED {
            let _ = writeln!(out, "  MISMATCH … and {} more", mismatched.len() - MAX_LISTED);
        }
        for s in self.failed_steps() {
            let _ = writeln!(out, "  STEP FAILED {}: {}", s.title, s.error.as_deref().unwrap_or(""));
        }
    }

    fn render_counts(&self, out: &mut String) {
        let c = &self.counts;
        let _ = writeln!(
            out,
            "  EasyPost Fulfillment  orders received {:>3}   duplicates {}",
            c.wms_orders,
            c.wms_duplicates.len()
        );
        let _ = writeln!(
            out,
            "  TradeGecko            fulfillments    {:>3}   duplicates {}   (parcels shipped {})   stock adjustments {}",
            c.fulfillments, c.duplicate_fulfillments, c.picks, c.stock_adjustments
        );
        let _ = writeln!(
            out,
            "  TradeGecko OAuth      token refreshes {:>3}   refused {}   most at once {}   (tokens live {} s)",
            c.token_refreshes,
            c.refresh_failures,
            c.max_concurrent_token_requests,
            super::world::TOKEN_LIFETIME_SECS
        );
        if !c.stock_differences.is_empty() {
            let _ = writeln!(out, "  stock differs (cart vs warehouse): {}", c.stock_differences.join(", "));
        }
    }

    fn render_alerts(&self, out: &mut String) {
        let a = &self.alerts;
        for alert in &a.alerts {
            let state = if alert.state == AlertState::Resolved { "resolved" } else { "OPEN" };
            let _ = writeln!(out, "  {:<13} {:<34} {state:<8} orders {}", alert.kind, alert.subject, alert.count);
        }
        let expected = a.expected_messages();
        let _ = writeln!(
            out,
            "  messages: e-mails {} / {expected}   webhooks {} / {expected}   bad signatures {}",
            a.mails, a.webhooks, a.bad_signatures
        );
        if !a.as_expected() {
            let _ = writeln!(
                out,
                "  ALERTS: expected every alert resolved and told once opened, once resolved, per channel"
            );
        }
    }

    fn render_admin(&self, out: &mut String) {
        let example = self.orders.first().map_or(1, |o| o.cart_order_id);
        let _ = writeln!(out, "  token: {}   (up while the demo runs; --keep-running keeps it up)", self.admin_token);
        for path in [
            "/admin/orders?status=confirmed&limit=50".to_owned(),
            "/admin/orders?status=cancel_sending".to_owned(),
            format!("/admin/carts/{CART}/orders/{example}"),
            format!("/admin/merchants/{MERCHANT}/aliases"),
            format!("/admin/merchants/{MERCHANT}/alerts"),
            "/admin/queues".to_owned(),
            "/admin/config".to_owned(),
        ] {
            let _ = writeln!(out, "  curl -H 'Authorization: Bearer {}' '{}{path}'", self.admin_token, self.url);
        }
    }
}

/// "SO00001 SO00002 … (27: 25 regular, 2 beyond stock) — reason; other reason".
fn summary(orders: &[&OrderOutcome]) -> String {
    if orders.is_empty() {
        return String::new();
    }
    let mut numbers: Vec<&str> = orders.iter().take(4).map(|o| o.order_number.as_str()).collect();
    if orders.len() > 4 {
        numbers.push("…");
    }
    let mut roles: BTreeMap<Role, usize> = BTreeMap::new();
    orders.iter().for_each(|o| *roles.entry(o.role).or_default() += 1);
    let roles: Vec<String> = roles.iter().map(|(r, n)| format!("{n} {}", r.label())).collect();
    let mut text = format!("{} ({})", numbers.join(" "), roles.join(", "));
    if let Some(reason) = orders.iter().find_map(|o| o.reason.as_deref()) {
        text.push_str(&format!(" — {}", shorten(reason, 70)));
    }
    text
}

pub fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        format!("{}…", text.chars().take(max).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::super::alerts::AlertLine;
    use super::*;

    fn report(actual: OrderStatus) -> DemoReport {
        let order = |id: u64, role: Role, actual: OrderStatus| OrderOutcome {
            cart_order_id: id,
            order_number: format!("SO{id:05}"),
            role,
            actual: Some(actual),
            reason: Some("because".into()),
        };
        DemoReport {
            orders: vec![order(1, Role::Voided, OrderStatus::Canceled), order(2, Role::BeyondStock, actual)],
            steps: vec![StepOutcome { title: "one".into(), error: None }],
            counts: SimCounts::default(),
            alerts: AlertCounts {
                alerts: vec![AlertLine {
                    kind: "order_error".into(),
                    subject: "unknown_sku:GIFT-WRAP".into(),
                    state: AlertState::Resolved,
                    count: 1,
                }],
                mails: 2,
                webhooks: 2,
                bad_signatures: 0,
            },
            url: "http://127.0.0.1:1".into(),
            admin_token: "demo-token".into(),
            elapsed: Duration::from_secs(1),
        }
    }

    #[test]
    fn a_report_passes_only_with_every_order_as_expected_no_duplicate_and_no_failed_step() {
        assert!(report(OrderStatus::Confirmed).passed());
        assert!(!report(OrderStatus::OnHold).passed());
        let mut dup = report(OrderStatus::Confirmed);
        dup.counts.duplicate_fulfillments = 1;
        assert!(!dup.passed());
        let mut failed = report(OrderStatus::Confirmed);
        failed.steps[0].error = Some("nothing happened".into());
        assert!(!failed.passed());
        let mut untold = report(OrderStatus::Confirmed);
        untold.alerts.webhooks = 1;
        assert!(!untold.passed(), "a resolution not delivered by webhook");
        let mut open = report(OrderStatus::Confirmed);
        open.alerts.alerts[0].state = AlertState::Open;
        assert!(!open.passed(), "an alert left open");
    }

    #[test]
    fn the_table_shows_statuses_mismatches_and_the_admin_token() {
        let text = report(OrderStatus::OnHold).render(&Progress::new(super::super::Output::Plain));
        assert!(text.contains("MISMATCH SO00002 (beyond stock): expected confirmed, is on_hold — because"), "{text}");
        assert!(text.contains("canceled"), "{text}");
        assert!(text.contains("Authorization: Bearer demo-token"), "{text}");
        assert!(text.contains("demo FAILED"), "{text}");
    }
}
