//! The console's access matrix: every console route against the operator's session, merchant
//! A's, merchant B's, a session whose token was revoked, and none — the admin API's rules
//! (`http/access.rs`), answered as pages. A route added later is one row of [`ROUTES`].

use cartgate::domain::{CartId, MerchantId, OrderStatus};
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;

use crate::access::{issue, store_order};
use crate::support::{ADMIN_TOKEN, TestApp, spawn_app_with, two_merchants};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Operator,
    TokenA,
    TokenB,
    Revoked,
    Nobody,
}

#[derive(Debug, Clone, Copy)]
enum Class {
    /// The operator's page: a merchant's session gets 403.
    OperatorOnly,
    /// One of merchant `acme`'s pages.
    Acme,
    /// A listing a merchant sees narrowed to its own.
    Listing,
}

/// `{who}` in a path or form is the asker's label (each removes an alias of its own),
/// `{alert}` an open alert of `acme`'s, `{spare}` a token of `acme`'s for the asker to revoke.
struct Route {
    method: &'static str,
    path: &'static str,
    form: Option<&'static str>,
    class: Class,
    ok: u16,
}

const fn get(path: &'static str, class: Class) -> Route {
    Route { method: "GET", path, form: None, class, ok: 200 }
}

const fn post(path: &'static str, form: &'static str, ok: u16) -> Route {
    Route { method: "POST", path, form: Some(form), class: Class::Acme, ok }
}

const ROUTES: &[Route] = &[
    get("/console/orders", Class::Listing),
    get("/console/orders?merchant=acme&status=new", Class::Listing),
    get("/console/carts/acme-tg/orders/7", Class::Acme),
    post("/console/carts/acme-tg/orders/7/cancel-sending", "", 303),
    post("/console/carts/acme-tg/orders/7/resend", "", 303),
    get("/console/m/acme/holds", Class::Acme),
    post("/console/m/acme/holds/release", "", 200),
    get("/console/m/acme/aliases", Class::Acme),
    post("/console/m/acme/aliases", "sku=added-{who}&barcode=1", 200),
    post("/console/m/acme/aliases/remove", "sku=del-{who}", 200),
    get("/console/m/acme/wms", Class::Acme),
    post("/console/m/acme/wms", "action=test", 200),
    get("/console/m/acme/carts", Class::Acme),
    post("/console/carts/acme-tg/test", "", 200),
    // `acme-tg` has a fixed token: Connect is refused to everyone allowed (409 page).
    post("/console/carts/acme-tg/connect", "", 409),
    post("/console/carts/acme-tg/ship-methods", "label=Express&service=express", 200),
    get("/console/m/acme/alerts", Class::Acme),
    post("/console/m/acme/alerts/{alert}/ack", "", 200),
    get("/console/m/acme/tokens", Class::Acme),
    post("/console/m/acme/tokens", "name=matrix", 200),
    post("/console/m/acme/tokens/{spare}/revoke", "", 200),
    get("/console/operator", Class::OperatorOnly),
    Route { class: Class::OperatorOnly, ..post("/console/operator/redrive", "limit=0", 200) },
    Route {
        class: Class::OperatorOnly,
        ..post("/console/operator/merchants", "id=new-{who}&production_api_key=EZAK-matrix", 200)
    },
];

/// A signed-in browser: its cookie header and its CSRF token.
struct Session {
    cookie: String,
    csrf: String,
}

fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(Policy::none()).build().unwrap()
}

async fn sign_in(app: &TestApp, token: &str) -> Session {
    let resp = client().post(app.url("/console/sign-in")).form(&[("token", token)]).send().await.unwrap();
    assert_eq!(resp.status(), 303, "sign-in with a good token");
    let set = resp.headers()[SET_COOKIE].to_str().unwrap();
    let cookie = set.split(';').next().unwrap().to_owned();
    let page = client().get(app.url("/console/orders")).header(COOKIE, &cookie).send().await.unwrap();
    let html = page.text().await.unwrap();
    let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|t| t.split('"').next()).unwrap().to_owned();
    Session { cookie, csrf }
}

fn expected(who: Who, class: Class, ok: u16) -> u16 {
    match (who, class) {
        (Who::Revoked | Who::Nobody, _) => 303,
        (Who::TokenA | Who::TokenB, Class::OperatorOnly) => 403,
        (Who::Operator | Who::TokenA, _) | (Who::TokenB, Class::Listing) => ok,
        (Who::TokenB, Class::Acme) => 404,
    }
}

