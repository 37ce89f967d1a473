//! The closing tables of the demo: orders by status, one table per cart; the counts at each
//! simulator; the alerts; how to look around through the admin API; the verdict.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::super::progress::Progress;
use super::super::world::{MERCHANT, TOKEN_LIFETIME_SECS};
use super::{Cart, DemoReport, OrderOutcome, Role, shorten};
use crate::alerts::AlertState;
use crate::domain::OrderStatus;

/// Mismatched orders listed one by one; the rest are counted.
const MAX_LISTED: usize = 10;

impl DemoReport {
    /// The closing tables.
    pub fn render(&self, p: &Progress) -> String {
        let mut out = String::new();
        for cart in Cart::ALL {
            let _ = writeln!(out, "\n{}", p.heading(&format!("Orders by status: {cart} ({})", cart.id())));
            let orders: Vec<&OrderOutcome> = self.orders.iter().filter(|o| o.cart == cart).collect();
            render_statuses(&orders, &mut out);
        }
        self.render_problems(&mut out);
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

    fn render_problems(&self, out: &mut String) {
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
            "  TradeGecko OAuth      token refreshes {:>3}   refused {}   most at once {}   (tokens live {TOKEN_LIFETIME_SECS} s)",
            c.token_refreshes, c.refresh_failures, c.max_concurrent_token_requests,
        );
        let s = &c.shopify;
        let _ = writeln!(
            out,
            "  Shopify               orders          {:>3}   fulfillments {}   extra beyond picks {}   (parcels shipped {})",
            s.orders, s.fulfillments, s.extra_fulfillments, s.picks
        );
        let _ = writeln!(
            out,
            "  Shopify API           inventory writes {:>2}   THROTTLED answers {}",
            s.inventory_writes, s.throttled
        );
        if !c.stock_differences.is_empty() {
            let _ = writeln!(out, "  stock differs (TradeGecko vs warehouse): {}", c.stock_differences.join(", "));
        }
        if !s.stock_differences.is_empty() {
            let _ = writeln!(out, "  stock differs (Shopify vs warehouse): {}", s.stock_differences.join(", "));
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
        let _ = writeln!(out, "  token: {}   (up while the demo runs; --keep-running keeps it up)", self.admin_token);
        let mut paths = vec![
            "/admin/orders?status=confirmed&limit=50".to_owned(),
            "/admin/orders?status=cancel_sending".to_owned(),
        ];
        for cart in Cart::ALL {
            if let Some(o) = self.orders.iter().find(|o| o.cart == cart) {
                paths.push(format!("/admin/carts/{}/orders/{}", cart.id(), o.cart_order_id));
            }
        }
        paths.extend([
            format!("/admin/merchants/{MERCHANT}/aliases"),
            format!("/admin/merchants/{MERCHANT}/alerts"),
            "/admin/queues".to_owned(),
            "/admin/config".to_owned(),
        ]);
        for path in paths {
            let _ = writeln!(out, "  curl -H 'Authorization: Bearer {}' '{}{path}'", self.admin_token, self.url);
        }
    }
}

/// One cart's orders by status: expected and actual counts per status, in the order of
/// `OrderStatus::ALL`; past its end, "never imported".
fn render_statuses(orders: &[&OrderOutcome], out: &mut String) {
    let mut rows: BTreeMap<usize, (usize, usize, Vec<&OrderOutcome>)> = BTreeMap::new();
    let key = |s: Option<OrderStatus>| s.and_then(|s| OrderStatus::ALL.iter().position(|a| *a == s)).unwrap_or(99);
    for o in orders {
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
