//! The one world the console scenarios share: both simulators (3 units of each item, so an
//! order of 5 goes On Hold), cartgate on the test Redis, merchant `acme` with its cart, and a
//! second merchant `beta` (its upstreams unreachable) whose order `acme` must never see.

use std::time::Duration;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderStatus};
use cartgate::testkit::sims::SimOptions;
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret};
use cartgate::testkit::world::{World, WorldOptions};
use chrono::Utc;
use serde_json::Value;

pub const ADMIN: &str = "console-admin-token";
/// Orders stored straight into the ledger (never sent: no send job) have ids from here.
const STORED_FROM: u64 = 900_000;

pub struct ConsoleWorld {
    pub world: World,
    pub url: String,
    /// A token of merchant `acme`.
    pub merchant_token: String,
    pub http: reqwest::Client,
}

impl ConsoleWorld {
    pub async fn start() -> Self {
        let mut opts = WorldOptions {
            sims: SimOptions { items: 10, stock: 3, ..SimOptions::default() },
            ..WorldOptions::default()
        };
        opts.cartgate.store.url = cartgate::testkit::TestRedis::shared_url();
        opts.cartgate.server.admin_token = Some(WiredSecret::new(ADMIN));
        let nowhere: url::Url = "http://127.0.0.1:9".parse().unwrap();
        let mut beta = MerchantWiring::easypost(
            MerchantId::parse("beta").unwrap(),
            nowhere.clone(),
            WiredSecret::new("EZAK-beta"),
        );
        let mut cart = CartWiring::tradegecko(
            CartId::parse("beta-tg").unwrap(),
            nowhere,
            WiredSecret::new("t"),
            WiredSecret::new("s"),
        );
        cart.stock_location_id = Some(1);
        beta.carts.push(cart);
        opts.cartgate.merchants.push(beta);
        let world = World::start(opts).await.unwrap_or_else(|e| panic!("{e}"));
        let url = world.url();
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let resp = http
            .post(format!("{url}/admin/merchants/acme/tokens"))
            .bearer_auth(ADMIN)
            .json(&serde_json::json!({"name": "console tests"}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let merchant_token = resp.json::<Value>().await.unwrap()["token"].as_str().unwrap().to_owned();
        Self { world, url, merchant_token, http }
    }

    pub async fn stop(self) {
        self.world.shutdown().await;
    }

    /// Stores an order of `merchant`'s cart as just imported (`new`), with no send queued, so it
    /// stays `new` until someone acts on it. Returns its id.
    pub async fn store_new_order(&self, merchant: &str, n: u64, customer: &str) -> u64 {
        let id = STORED_FROM + n;
        let new = NewOrder {
            cart: CartId::parse(&format!("{merchant}-tg")).unwrap(),
            cart_order_id: id,
            order_number: format!("SO-{id}"),
            merchant: MerchantId::parse(merchant).unwrap(),
            destination: Destination { name: customer.to_owned(), ..Destination::default() },
            lines: vec![],
            ship_method: None,
        };
        let order = Order::new(new, Utc::now(), "imported");
        assert!(self.world.deps().ledger.orders.create(&order).await.unwrap());
        id
    }

    pub async fn order(&self, merchant: &str, id: u64) -> Option<Order> {
        let (m, c) = (MerchantId::parse(merchant).unwrap(), CartId::parse(&format!("{merchant}-tg")).unwrap());
        self.world.deps().ledger.orders.get(&m, &c, id).await.unwrap()
    }

    /// Waits (bounded) until `acme`'s order `id` is in `status`; its order when it is.
    pub async fn wait_status(&self, id: u64, status: OrderStatus, within: Duration) -> anyhow::Result<Order> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let order = self.order("acme", id).await;
            if let Some(o) = order.as_ref().filter(|o| o.status() == status) {
                return Ok(o.clone());
            }
            if tokio::time::Instant::now() > deadline {
                anyhow::bail!("order {id} is {:?}, not {status}, after {within:?}", order.map(|o| o.status()));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
