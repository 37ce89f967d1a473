//! Shopify's compliance erasure (issue 24): after `customers/redact` or `shop/redact` and its
//! job, no Redis value — any key, any type — holds the customer's name, street, e-mail or phone.

use std::time::Duration;

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order, OrderStatus};
use cartgate::store::JobKind;
use cartgate::testkit::TestRedis;
use cartgate::workers::Outcome;

use crate::shopify::{Delivery, spawn};
use crate::support::TestApp;

/// What must go: Jane's name, street, e-mail and phone (and what must stay: Bob's).
const JANE: [&str; 4] = ["Jane Quillfeather", "17 Elmwood Crescent", "jane.q@example.com", "+1 555 0100"];
const BOB: &str = "Bob Marchbanks";

fn destination(name: &str, street: &str, email: &str, phone: &str) -> Destination {
    Destination {
        name: name.into(),
        company: Some(format!("{name} Ltd")),
        street1: street.into(),
        street2: None,
        city: "Springfield".into(),
        state: Some("IL".into()),
        zip: "62704".into(),
        country: "US".into(),
        phone: Some(phone.into()),
        email: Some(email.into()),
    }
}

/// Stores order `id` of `cart` for `destination`; Jane's first order is in `error` with a
/// warehouse refusal that quotes her street.
async fn store_order(app: &TestApp, cart: &str, id: u64, destination: Destination) {
    let new = NewOrder {
        cart: CartId::parse(cart).unwrap(),
        cart_order_id: id,
        order_number: format!("#{id}"),
        merchant: MerchantId::parse("acme").unwrap(),
        destination,
        lines: vec![],
        ship_method: None,
    };
    let mut order = Order::new(new, chrono::Utc::now(), "imported");
    if id == 1001 {
        let why = format!("warehouse refused: cannot deliver to {}", JANE[1]);
        order.transition(OrderStatus::Error, &why, chrono::Utc::now()).unwrap();
    }
    assert!(app.deps.ledger.orders.create(&order).await.unwrap());
}

/// Every value of every key in the server (SCAN, then each type read whole), as one text.
async fn everything(redis: &TestRedis) -> String {
    let client = redis::Client::open(redis.url()).unwrap();
    let mut conn = client.get_multiplexed_async_connection().await.unwrap();
    let mut keys = Vec::new();
    let mut cursor = 0u64;
    loop {
        let (next, batch): (u64, Vec<String>) =
            redis::cmd("SCAN").arg(cursor).arg("COUNT").arg(500).query_async(&mut conn).await.unwrap();
        keys.extend(batch);
        if next == 0 {
            break;
        }
        cursor = next;
    }
    let mut out = String::new();
    for key in keys {
        let kind: String = redis::cmd("TYPE").arg(&key).query_async(&mut conn).await.unwrap();
        let values: Vec<Vec<u8>> = match kind.as_str() {
            "string" => vec![redis::cmd("GET").arg(&key).query_async(&mut conn).await.unwrap()],
            "hash" => redis::cmd("HGETALL").arg(&key).query_async(&mut conn).await.unwrap(),
            "list" => redis::cmd("LRANGE").arg(&key).arg(0).arg(-1).query_async(&mut conn).await.unwrap(),
            "set" => redis::cmd("SMEMBERS").arg(&key).query_async(&mut conn).await.unwrap(),
            "zset" => redis::cmd("ZRANGE").arg(&key).arg(0).arg(-1).query_async(&mut conn).await.unwrap(),
            "stream" => {
                redis::cmd("XRANGE").arg(&key).arg("-").arg("+").query_async(&mut conn).await.unwrap_or_default()
            }
            other => panic!("key {key} of type {other} not read"),
        };
        out.push_str(&key);
        for v in values {
            out.push('\n');
            out.push_str(&String::from_utf8_lossy(&v));
        }
        out.push('\n');
    }
    out.to_lowercase()
}

/// Claims the queued erasure job, runs it and acknowledges it.
async fn run_erasure(app: &TestApp) {
    let batch = app.store.jobs().claim(10, Duration::from_secs(30)).await.unwrap();
    let jobs: Vec<_> = batch.jobs.into_iter().filter(|j| j.kind == JobKind::ErasePersonalData).collect();
    assert_eq!(jobs.len(), 1, "one erasure job queued");
    let outcome = cartgate::workflows::jobs::erase_personal_data::run(&app.deps, &jobs[0]).await;
    assert_eq!(outcome, Outcome::Done);
    app.store.jobs().ack(&jobs[0].lease).await.unwrap();
}

