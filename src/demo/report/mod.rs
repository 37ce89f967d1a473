//! What the demo found: every order of both carts against the status its part of the story
//! should end in, the counts at each simulator, and the steps that failed. Rendered as the
//! closing tables ([`tables`]): one status table per cart.

mod tables;

use std::time::Duration;

use super::alerts::AlertCounts;
pub use super::carts::Cart;
use crate::domain::OrderStatus;

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
    /// Voided (TradeGecko) or cancelled (Shopify) in the cart after it reached the warehouse.
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
            Self::Voided => "cancelled in the cart after sending",
            Self::ShipMethod => "mapped ship method",
            Self::UnmappedMethod => "ship method mapped later",
        }
    }
}

/// One order at the end.
#[derive(Debug, Clone)]
pub struct OrderOutcome {
    pub cart: Cart,
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
    /// Fulfillments created at TradeGecko, and how many parcels the warehouse shipped for
    /// TradeGecko orders.
    pub fulfillments: usize,
    pub picks: usize,
    /// TradeGecko fulfillments beyond one per parcel, summed over orders.
    pub duplicate_fulfillments: usize,
    pub stock_adjustments: usize,
    /// Catalogue items whose cart stock differs from the warehouse's at the end.
    pub stock_differences: Vec<String>,
    /// OAuth: access tokens refreshed, refreshes refused, most token calls at once.
    pub token_refreshes: u64,
    pub refresh_failures: u64,
    pub max_concurrent_token_requests: u64,
    /// What the Shopify store saw.
    pub shopify: ShopCounts,
}

/// What the Shopify simulator saw, for the story's Shopify orders.
#[derive(Debug, Clone, Default)]
pub struct ShopCounts {
    /// Orders the story placed in the store.
    pub orders: usize,
    /// Fulfillments created in Shopify, and the warehouse's picks of those orders.
    pub fulfillments: usize,
    pub picks: usize,
    /// Fulfillments beyond one per pick, summed over orders (must be 0).
    pub extra_fulfillments: usize,
    /// `inventorySetQuantities` calls received (answered or throttled).
    pub inventory_writes: usize,
    /// THROTTLED answers the store gave cartgate.
    pub throttled: u64,
    /// Catalogue items whose `available` differs from the warehouse's stock at the end.
    pub stock_differences: Vec<String>,
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

    /// Duplicate warehouse orders plus duplicate fulfillments in either cart.
    pub fn duplicates(&self) -> usize {
        self.counts.wms_duplicates.len() + self.counts.duplicate_fulfillments + self.counts.shopify.extra_fulfillments
    }
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
    use super::super::progress::Progress;
    use super::*;
    use crate::alerts::AlertState;

    fn report(actual: OrderStatus) -> DemoReport {
        let order = |id: u64, role: Role, actual: OrderStatus| OrderOutcome {
            cart: Cart::TradeGecko,
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
        let mut extra = report(OrderStatus::Confirmed);
        extra.counts.shopify.extra_fulfillments = 1;
        assert!(!extra.passed(), "a Shopify fulfillment beyond the picks");
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
        let mut with_shop = report(OrderStatus::OnHold);
        with_shop.orders.push(OrderOutcome {
            cart: Cart::Shopify,
            cart_order_id: 7,
            order_number: "#1007".into(),
            role: Role::Regular,
            actual: Some(OrderStatus::Confirmed),
            reason: None,
        });
        let text = with_shop.render(&Progress::new(super::super::Output::Plain));
        let (tg, rest) = text.split_once("Orders by status: Shopify").unwrap_or_default();
        let shop = rest.split_once("MISMATCH").map_or(rest, |(table, _)| table);
        assert!(tg.contains("SO00002") && !tg.contains("#1007"), "{text}");
        assert!(
            shop.contains("confirmed              1      1  #1007 (1 regular)") && !shop.contains("SO00002"),
            "{text}"
        );
        assert!(text.contains("MISMATCH SO00002 (beyond stock): expected confirmed, is on_hold — because"), "{text}");
        assert!(text.contains("canceled"), "{text}");
        assert!(text.contains("Authorization: Bearer demo-token"), "{text}");
        assert!(text.contains("demo FAILED"), "{text}");
        assert!(text.contains("Orders by status: TradeGecko (acme-tg)"), "{text}");
        assert!(text.contains("Orders by status: Shopify (acme-shop)"), "{text}");
        assert!(text.contains("extra beyond picks 0"), "{text}");
    }
}
