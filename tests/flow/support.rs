//! The flows' world: the test kit's wired world ([`cartgate::testkit::world`]) on the shared
//! test Redis, with the admin token and webhook secret the flows sign with, plus the waits
//! the flows share.

use std::ops::Deref;
use std::time::Duration;

use cartgate::domain::{CartId, Order, OrderStatus};
use cartgate::settings::{CartInventory, Interval, OrderFilters, ShipMethods};
use cartgate::testkit::shopify::ShopifyOptions;
use cartgate::testkit::sims::SimOptions;
use cartgate::testkit::wiring::{AlertsWiring, MerchantAlertsWiring, WiredSecret};
use cartgate::testkit::world::{Wired, World, WorldOptions};
use cartgate::workers::Registry;
use cartgate::workflows::Deps;

pub use cartgate::testkit::world::CART;

pub const ADMIN: &str = "flow-admin-token";
/// Not ASCII: the signature is computed over the secret's UTF-8 bytes.
pub const EP_WEBHOOK_SECRET: &str = "ep-webhook-s\u{e9}cret";
/// Once an hour: in a test, "only when asked".
pub const HOURLY: Interval = Interval::Every(Duration::from_secs(3600));

/// What differs between flows.
pub struct Options {
    pub items: usize,
    /// Units of each item at both sides.
    pub warehouse_stock: i64,
    /// The merchant's `order_delivery`: auto or an interval for scheduled delivery runs.
    pub order_delivery: Interval,
    /// The cart's `shipment_upload` schedule.
    pub shipment_upload: Interval,
    /// The cart's ship method mapping.
    pub ship_methods: ShipMethods,
    /// The cart's `filters` and `inventory` tables (`None`: the defaults).
    pub filters: Option<OrderFilters>,
    pub inventory: Option<CartInventory>,
    /// The cart's stock locations (the first is the cart's); empty: one.
    pub cart_locations: Vec<u64>,
    /// The deployment's `[alerts]` and the merchant's `[merchants.alerts]` (none: no channel).
    pub alerts: Option<(AlertsWiring, MerchantAlertsWiring)>,
    /// A Shopify store as the merchant's second cart (`acme-shop`).
    pub shopify: Option<ShopifyOptions>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            items: 10,
            warehouse_stock: 1000,
            order_delivery: Interval::Auto,
            shipment_upload: Interval::Auto,
            ship_methods: ShipMethods::default(),
            filters: None,
            inventory: None,
            cart_locations: Vec::new(),
            alerts: None,
            shopify: None,
        }
    }
}

impl Options {
    /// The world these options describe.
    pub fn world(&self) -> WorldOptions {
        let sims = SimOptions {
            items: self.items,
            stock: self.warehouse_stock,
            cart_locations: self.cart_locations.clone(),
            ..SimOptions::default()
        };
        let mut world = WorldOptions { sims, ..WorldOptions::default() };
        world.tenant.webhook_secret = WiredSecret::new(EP_WEBHOOK_SECRET);
        world.tenant.merchant_schedule.order_delivery = self.order_delivery;
        world.tenant.cart_schedule.shipment_upload = self.shipment_upload;
        world.tenant.ship_methods = self.ship_methods.clone();
        world.tenant.filters = self.filters.clone();
        world.tenant.inventory = self.inventory.clone();
        world.cartgate.store.url = cartgate::testkit::TestRedis::shared_url();
        world.shopify = self.shopify.clone();
        world.cartgate.server.admin_token = Some(WiredSecret::new(ADMIN));
        if let Some((deployment, merchant)) = &self.alerts {
            world.cartgate.alerts = Some(deployment.clone());
            world.tenant.alerts = Some(merchant.clone());
        }
        world
    }

    /// The simulators running and cartgate's configuration ready, for flows that run cartgate
    /// as a process.
    pub async fn wired(&self) -> Wired {
        Wired::start(self.world()).await.unwrap()
    }
}

/// A flow's world and an HTTP client; cartgate shuts down when it is dropped.
pub struct Flow {
    world: World,
    pub address: String,
    pub client: reqwest::Client,
    pub deps: Deps,
}

impl Deref for Flow {
    type Target = World;

    fn deref(&self) -> &World {
        &self.world
    }
}

