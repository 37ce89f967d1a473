//! `cartgate demo`: the whole flow against the built-in simulators, as a story with a verdict.
//!
//! [`Demo::start`] starts a TradeGecko, a Shopify and an EasyPost Fulfillment simulator and one
//! cartgate (embedded store, or Redis) on free loopback ports, with a generated configuration:
//! one merchant, a TradeGecko cart and a Shopify store beside it, one warehouse.
//! [`Demo::play`] runs the scripted scenario through the real HTTP interfaces — webhooks from
//! the simulators, the merchant's actions over the admin API — printing a line per step and
//! per order change, and returns a [`DemoReport`]: each order against the status its part of
//! the story must end in (a table per cart), the counts at each simulator, the steps that
//! failed. The report
//! passes only when every order is where it should be, nothing is duplicated and every step
//! happened, so the demo doubles as an end-to-end test (`tests/flow/demo.rs`).
//!
//! The world is sized to the story: the warehouse and both carts are stocked for N orders, and a
//! step waits as long as cartgate keeps moving orders along (failing after `step_timeout`
//! without progress). The story (each step names what did not happen):
//! 1. the carts take N orders (every third paid in Shopify) → all `at_wms`, no duplicates;
//! 2. an order with a SKU that has no alias → `error` naming it; the alias is added through
//!    the admin API → `at_wms`;
//! 3. three orders beyond the warehouse's stock → `on_hold` until the next 01:00 Pacific;
//! 4. the merchant cancels sending one of them → `cancel_sending` (never sent);
//! 5. a delivered order is voided in the cart → the poll sees it → `canceled` at the warehouse;
//! 6. a delivered Shopify order is cancelled in Shopify → `orders/cancelled` → `canceled`, and
//!    the warehouse order is cancelled;
//! 7. an Express order goes with the service `express`; one by an unmapped method → `error`
//!    naming it; the mapping is saved through the admin API → `at_wms` with its service;
//! 8. stock arrives at the warehouse; an inventory sync releases the held orders → `at_wms`;
//! 9. the warehouse ships every delivered order (some in two parcels) → fulfillments in the
//!    carts, one Shopify fulfillment per parcel → `confirmed`;
//! 10. an inventory sync writes the warehouse's stock to the carts: a TradeGecko stock
//!     adjustment, Shopify's `available` at the cart's location.
//!
//! Steps 8–10 need the shipment and inventory sync of issue 9 (see [`pickup`]).
//!
//! The merchant's alerts go to a local SMTP server and webhook receiver of the demo's own
//! ([`alerts`]): steps 2 and 7 each open an `order_error` alert and resolve it; the report lists
//! the alerts and checks each was told once opened and once resolved, by both channels.

mod admin;
mod alerts;
mod carts;
mod pickup;
mod progress;
mod report;
mod scenario;
mod ship_methods;
mod shopify;
mod watch;
mod world;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

pub use alerts::{AlertCounts, AlertLine};
pub use progress::Output;
pub use report::{Cart, DemoReport, OrderOutcome, Role, ShopCounts, SimCounts, StepOutcome};
pub use world::DemoStore;

use admin::AdminClient;
use progress::Progress;
use scenario::Ctx;
use watch::Watch;
use world::{MERCHANT, World};

/// How to run the demo.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// Regular orders finalized in the cart (the story adds 4 more).
    pub orders: usize,
    pub store: DemoStore,
    /// How long a step waits for cartgate to move one more order along before it fails (so
    /// a step's whole length grows with the number of orders).
    pub step_timeout: Duration,
    pub output: Output,
}

impl DemoOptions {
    /// The full story: 25 regular orders.
    pub fn full() -> Self {
        Self { orders: 25, store: DemoStore::Memory, step_timeout: Duration::from_secs(20), output: Output::Auto }
    }

    /// The short form: 6 regular orders.
    pub fn quick() -> Self {
        Self { orders: 6, ..Self::full() }
    }
}

impl Default for DemoOptions {
    fn default() -> Self {
        Self::full()
    }
}

/// A running demo: the simulators and cartgate stay up until [`Demo::shutdown`].
pub struct Demo {
    world: World,
    options: DemoOptions,
    progress: Progress,
}

impl Demo {
    /// Starts everything and prints where it runs and the configuration (secrets redacted).
    pub async fn start(options: DemoOptions) -> anyhow::Result<Self> {
        let progress = Progress::new(options.output);
        let world = World::start(&options.store, options.orders).await?;
        progress.line(&progress.heading("cartgate demo"));
        progress.line(&format!("  cartgate              {}", world.url));
        progress.line(&format!("  TradeGecko simulator  {}  (control: /_sim/…)", world.tg.url()));
        progress.line(&format!("  Shopify simulator     {}  (control: /_sim/…)", shopify::store(&world)?.sim.url()));
        progress.line(&format!("  EasyPost simulator    {}  (control: /_sim/…)", world.ep.url()));
        progress.line(&format!("\n{}", progress.heading("Generated configuration (secrets redacted)")));
        progress.line(&indent(&world.config_text));
        progress.line(&format!(
            "  merchant {MERCHANT} and its carts ({}, {}) set up through PUT /admin/merchants/{MERCHANT}[/carts/…]",
            Cart::TradeGecko.id(),
            Cart::Shopify.id()
        ));
        Ok(Self { world, options, progress })
    }

