//! `GET /admin/merchants/{m}/alerts` and `POST …/alerts/{id}/ack`: states, limits, other
//! merchants, idempotent acknowledgement, the audit entry — and no secret in any of it.

use cartgate::alerts::AlertKind;
use cartgate::domain::MerchantId;
use reqwest::Method;
use serde_json::Value;

use crate::access::issue;
use crate::support::{ADMIN_TOKEN, TestApp, spawn_app_with, two_merchants};

/// Raises one `jobs_dead` alert for `merchant` and returns its id.
pub async fn raise_one(app: &TestApp, merchant: &str) -> String {
    let m = MerchantId::parse(merchant).unwrap();
    app.deps.alerts.raise(&m, AlertKind::JobsDead, "send_order", "a send_order job gave up", None).await.unwrap();
    let open = app.deps.alerts.list(&m, cartgate::alerts::StateFilter::Any, 1).await.unwrap();
    open[0].id.clone()
}

async fn call(app: &TestApp, method: Method, path: &str, token: &str) -> (u16, Value) {
    let resp = app.client.request(method, app.url(path)).bearer_auth(token).send().await.unwrap();
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn alerts_list_by_state_newest_first_and_refuse_a_bad_state_or_limit() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let acme = MerchantId::parse("acme").unwrap();
    let first = raise_one(&app, "acme").await;
    let account = "easypost:acme:production";
    app.deps.alerts.credentials_rejected(&acme, account).await.unwrap();
    app.deps.alerts.credentials_accepted(&acme, account).await.unwrap();

    let (status, all) = call(&app, Method::GET, "/admin/merchants/acme/alerts", ADMIN_TOKEN).await;
    assert_eq!(status, 200, "{all}");
    let kinds: Vec<&str> = all["alerts"].as_array().unwrap().iter().map(|a| a["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["credentials_rejected", "jobs_dead"], "newest first");
    let (_, open) = call(&app, Method::GET, "/admin/merchants/acme/alerts?state=open", ADMIN_TOKEN).await;
    assert_eq!(open["alerts"][0]["id"], first.as_str());
    assert_eq!(open["alerts"].as_array().unwrap().len(), 1);
    let (_, resolved) =
        call(&app, Method::GET, "/admin/merchants/acme/alerts?state=resolved&limit=1", ADMIN_TOKEN).await;
    assert_eq!(resolved["alerts"][0]["subject"], account);
    assert_eq!(resolved["alerts"][0]["state"], "resolved");
    assert!(resolved["alerts"][0]["resolved_at"].is_string());

    for bad in ["state=closed", "limit=0", "limit=501", "limit=many"] {
        let (status, body) = call(&app, Method::GET, &format!("/admin/merchants/acme/alerts?{bad}"), ADMIN_TOKEN).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{bad}: {body}");
    }
}

#[tokio::test]
async fn ack_is_idempotent_audited_and_404_for_unknown_alerts_and_other_merchants() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let id = raise_one(&app, "acme").await;
    let token_a = issue(&app, "acme").await.1;
    let token_b = issue(&app, "beta").await.1;
    let ack = format!("/admin/merchants/acme/alerts/{id}/ack");

    let (status, first) = call(&app, Method::POST, &ack, &token_a).await;
    assert_eq!(status, 200, "{first}");
    assert!(first["acked_at"].is_string());
    let (status, again) = call(&app, Method::POST, &ack, ADMIN_TOKEN).await;
    assert_eq!((status, &again["acked_at"]), (200, &first["acked_at"]), "the first acknowledgement is kept");

    let (status, _) = call(&app, Method::POST, "/admin/merchants/acme/alerts/al_nope/ack", ADMIN_TOKEN).await;
    assert_eq!(status, 404);
    // Another merchant's token: as if `acme` did not exist, for listing and acknowledging.
    for (method, path) in [(Method::POST, ack.clone()), (Method::GET, "/admin/merchants/acme/alerts".into())] {
        let (status, body) = call(&app, method, &path, &token_b).await;
        assert_eq!((status, body["error"]["message"].as_str()), (404, Some("unknown merchant `acme`")));
    }
    // `beta`'s own listing does not show `acme`'s alert; nor can `beta` ack it through its own path.
    let (_, beta) = call(&app, Method::GET, "/admin/merchants/beta/alerts", &token_b).await;
    assert_eq!(beta["alerts"].as_array().unwrap().len(), 0);
    let (status, _) = call(&app, Method::POST, &format!("/admin/merchants/beta/alerts/{id}/ack"), &token_b).await;
    assert_eq!(status, 404);

    let (_, audit) = call(&app, Method::GET, "/admin/merchants/acme/audit", ADMIN_TOKEN).await;
    let acks = audit["entries"].as_array().unwrap().iter().filter(|e| e["action"] == "alert.ack").count();
    assert_eq!(acks, 2);
}

#[tokio::test]
async fn no_alert_carries_the_wms_key() {
    let app = spawn_app_with(&two_merchants("memory://")).await;
    let acme = MerchantId::parse("acme").unwrap();
    app.deps.alerts.credentials_rejected(&acme, "easypost:acme:production").await.unwrap();
    let (_, body) = call(&app, Method::GET, "/admin/merchants/acme/alerts", ADMIN_TOKEN).await;
    assert_eq!(body["alerts"].as_array().unwrap().len(), 1);
    assert!(!body.to_string().contains("EZAK-acme"), "{body}");
}

#[tokio::test]
async fn alert_channels_set_through_the_api_follow_the_file_rules_and_the_secret_never_comes_back() {
    use crate::tenants::{merchant_body, wiring};
    let app = spawn_app_with(&wiring("memory://")).await;
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    let mut body = merchant_body("al1");
    let channels = serde_json::json!({
        "email": ["ops@shop.example"],
        "webhook": {"url": "https://shop.example/hooks/cartgate", "secret": secret},
        "digest": "1h",
    });
    body["alerts"] = channels;
    let (code, created) = app.put("/admin/merchants/shop", body.clone()).await;
    assert_eq!(code, 201, "{created}");
    let (_, shown) = app.show("/admin/merchants/shop").await;
    assert_eq!(shown["alerts"]["webhook"]["secret"]["set"], true, "{shown}");
    assert_eq!(
        (shown["alerts"]["digest"].as_str(), shown["alerts"]["email"][0].as_str()),
        (Some("1h"), Some("ops@shop.example"))
    );
    assert!(!shown.to_string().contains(secret) && !created.to_string().contains(secret));
    let stored = serde_json::to_string(&app.deps.ledger.tenants.load().await.unwrap().tenants).unwrap();
    assert!(stored.contains("shop.example/hooks") && !stored.contains(&secret[6..]), "sealed in the store");
    let merchant = app.deps.tenants.merchant("shop").unwrap();
    assert_eq!(merchant.alerts.webhook.as_ref().unwrap().secret.expose(), secret, "opened for delivery");

    // A patch that leaves the secret out keeps it.
    let (code, _) = app.patch("/admin/merchants/shop", serde_json::json!({"alerts": {"digest": "instant"}})).await;
    assert_eq!(code, 200);
    assert_eq!(app.deps.tenants.merchant("shop").unwrap().alerts.webhook.as_ref().unwrap().secret.expose(), secret);

    let bad = [
        (
            serde_json::json!({"url": "https://shop.example", "secret": "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}),
            "alerts.webhook.secret",
        ),
        (serde_json::json!({"url": "https://shop.example", "secret": "env:SHOP_SECRET"}), "alerts.webhook.secret"),
        (serde_json::json!({"url": "http://shop.example", "secret": secret}), "alerts.webhook.url"),
    ];
    for (hook, key) in bad {
        let (code, answer) = app.patch("/admin/merchants/shop", serde_json::json!({"alerts": {"webhook": hook}})).await;
        let keys: Vec<&str> =
            answer["error"]["problems"].as_array().unwrap().iter().filter_map(|p| p["key"].as_str()).collect();
        assert_eq!((code, keys), (400, vec![key]), "{answer}");
    }
}

/// Gives up on each job's first run, succeeds after (the cause fixed, then redriven).
#[derive(Default)]
struct GivesUpOnce(std::sync::Mutex<std::collections::HashSet<String>>);

#[async_trait::async_trait]
impl cartgate::workers::Handler for GivesUpOnce {
    async fn handle(&self, job: &cartgate::store::ClaimedJob) -> cartgate::workers::Outcome {
        if self.0.lock().unwrap().insert(job.id.as_str().to_owned()) {
            return cartgate::workers::Outcome::Permanent("cannot work yet".into());
        }
        cartgate::workers::Outcome::Done
    }
}

#[tokio::test]
async fn buried_jobs_open_jobs_dead_and_a_redrive_that_leaves_none_dead_resolves_it() {
    use cartgate::store::{JobId, JobKind, NewJob, OnExisting, When};
    let mut wiring = two_merchants("memory://");
    wiring.workers.enabled = Some(true);
    let registry = cartgate::workers::Registry::new().with(JobKind::Noop, GivesUpOnce::default());
    let app = crate::support::spawn_app_with_registry(&wiring, registry).await;
    for n in 0..2 {
        let id = JobId::new(JobKind::Noop, &["acme", &n.to_string()]).unwrap();
        let job = NewJob { id, kind: JobKind::Noop, payload: serde_json::json!({}) };
        app.store.jobs().enqueue(&job, When::Now, OnExisting::Keep).await.unwrap();
    }
    let mut open = Vec::new();
    for _ in 0..100 {
        open = call(&app, Method::GET, "/admin/merchants/acme/alerts?state=open", ADMIN_TOKEN).await.1["alerts"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        if open.first().is_some_and(|a| a["count"] == 2) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!((open.len(), open[0]["kind"].as_str(), open[0]["count"].as_u64()), (1, Some("jobs_dead"), Some(2)));
    assert_eq!(open[0]["subject"], "noop");
    assert_eq!(open[0]["orders"], serde_json::json!(["noop:acme:0", "noop:acme:1"]));

    let resp = app.client.post(app.url("/admin/dead-letters/redrive")).bearer_auth(ADMIN_TOKEN);
    let resp = resp.json(&serde_json::json!({"limit": 10})).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let (_, resolved) = call(&app, Method::GET, "/admin/merchants/acme/alerts?state=resolved", ADMIN_TOKEN).await;
    assert_eq!(resolved["alerts"][0]["id"], open[0]["id"], "{resolved}");
}