async fn stored(app: &TestApp, cart: &str, id: u64) -> Order {
    let (m, c) = (MerchantId::parse("acme").unwrap(), CartId::parse(cart).unwrap());
    app.deps.ledger.orders.get(&m, &c, id).await.unwrap().unwrap()
}

#[tokio::test]
async fn customers_redact_leaves_no_trace_of_the_customer_in_any_redis_value() {
    let redis = TestRedis::start(false, None).unwrap();
    let app = spawn(redis.url()).await;
    let jane = |street: &str| destination(JANE[0], street, JANE[2], JANE[3]);
    store_order(&app, "acme-shop", 1001, jane(JANE[1])).await;
    // Not listed by Shopify, but the same e-mail (spelled differently): erased too.
    let mut other = jane(JANE[1]);
    other.email = Some("  JANE.Q@Example.COM ".into());
    store_order(&app, "acme-shop", 1002, other).await;
    store_order(&app, "acme-shop", 1003, destination(BOB, "1 Bobby Lane", "bob@example.com", "+1 555 0199")).await;
    let before = everything(&redis).await;
    for trace in JANE.iter().chain([&BOB]) {
        assert!(before.contains(&trace.to_lowercase()), "{trace} is stored before the erasure");
    }

    let body = br#"{"shop_id":954889,"shop_domain":"acme.myshopify.com","customer":{"id":191167,
        "email":"jane.q@example.com","phone":"+1 555 0100"},"orders_to_redact":[1001,4242]}"#;
    let (code, answer) = app.post_shopify("acme-shop", body, Delivery::new("customers/redact", "w-1")).await;
    assert_eq!((code, answer["status"].as_str()), (200, Some("accepted")));
    let queued = everything(&redis).await;
    let job_text: String =
        queued.lines().filter(|l| l.contains("erase_personal_data") || l.contains("191167")).collect();
    assert!(!job_text.contains("example.com") && !job_text.contains("555"), "the job holds no e-mail or phone");
    run_erasure(&app).await;

    let after = everything(&redis).await;
    for trace in JANE {
        assert!(!after.contains(&trace.to_lowercase()), "{trace} is still stored:\n{after}");
    }
    assert!(after.contains(&BOB.to_lowercase()), "another customer's order is untouched");
    let erased = stored(&app, "acme-shop", 1001).await;
    assert_eq!((erased.order_number.as_str(), erased.status()), ("#1001", OrderStatus::Error));
    assert_eq!((erased.destination.country.as_str(), erased.destination.state.as_deref()), ("US", Some("IL")));
    assert!(erased.timeline().last().unwrap().reason.contains("customers/redact"));
    assert_eq!(stored(&app, "acme-shop", 1002).await.destination.email, None);
}

#[tokio::test]
async fn shop_redact_erases_every_order_of_that_cart_and_no_other() {
    let redis = TestRedis::start(false, None).unwrap();
    let app = spawn(redis.url()).await;
    store_order(&app, "acme-shop", 1003, destination(JANE[0], JANE[1], JANE[2], JANE[3])).await;
    store_order(&app, "acme-shop", 1004, destination(BOB, "1 Bobby Lane", "bob@example.com", "+1 555 0199")).await;
    store_order(&app, "acme-custom", 7, destination("Carla Custom", "2 Other Road", "c@example.org", "+1 555 0142"))
        .await;

    let body = br#"{"shop_id":954889,"shop_domain":"acme.myshopify.com"}"#;
    assert_eq!(app.post_shopify("acme-shop", body, Delivery::new("shop/redact", "w-1")).await.0, 200);
    run_erasure(&app).await;

    let after = everything(&redis).await;
    for trace in [JANE[0], JANE[1], BOB, "bob@example.com"] {
        assert!(!after.contains(&trace.to_lowercase()), "{trace} is still stored");
    }
    assert!(after.contains("carla custom"), "the other cart's orders are not the shop's");
    assert_eq!(stored(&app, "acme-shop", 1004).await.order_number, "#1004");
}
