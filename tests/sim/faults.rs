//! Fault injection is observable on API routes and never touches the control routes.

use cartgate::sim::faults::FaultConfig;
use serde_json::Value;

use crate::support::{EP_TEST_KEY, client, easypost, json, tradegecko};

#[tokio::test]
async fn error_rate_one_makes_every_api_call_a_5xx_but_control_routes_still_answer() {
    let sim = tradegecko(1).await;
    sim.set_faults(FaultConfig { error_rate: 1.0, seed: 3, ..FaultConfig::default() });
    let c = client();
    for _ in 0..5 {
        let r = c.get(format!("{}/orders", sim.url())).bearer_auth(sim.token()).send().await.unwrap();
        assert!(r.status().is_server_error(), "{}", r.status());
    }
    let control = c.get(format!("{}/_sim/faults", sim.url())).send().await.unwrap();
    assert_eq!(control.status(), 200);
    assert_eq!(control.json::<Value>().await.unwrap()["error_rate"], 1.0);
    assert!(sim.record().entries().iter().all(|e| e.fault.as_deref() == Some("error")));
    let cleared = c.delete(format!("{}/_sim/faults", sim.url())).send().await.unwrap();
    assert_eq!(cleared.status(), 200);
    let ok = c.get(format!("{}/orders", sim.url())).bearer_auth(sim.token()).send().await.unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_storm_answers_429_and_a_reset_breaks_the_response() {
    let sim = easypost(1).await;
    let c = client();
    let call =
        || c.get(format!("{}/fulfillment/vendor/v2/warehouses", sim.url())).basic_auth(EP_TEST_KEY, Some("")).send();
    sim.storm(std::time::Duration::from_secs(30));
    let r = call().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "RATE_LIMITED");
    sim.set_faults(FaultConfig { reset_rate: 1.0, ..FaultConfig::default() });
    let broken = match call().await {
        Err(_) => true,
        Ok(r) => r.bytes().await.is_err(),
    };
    assert!(broken, "a reset must not yield a complete response");
    sim.set_faults(FaultConfig::default());
    assert_eq!(call().await.unwrap().status(), 200);
    let counts = sim.record().counts();
    assert_eq!(counts["GET /fulfillment/vendor/v2/warehouses"], 3);
}

#[tokio::test]
async fn a_reset_after_the_handler_creates_the_order_but_loses_the_answer() {
    let sim = easypost(1).await;
    sim.set_faults(FaultConfig {
        reset_rate: 1.0,
        reset_after_handler: true,
        method: Some("POST".into()),
        path_contains: Some("/orders".into()),
        ..FaultConfig::default()
    });
    let body = serde_json::json!({"service": "standard", "description": "SO-77", "destination": crate::support::destination(),
        "line_items": [{"product": {"barcode": cartgate::sim::seed::barcode(1)}, "units": 1}]});
    let url = format!("{}/fulfillment/vendor/v2/orders", sim.url());
    let sent = client().post(&url).basic_auth(EP_TEST_KEY, Some("")).json(&body).send().await;
    assert!(sent.is_err(), "the answer is lost");
    assert_eq!(sim.orders_by_description()["SO-77"], 1, "but the order exists");
    let found = json(client().get(format!("{url}?description=SO-77")).basic_auth(EP_TEST_KEY, Some(""))).await;
    assert_eq!(found["orders"].as_array().unwrap().len(), 1, "GET is not affected by a POST-only fault");
}

#[tokio::test]
async fn a_requests_per_second_limit_answers_429_json_without_retry_after_by_default() {
    let sim = easypost(1).await;
    sim.set_rate_limit(cartgate::sim::easypost::EpRateLimit { rps_limit: Some(1), retry_after_secs: None });
    let c = client();
    let mut limited = None;
    for _ in 0..5 {
        let r = c
            .get(format!("{}/v2/trackers?page_size=1", sim.url()))
            .basic_auth(EP_TEST_KEY, Some(""))
            .send()
            .await
            .unwrap();
        if r.status() == 429 {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("five calls in a row exceed 1 request per second");
    assert!(r.headers().get("retry-after").is_none());
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "RATE_LIMITED");
}
