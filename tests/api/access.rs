//! The access matrix: every admin route against the operator, merchant A's token, merchant
//! B's token, a revoked token and no token. A route added later is one row of [`ROUTES`].

use std::net::{IpAddr, Ipv4Addr};

use cartgate::domain::{CartId, Destination, MerchantId, NewOrder, Order};
use chrono::Utc;
use reqwest::Method;
use serde_json::Value;

use crate::support::{ADMIN_TOKEN, TestApp, spawn_app_with, two_merchants};

/// Who is asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Operator,
    /// A token of `acme`, whose resources every [`Class::Acme`] row names.
    TokenA,
    /// A token of `beta`.
    TokenB,
    Revoked,
    Nobody,
}

const EVERYONE: [Who; 5] = [Who::Operator, Who::TokenA, Who::TokenB, Who::Revoked, Who::Nobody];

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Operator => "operator",
            Who::TokenA => "a",
            Who::TokenB => "b",
            Who::Revoked => "revoked",
            Who::Nobody => "nobody",
        }
    }
}

/// What a route acts on, as far as access goes.
#[derive(Debug, Clone, Copy)]
enum Class {
    OperatorOnly,
    /// One of merchant `acme`'s resources.
    Acme,
    /// A listing a merchant sees narrowed to its own.
    Listing,
}

/// One admin route: `{who}` in the path is the asker's label, `{spare}` a token id of its own
/// to revoke, `{alert}` an alert of `acme`'s. `ok` is the answer of anyone allowed.
struct Route {
    method: &'static str,
    path: &'static str,
    body: Option<&'static str>,
    class: Class,
    ok: u16,
}

const fn route(method: &'static str, path: &'static str, class: Class, ok: u16) -> Route {
    Route { method, path, body: None, class, ok }
}

const ALIASES: &str = r#"[{"sku":"del-operator","barcode":"1"},{"sku":"del-a","barcode":"2"}]"#;