    /// cartgate's base URL.
    pub fn url(&self) -> &str {
        &self.world.url
    }

    /// Runs the story and collects the report.
    pub async fn play(&self) -> anyhow::Result<DemoReport> {
        let started = Instant::now();
        let admin = AdminClient::new(&self.world.url, &self.world.admin_token)?;
        let mut cx = Ctx {
            world: &self.world,
            watch: Watch::new(admin.clone(), self.progress),
            admin,
            progress: self.progress,
            timeout: self.options.step_timeout,
            roles: BTreeMap::new(),
            steps: Vec::new(),
        };
        story(&mut cx, self.options.orders).await;
        cx.watch.refresh().await?;
        let alerts = alerts::collect(&cx.admin, &self.world.sinks).await?;
        let report = collect(&cx, alerts, started.elapsed());
        self.progress.line(&report.render(&self.progress));
        Ok(report)
    }

    /// Stops cartgate and the simulators.
    pub async fn shutdown(self) {
        self.world.shutdown().await;
    }
}

/// Starts, plays, stops.
pub async fn run(options: DemoOptions) -> anyhow::Result<DemoReport> {
    let demo = Demo::start(options).await?;
    let report = demo.play().await;
    demo.shutdown().await;
    report
}

async fn story(cx: &mut Ctx<'_>, orders: usize) {
    macro_rules! step {
        ($title:expr, $run:expr) => {{
            let title = $title;
            cx.begin(&title);
            let result = $run.await;
            cx.finish(&title, result);
        }};
    }
    step!(format!("The carts finalize {orders} orders"), scenario::finalize_orders(cx, orders));
    step!("An order with a SKU that has no alias".to_owned(), scenario::unaliased_sku(cx));
    step!("Orders beyond the warehouse's stock".to_owned(), scenario::beyond_stock(cx));
    step!("The merchant cancels sending one held order".to_owned(), scenario::cancel_sending(cx));
    step!("A delivered order is voided in the cart".to_owned(), scenario::void_after_sending(cx));
    step!("A delivered order is cancelled in Shopify".to_owned(), shopify::cancel_after_sending(cx));
    step!("Ship methods: Express mapped, another waits for its mapping".to_owned(), ship_methods::ship_methods(cx));
    step!("Stock arrives; the inventory sync releases the held orders".to_owned(), pickup::stock_arrives(cx));
    step!("The warehouse ships; tracking goes to the carts".to_owned(), pickup::ship(cx));
    step!(format!("Inventory flows back to the carts ({MERCHANT})"), pickup::inventory_back(cx));
}

fn collect(cx: &Ctx<'_>, alerts: AlertCounts, elapsed: Duration) -> DemoReport {
    let orders: Vec<OrderOutcome> = cx
        .roles
        .iter()
        .map(|(key, role)| {
            let seen = cx.watch.get(*key);
            let (cart, id) = *key;
            OrderOutcome {
                cart,
                cart_order_id: id,
                order_number: seen.map_or_else(|| format!("{cart} order {id}"), |o| o.order_number.clone()),
                role: *role,
                actual: seen.map(|o| o.status),
                reason: seen.and_then(|o| o.status_reason.clone()),
            }
        })
        .collect();
    let counts = counts(cx, &orders);
    DemoReport {
        orders,
        steps: cx.steps.clone(),
        counts,
        alerts,
        url: cx.world.url.clone(),
        admin_token: cx.world.admin_token.clone(),
        elapsed,
    }
}

fn counts(cx: &Ctx<'_>, orders: &[OrderOutcome]) -> SimCounts {
    let (tg, ep) = (&cx.world.tg, &cx.world.ep);
    let fulfillments = tg.fulfillment_counts();
    let wms_orders = ep.orders();
    let oauth = tg.oauth_stats();
    let tg_orders: Vec<&OrderOutcome> = orders.iter().filter(|o| o.cart == Cart::TradeGecko).collect();
    let duplicate_fulfillments = tg_orders
        .iter()
        .map(|o| {
            let made = fulfillments.get(&o.cart_order_id).copied().unwrap_or(0);
            made.saturating_sub(pickup::picks_of(cx, &o.order_number))
        })
        .sum();
    SimCounts {
        wms_orders: wms_orders.len(),
        wms_duplicates: ep.duplicate_descriptions(),
        fulfillments: fulfillments.values().sum(),
        picks: tg_orders.iter().map(|o| pickup::picks_of(cx, &o.order_number)).sum(),
        duplicate_fulfillments,
        stock_adjustments: tg.stock_adjustments().len(),
        stock_differences: pickup::stock_differences(cx),
        token_refreshes: oauth.refreshes,
        refresh_failures: oauth.refresh_failures,
        max_concurrent_token_requests: oauth.max_concurrent_token_requests,
        shopify: shopify::counts(cx, orders),
    }
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("  {l}")).collect::<Vec<_>>().join("\n")
}
