//! `GET|PUT /admin/carts/{c}/ship-methods`: the mapping saved into a stored cart, the methods
//! seen on recent orders, and the 400 / 404 / 409 answers.

use cartgate::domain::CartId;
use reqwest::Method;
use serde_json::{Value, json};

use crate::access::issue;
use crate::support::{ADMIN_TOKEN, spawn_app_with, two_merchants};
use crate::tenants::{cart_body, merchant_body, wiring};

const PATH: &str = "/admin/carts/shop-tg/ship-methods";

fn problem_keys(body: &Value) -> Vec<String> {
    let list = body["error"]["problems"].as_array().cloned().unwrap_or_default();
    list.iter().map(|p| p["key"].as_str().unwrap_or_default().to_owned()).collect()
}

#[tokio::test]
async fn a_mapping_is_saved_into_the_stored_cart_and_shown_with_the_methods_seen_recently() {
    let app = spawn_app_with(&wiring("memory://")).await;
    app.put("/admin/merchants/shop", merchant_body("s1")).await;
    app.put("/admin/merchants/shop/carts/shop-tg", cart_body("s1", "hook")).await;
    let (code, before) = app.show(PATH).await;
    assert_eq!(code, 200, "{before}");
    let defaults = json!({"map": {}, "default": {"service": "standard"}, "reject_unmapped": false, "seen": []});
    assert_eq!(before, defaults, "absent: everything goes standard, as before");

    let cart = CartId::parse("shop-tg").unwrap();
    let now = chrono::Utc::now();
    for label in ["Express", "express ", "Express", "Pigeon"] {
        app.deps
            .ledger
            .ship_methods
            .seen(&cartgate::domain::MerchantId::parse("shop").unwrap(), &cart, label, now)
            .await
            .unwrap();
    }
    let table = json!({
        "map": {"Express": {"service": "express"},
                "Overnight": {"service": "overnight", "delivery_confirmation": "signature"}},
        "default": {"service": "standard"},
        "reject_unmapped": true
    });
    let (code, saved) = app.put(PATH, table.clone()).await;
    assert_eq!(code, 200, "{saved}");
    assert_eq!(saved["requeued_orders"], 0);
    assert_eq!(saved["map"], table["map"]);

    let (_, shown) = app.show(PATH).await;
    assert_eq!((&shown["map"], &shown["reject_unmapped"]), (&table["map"], &json!(true)));
    assert_eq!(
        shown["seen"],
        json!([
            {"label": "Express", "orders": 3, "mapped": true, "service": "express"},
            {"label": "Pigeon", "orders": 1, "mapped": false, "service": null}
        ]),
        "an unmapped method is listed too, with no service while unmapped methods are rejected"
    );
    let (_, methods) = app.deps.tenants.cart("shop-tg").map(|(_, c)| ((), c.ship_methods.clone())).unwrap();
    assert_eq!(methods.mapped("OVERNIGHT").map(|s| s.delivery_confirmation.clone()), Some(Some("signature".into())));
    let (_, audit) = app.show("/admin/merchants/shop/audit?limit=5").await;
    let entry = audit["entries"].as_array().and_then(|e| e.first()).cloned().unwrap_or(Value::Null);
    assert_eq!((entry["action"].as_str(), entry["target"].as_str()), (Some("ship_methods.put"), Some("cart shop-tg")));
}

#[tokio::test]
async fn a_bad_body_is_400_with_a_clear_message_and_nothing_is_saved() {
    let app = spawn_app_with(&wiring("memory://")).await;
    app.put("/admin/merchants/shop", merchant_body("s2")).await;
    app.put("/admin/merchants/shop/carts/shop-tg", cart_body("s2", "hook")).await;

    let (code, body) = app.put(PATH, json!({"map": {"Express": {"service": " "}}})).await;
    assert_eq!((code, body["error"]["code"].as_str()), (400, Some("invalid_settings")), "{body}");
    assert_eq!(problem_keys(&body), ["ship_methods.map.Express.service"]);
    let (code, body) = app.put(PATH, json!({"mapping": {}})).await;
    assert_eq!(code, 400, "{body}");
    let message = body["error"]["problems"][0]["message"].as_str().unwrap_or_default();
    assert!(message.contains("mapping"), "names the unknown field: {body}");
    let (code, body) = app.put(PATH, json!({"map": {"Express": {}}})).await;
    assert!(code == 400 && body.to_string().contains("service"), "{code} {body}");
    assert_eq!(app.put(PATH, json!(["Express"])).await.0, 400);
    assert_eq!(app.put(PATH, json!({"reject_unmapped": "yes"})).await.0, 400);
    let resp = app.client.put(app.url(PATH)).bearer_auth(ADMIN_TOKEN).header("content-type", "application/json");
    let resp = resp.body("{not json").send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 400);

    let (_, shown) = app.show(PATH).await;
    assert_eq!(shown["map"], json!({}), "nothing was saved: {shown}");

    // The cart's own routes check the table with the same rules.
    let mut cart = cart_body("s2", "hook");
    cart["ship_methods"] = json!({"default": {"service": ""}});
    let (code, body) = app.put("/admin/merchants/shop/carts/shop-tg", cart).await;
    assert_eq!((code, problem_keys(&body)), (400, vec!["ship_methods.default.service".to_owned()]), "{body}");
}

#[tokio::test]
async fn unknown_carts_and_other_merchants_carts_are_404_and_the_files_carts_are_409() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let body = json!({"map": {"Express": {"service": "express"}}});
    assert_eq!(app.show("/admin/carts/nope/ship-methods").await.0, 404);
    assert_eq!(app.put("/admin/carts/nope/ship-methods", body.clone()).await.0, 404);
    let (code, answer) = app.put("/admin/carts/acme-tg/ship-methods", body.clone()).await;
    assert_eq!((code, answer["error"]["code"].as_str()), (409, Some("managed_by_config")), "{answer}");

    let (_, beta) = issue(&app, "beta").await;
    for method in [Method::GET, Method::PUT] {
        let req = app.client.request(method.clone(), app.url("/admin/carts/acme-tg/ship-methods")).bearer_auth(&beta);
        let resp = req.json(&body).send().await.unwrap();
        let status = resp.status().as_u16();
        let answer: Value = resp.json().await.unwrap();
        assert_eq!((status, answer["error"]["code"].as_str()), (404, Some("not_found")), "{method} {answer}");
    }
    let (_, acme) = issue(&app, "acme").await;
    let resp = app.client.get(app.url("/admin/carts/acme-tg/ship-methods")).bearer_auth(&acme).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 200, "the owning merchant's token reads it");
}