impl Drop for Flow {
    fn drop(&mut self) {
        self.world.readiness().begin_shutdown();
    }
}

pub async fn start(opts: Options) -> Flow {
    start_with(opts, cartgate::workflows::registry).await
}

/// [`start`] with job handlers of the test's choosing (built over the app's store).
pub async fn start_with(opts: Options, registry: impl FnOnce(&Deps) -> Registry) -> Flow {
    let world = World::start_with(opts.world(), registry).await.unwrap_or_else(|e| panic!("{e}"));
    let (address, deps) = (world.url(), world.deps().clone());
    Flow { world, address, client: reqwest::Client::new(), deps }
}

/// [`start`] on a world of the test's own making (another store, say).
pub async fn start_world(world: WorldOptions) -> Flow {
    let world = World::start_with(world, cartgate::workflows::registry).await.unwrap_or_else(|e| panic!("{e}"));
    let (address, deps) = (world.url(), world.deps().clone());
    Flow { world, address, client: reqwest::Client::new(), deps }
}

impl Flow {
    pub fn cart(&self) -> CartId {
        CartId::parse(CART).unwrap()
    }

    pub async fn order(&self, id: u64) -> Option<Order> {
        self.order_in(&self.cart(), id).await
    }

    /// An order of one of the merchant's carts, as the ledger holds it.
    pub async fn order_in(&self, cart: &CartId, id: u64) -> Option<Order> {
        self.deps.ledger.orders.get(&cartgate::domain::MerchantId::parse("acme").unwrap(), cart, id).await.unwrap()
    }

    /// Waits until every order is in `status` (or the time runs out), returning the stragglers.
    pub async fn wait_all(
        &self,
        ids: &[u64],
        status: OrderStatus,
        within: Duration,
    ) -> Vec<(u64, Option<OrderStatus>)> {
        self.wait_all_in(&self.cart(), ids, status, within).await
    }

    /// [`Flow::wait_all`] for the orders of `cart`.
    pub async fn wait_all_in(
        &self,
        cart: &CartId,
        ids: &[u64],
        status: OrderStatus,
        within: Duration,
    ) -> Vec<(u64, Option<OrderStatus>)> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let mut pending = Vec::new();
            for id in ids {
                let s = self.order_in(cart, *id).await.map(|o| o.status());
                if s != Some(status) {
                    pending.push((*id, s));
                }
            }
            if pending.is_empty() || tokio::time::Instant::now() > deadline {
                return pending;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.client.request(method, format!("{}{path}", self.address)).bearer_auth(ADMIN)
    }
}

/// Polls `check` every 100 ms until it holds or `within` has passed; whether it held.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if tokio::time::Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

impl Flow {
    /// POSTs an admin route and returns the status.
    pub async fn post_admin(&self, path: &str) -> reqwest::StatusCode {
        self.admin(reqwest::Method::POST, path).await.send().await.unwrap().status()
    }

    /// Waits until the recurring job `id` has finished a run: it is due again a long while
    /// (more than ten minutes) from now, as after every completed run of a 1 h schedule.
    pub async fn wait_recurring_idle(&self, id: &str, within: Duration) -> bool {
        let id = cartgate::store::JobId::parse(id).unwrap();
        eventually(within, || async {
            let now = self.deps.jobs.now().await.unwrap();
            let job = self.deps.jobs.job(&id).await.unwrap();
            job.is_some_and(|j| j.state == cartgate::store::JobState::Due && j.at > now + 600_000)
        })
        .await
    }

    /// Waits until the inventory sync that runs at start-up has finished. It releases held
    /// orders whose stock has arrived, so a test that releases them by hand waits for it first.
    pub async fn wait_startup_inventory_sync(&self) {
        let done = self.wait_recurring_idle("sync_inventory:acme", Duration::from_secs(30)).await;
        assert!(done, "the start-up inventory sync did not finish");
    }

    /// Whether none of these jobs is pending or running.
    pub async fn no_pending(&self, ids: &[String]) -> bool {
        for id in ids {
            let id = cartgate::store::JobId::parse(id).unwrap();
            if self.deps.jobs.job(&id).await.unwrap().is_some() {
                return false;
            }
        }
        true
    }
}