const ROUTES: &[Route] = &[
    route("GET", "/admin/config", Class::OperatorOnly, 200),
    route("GET", "/admin/queues", Class::OperatorOnly, 200),
    route("GET", "/admin/dead-letters", Class::OperatorOnly, 200),
    Route { body: Some(r#"{"limit":0}"#), ..route("POST", "/admin/dead-letters/redrive", Class::OperatorOnly, 200) },
    route("GET", "/admin/orders", Class::Listing, 200),
    route("GET", "/admin/carts/acme-tg/orders/7", Class::Acme, 200),
    route("POST", "/admin/carts/acme-tg/orders/7/cancel-sending", Class::Acme, 200),
    route("POST", "/admin/carts/acme-tg/orders/7/resend", Class::Acme, 202),
    route("POST", "/admin/merchants/acme/holds/release", Class::Acme, 200),
    route("GET", "/admin/merchants/acme/aliases", Class::Acme, 200),
    Route { body: Some(ALIASES), ..route("PUT", "/admin/merchants/acme/aliases", Class::Acme, 200) },
    route("DELETE", "/admin/merchants/acme/aliases/del-{who}", Class::Acme, 200),
    route("POST", "/admin/merchants/acme/wms/test", Class::Acme, 200),
    route("POST", "/admin/carts/acme-tg/test", Class::Acme, 200),
    route("POST", "/admin/carts/acme-tg/sync/orders", Class::Acme, 202),
    route("POST", "/admin/merchants/acme/sync/shipments", Class::Acme, 202),
    route("POST", "/admin/merchants/acme/sync/inventory", Class::Acme, 202),
    Route { body: Some(r#"{"name":"matrix"}"#), ..route("POST", "/admin/merchants/acme/tokens", Class::Acme, 201) },
    route("GET", "/admin/merchants/acme/tokens", Class::Acme, 200),
    route("DELETE", "/admin/merchants/acme/tokens/{spare}", Class::Acme, 204),
    route("GET", "/admin/merchants/acme/audit?limit=5", Class::Acme, 200),
    route("GET", "/admin/merchants/acme/alerts?state=open&limit=5", Class::Acme, 200),
    route("POST", "/admin/merchants/acme/alerts/{alert}/ack", Class::Acme, 200),
    route("GET", "/admin/merchants", Class::Listing, 200),
    route("GET", "/admin/merchants/acme", Class::Acme, 200),
    Route { body: Some(NEW_MERCHANT), ..route("PUT", "/admin/merchants/new-{who}", Class::OperatorOnly, 201) },
    // `acme` comes from the configuration file: writing it is refused to everyone allowed.
    Route { body: Some(r#"{"wms":{"test_mode":true}}"#), ..route("PATCH", "/admin/merchants/acme", Class::Acme, 409) },
    route("DELETE", "/admin/merchants/new-{who}", Class::OperatorOnly, 204),
    route("GET", "/admin/merchants/acme/carts/acme-tg", Class::Acme, 200),
    Route { body: Some(NEW_CART), ..route("PUT", "/admin/merchants/acme/carts/new-{who}", Class::Acme, 409) },
    Route {
        body: Some(r#"{"item_field":"sku"}"#),
        ..route("PATCH", "/admin/merchants/acme/carts/acme-tg", Class::Acme, 409)
    },
    route("DELETE", "/admin/merchants/acme/carts/acme-tg", Class::Acme, 409),
    Route {
        body: Some(CANDIDATE_CART),
        ..route("POST", "/admin/merchants/acme/carts/new-{who}/test", Class::Acme, 200)
    },
    route("POST", "/admin/tenants/rekey", Class::OperatorOnly, 200),
    route("GET", "/admin/carts/acme-tg/ship-methods", Class::Acme, 200),
    // `acme-tg` comes from the configuration file: its mapping is read-only here.
    Route { body: Some(SHIP_METHODS), ..route("PUT", "/admin/carts/acme-tg/ship-methods", Class::Acme, 409) },
    // `acme-tg` has a fixed token (auth = "token"): Connect is refused to everyone allowed.
    route("POST", "/admin/carts/acme-tg/connect", Class::Acme, 409),
];

const SHIP_METHODS: &str = r#"{"map":{"Express":{"service":"express"}},"reject_unmapped":true}"#;

const NEW_MERCHANT: &str =
    r#"{"wms":{"kind":"easypost","base_url":"http://127.0.0.1:9","production_api_key":"EZAK-matrix"}}"#;
const NEW_CART: &str =
    r#"{"kind":"tradegecko","base_url":"http://127.0.0.1:9","access_token":"t","client_secret":"s"}"#;
const CANDIDATE_CART: &str =
    r#"{"cart":{"kind":"tradegecko","base_url":"http://127.0.0.1:9","access_token":"t","client_secret":"s"}}"#;

/// What `who` must get from a route of `class` whose allowed answer is `ok`.
#[derive(Debug, PartialEq)]
enum Expect {
    Status(u16),
    /// 404 exactly as for a merchant or cart that does not exist.
    Hidden,
}

fn expected(who: Who, class: Class, ok: u16) -> Expect {
    match (who, class) {
        (Who::Revoked | Who::Nobody, _) => Expect::Status(401),
        (Who::Operator, _) => Expect::Status(ok),
        (Who::TokenA | Who::TokenB, Class::OperatorOnly) => Expect::Status(403),
        (Who::TokenA, Class::Acme) | (Who::TokenA | Who::TokenB, Class::Listing) => Expect::Status(ok),
        (Who::TokenB, Class::Acme) => Expect::Hidden,
    }
}

/// A token for `merchant`, issued by the operator: `(id, token)`.
pub async fn issue(app: &TestApp, merchant: &str) -> (String, String) {
    let resp = app
        .client
        .post(app.url(&format!("/admin/merchants/{merchant}/tokens")))
        .bearer_auth(ADMIN_TOKEN)
        .json(&serde_json::json!({"name": "issued by a test"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let body: Value = resp.json().await.unwrap();
    (body["id"].as_str().unwrap().to_owned(), body["token"].as_str().unwrap().to_owned())
}

/// Stores an order `id` of `cart` in the app's ledger.
pub async fn store_order(app: &TestApp, cart: &str, id: u64, merchant: &str) {
    let new = NewOrder {
        cart: CartId::parse(cart).unwrap(),
        cart_order_id: id,
        order_number: format!("SO{id}"),
        merchant: MerchantId::parse(merchant).unwrap(),
        destination: Destination::default(),
        lines: vec![],
        ship_method: None,
    };
    assert!(app.deps.ledger.orders.create(&Order::new(new, Utc::now(), "imported")).await.unwrap());
}

/// A client whose requests come from `127.0.<subnet>.<host>`: failed authentications are
/// counted per source address, and a matrix makes many on purpose.
pub fn client_from(subnet: u8, host: u8) -> reqwest::Client {
    let from = IpAddr::V4(Ipv4Addr::new(127, 0, subnet, host));
    reqwest::Client::builder().local_address(from).build().unwrap()
}

#[tokio::test]
async fn every_admin_route_answers_each_principal_as_specified() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    store_order(&app, "acme-tg", 7, "acme").await;
    let token_a = issue(&app, "acme").await.1;
    let token_b = issue(&app, "beta").await.1;
    let (revoked_id, revoked) = issue(&app, "acme").await;
    let gone = app.client.delete(app.url(&format!("/admin/merchants/acme/tokens/{revoked_id}")));
    assert_eq!(gone.bearer_auth(ADMIN_TOKEN).send().await.unwrap().status(), 204);
    let spares = [issue(&app, "acme").await.0, issue(&app, "acme").await.0];
    let alert = crate::alerts::raise_one(&app, "acme").await;

    let mut wrong = Vec::new();
    for (row, r) in ROUTES.iter().enumerate() {
        let client = client_from(2, u8::try_from(row + 1).unwrap());
        for who in EVERYONE {
            let spare = match who {
                Who::Operator => spares[0].as_str(),
                Who::TokenA => spares[1].as_str(),
                _ => "0000000000000000",
            };
            let path = r.path.replace("{who}", who.label()).replace("{spare}", spare).replace("{alert}", &alert);
            let mut req = client.request(Method::from_bytes(r.method.as_bytes()).unwrap(), app.url(&path));
            req = match who {
                Who::Operator => req.bearer_auth(ADMIN_TOKEN),
                Who::TokenA => req.bearer_auth(&token_a),
                Who::TokenB => req.bearer_auth(&token_b),
                Who::Revoked => req.bearer_auth(&revoked),
                Who::Nobody => req,
            };
            if let Some(body) = r.body {
                req = req.header("content-type", "application/json").body(body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let got = match body["error"]["message"].as_str() {
                Some("unknown merchant `acme`" | "unknown cart `acme-tg`") if status == 404 => Expect::Hidden,
                _ => Expect::Status(status),
            };
            let want = expected(who, r.class, r.ok);
            if got != want {
                wrong.push(format!("{} {path} as {who:?}: got {got:?} {body}, want {want:?}", r.method));
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers differ:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn a_merchant_token_lists_only_its_own_orders() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    store_order(&app, "acme-tg", 7, "acme").await;
    store_order(&app, "beta-tg", 8, "beta").await;
    let token_a = issue(&app, "acme").await.1;
    let list = |query: &'static str, token: String| {
        let req = app.client.get(app.url(&format!("/admin/orders{query}"))).bearer_auth(token);
        async move {
            let body: Value = req.send().await.unwrap().json().await.unwrap();
            body["orders"].as_array().unwrap().iter().map(|o| o["cart_order_id"].as_u64().unwrap()).collect::<Vec<_>>()
        }
    };
    assert_eq!(list("", ADMIN_TOKEN.into()).await, [7, 8]);
    assert_eq!(list("", token_a.clone()).await, [7]);
    assert!(list("?merchant=beta", token_a.clone()).await.is_empty());
    assert!(list("?cart=beta-tg", token_a.clone()).await.is_empty());
    let other = app.client.get(app.url("/admin/carts/beta-tg/orders/8")).bearer_auth(&token_a).send().await.unwrap();
    assert_eq!(other.status(), 404);
}

/// Every `#[get|post|put|patch|delete("/admin/…")]` in `src/http/`, as (method, pattern).
fn admin_routes_in_source() -> Vec<(String, String)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut found = Vec::new();
    for file in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        for line in text.lines().map(str::trim) {
            for method in ["get", "post", "put", "patch", "delete"] {
                if let Some(rest) = line.strip_prefix(&format!("#[{method}(\"/admin"))
                    && let Some((tail, _)) = rest.split_once('"')
                {
                    found.push((method.to_uppercase(), format!("/admin{tail}")));
                }
            }
        }
    }
    found
}

/// Whether a row's concrete path is an instance of a route pattern (`{x}` matches a segment).
fn instance_of(path: &str, pattern: &str) -> bool {
    let path = path.split('?').next().unwrap_or(path);
    let (p, q): (Vec<_>, Vec<_>) = (path.split('/').collect(), pattern.split('/').collect());
    p.len() == q.len() && p.iter().zip(&q).all(|(a, b)| a == b || b.starts_with('{'))
}

#[test]
fn the_matrix_has_a_row_for_every_admin_route() {
    let routes = admin_routes_in_source();
    assert!(routes.len() >= ROUTES.len(), "found {} routes in src/http", routes.len());
    let missing: Vec<_> = routes
        .iter()
        .filter(|(method, pattern)| !ROUTES.iter().any(|r| r.method == method && instance_of(r.path, pattern)))
        .collect();
    assert!(missing.is_empty(), "add a row to ROUTES for: {missing:?}");
}