#[tokio::test]
async fn every_console_route_answers_each_session_as_the_admin_api_does() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    store_order(&app, "acme-tg", 7, "acme").await;
    let aliases =
        ["operator", "a"].map(|who| cartgate::ledger::Alias { sku: format!("del-{who}"), barcode: "1".into() });
    app.deps.ledger.aliases.upsert("acme", &aliases).await.unwrap();
    let alert = crate::alerts::raise_one(&app, "acme").await;
    let spares = [issue(&app, "acme").await.0, issue(&app, "acme").await.0];
    let (a, b) = (issue(&app, "acme").await.1, issue(&app, "beta").await.1);
    let (revoked_id, revoked) = issue(&app, "acme").await;
    let sessions = [
        (Who::Operator, Some(sign_in(&app, ADMIN_TOKEN).await)),
        (Who::TokenA, Some(sign_in(&app, &a).await)),
        (Who::TokenB, Some(sign_in(&app, &b).await)),
        (Who::Revoked, Some(sign_in(&app, &revoked).await)),
        (Who::Nobody, None),
    ];
    let gone = app.client.delete(app.url(&format!("/admin/merchants/acme/tokens/{revoked_id}")));
    assert_eq!(gone.bearer_auth(ADMIN_TOKEN).send().await.unwrap().status(), 204);

    let mut wrong = Vec::new();
    for r in ROUTES {
        for (who, session) in &sessions {
            let label = if *who == Who::Operator { "operator" } else { "a" };
            let spare = match who {
                Who::Operator => spares[0].as_str(),
                Who::TokenA => spares[1].as_str(),
                _ => "0000000000000000",
            };
            let path = r.path.replace("{who}", label).replace("{alert}", &alert).replace("{spare}", spare);
            let mut req = client().request(r.method.parse().unwrap(), app.url(&path));
            if let Some(s) = session {
                req = req.header(COOKIE, &s.cookie);
            }
            if let Some(form) = r.form {
                let csrf = session.as_ref().map_or("", |s| s.csrf.as_str());
                let body = format!("csrf={csrf}&{}", form.replace("{who}", label));
                req = req.header("content-type", "application/x-www-form-urlencoded").body(body);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status().as_u16();
            let location = resp.headers().get(LOCATION).map(|l| l.to_str().unwrap().to_owned());
            let body = resp.text().await.unwrap();
            let want = expected(*who, r.class, r.ok);
            let hidden_as_missing = body.contains("unknown merchant `acme`") || body.contains("unknown cart `acme-tg`");
            let fine = status == want
                && (want != 404 || hidden_as_missing)
                && (want != 303 || r.ok == 303 || location.as_deref() == Some("/console/"));
            if !fine {
                wrong.push(format!("{} {path} as {who:?}: got {status} {location:?}, want {want}", r.method));
            }
        }
    }
    assert!(wrong.is_empty(), "{} answers differ:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test]
async fn a_console_post_without_its_csrf_token_is_refused_before_anything_happens() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    store_order(&app, "acme-tg", 7, "acme").await;
    let session = sign_in(&app, &issue(&app, "acme").await.1).await;
    let other = sign_in(&app, &issue(&app, "acme").await.1).await;
    for r in ROUTES.iter().filter(|r| r.method == "POST") {
        for body in [String::new(), "csrf=".into(), format!("csrf={}", other.csrf)] {
            let path = r.path.replace("{alert}", "a1").replace("{spare}", "t1");
            let req = client().post(app.url(&path)).header(COOKIE, &session.cookie);
            let resp = req.header("content-type", "application/x-www-form-urlencoded").body(body.clone()).send().await;
            let resp = resp.unwrap();
            assert_eq!(resp.status(), 403, "{} with {body:?}", r.path);
            assert!(resp.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        }
    }
    let (acme, cart) = (MerchantId::parse("acme").unwrap(), CartId::parse("acme-tg").unwrap());
    let order = app.deps.ledger.orders.get(&acme, &cart, 7).await.unwrap().unwrap();
    assert_eq!(order.status(), OrderStatus::New, "nothing was done");
}

#[tokio::test]
async fn the_operator_adds_a_merchant_with_its_key_sealed_and_never_overwrites_one() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let operator = sign_in(&app, ADMIN_TOKEN).await;
    let add = |id: &str| {
        let body = format!("csrf={}&id={id}&production_api_key=EZAK-new-key-1234", operator.csrf);
        let req = client().post(app.url("/console/operator/merchants")).header(COOKIE, &operator.cookie);
        req.header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let page = add("gamma").await.unwrap().text().await.unwrap();
    assert!(page.contains("Merchant gamma added"), "{page}");
    assert!(!page.contains("EZAK-new-key-1234"), "the key is never shown back");
    let gamma = app.client.get(app.url("/admin/merchants/gamma")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(gamma.status(), 200);
    let view: serde_json::Value = gamma.json().await.unwrap();
    assert_eq!(view["wms"]["production_api_key"]["last4"], "1234", "{view}");

    let before = app.client.get(app.url("/admin/merchants/acme")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    let before: serde_json::Value = before.json().await.unwrap();
    let again = add("acme").await.unwrap().text().await.unwrap();
    assert!(again.contains("exists already"), "{again}");
    let after = app.client.get(app.url("/admin/merchants/acme")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
    assert_eq!(after.json::<serde_json::Value>().await.unwrap()["wms"], before["wms"], "acme untouched");
    let bad = add("no%20spaces").await.unwrap().text().await.unwrap();
    assert!(bad.contains("merchant id"), "{bad}");

    // Its schedule (steps 2 and 3) is saved from WMS Setup; a value that is no interval is not.
    let save = |form: &'static str| {
        let body = format!("csrf={}&action=save&{form}", operator.csrf);
        let req = client().post(app.url("/console/m/gamma/wms")).header(COOKIE, &operator.cookie);
        req.header("content-type", "application/x-www-form-urlencoded").body(body).send()
    };
    let schedule = || async {
        let resp = app.client.get(app.url("/admin/merchants/gamma")).bearer_auth(ADMIN_TOKEN).send().await.unwrap();
        resp.json::<serde_json::Value>().await.unwrap()["schedule"].clone()
    };
    assert!(save("order_delivery=30m").await.unwrap().text().await.unwrap().contains("Saved."));
    assert_eq!(schedule().await["order_delivery"], "30m");
    let refused = save("order_delivery=soon").await.unwrap().text().await.unwrap();
    assert!(refused.contains("Not saved"), "{refused}");
    assert_eq!(schedule().await["order_delivery"], "30m", "unchanged");
}

/// A `multipart/form-data` body with the CSRF field and a CSV file, as the upload form sends it.
fn upload_body(csrf: &str, csv: &str) -> (String, String) {
    let b = "cgboundary7MA4YWxk";
    let body = format!(
        "--{b}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n\
         --{b}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\nContent-Type: text/csv\r\n\r\n{csv}\r\n--{b}--\r\n"
    );
    (format!("multipart/form-data; boundary={b}"), body)
}

#[tokio::test]
async fn the_csv_upload_follows_the_same_rules() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let (a, b) = (sign_in(&app, &issue(&app, "acme").await.1).await, sign_in(&app, &issue(&app, "beta").await.1).await);
    let operator = sign_in(&app, ADMIN_TOKEN).await;
    let upload = |s: &Session, csrf: &str, csv: &str| {
        let (content_type, body) = upload_body(csrf, csv);
        let req = client().post(app.url("/console/m/acme/aliases/upload")).header(COOKIE, &s.cookie);
        req.header("content-type", content_type).body(body).send()
    };
    let good = "sku,barcode\nUP-1,111\n";
    assert_eq!(upload(&a, &a.csrf, good).await.unwrap().status(), 200);
    assert_eq!(upload(&operator, &operator.csrf, good).await.unwrap().status(), 200);
    let other = upload(&b, &b.csrf, good).await.unwrap();
    assert_eq!(other.status(), 404);
    assert!(other.text().await.unwrap().contains("unknown merchant `acme`"));
    assert_eq!(upload(&a, "", good).await.unwrap().status(), 403, "no CSRF token");
    assert_eq!(upload(&a, &b.csrf, good).await.unwrap().status(), 403, "another session's token");
    let bad = upload(&a, &a.csrf, "sku,barcode\nUP-2,222\nUP-3,\n").await.unwrap();
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("line 3"));
    let stored = app.deps.ledger.aliases.all("acme").await.unwrap();
    assert_eq!(stored.iter().map(|x| x.sku.as_str()).collect::<Vec<_>>(), ["UP-1"], "nothing of a refused upload");
}

#[tokio::test]
async fn a_wrong_token_gets_the_sign_in_page_again_and_guessing_is_slowed() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let from = crate::access::client_from(9, 1);
    for n in 0..10 {
        let guess = [("token", format!("cgt_guess{n}"))];
        let resp = from.post(app.url("/console/sign-in")).form(&guess).send().await.unwrap();
        assert_eq!(resp.status(), 401);
        assert!(resp.headers().get(SET_COOKIE).is_none());
        assert!(resp.text().await.unwrap().contains("That token is not valid."));
    }
    let right = [("token", ADMIN_TOKEN)];
    let blocked = from.post(app.url("/console/sign-in")).form(&right).send().await.unwrap();
    assert_eq!(blocked.status(), 429, "the right token waits out the window too");
    let elsewhere =
        crate::access::client_from(9, 2).post(app.url("/console/sign-in")).form(&right).send().await.unwrap();
    assert!(
        elsewhere.status().is_redirection() || elsewhere.status() == 200,
        "another address: {}",
        elsewhere.status()
    );
}
