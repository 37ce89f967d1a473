//! OAuth (UPSTREAMS-shopify.md §1): the query-HMAC vector, the signed redirect, the code
//! exchange, expiring access tokens, refresh-token rotation and `invalid_grant`.

use cartgate::sim::ShopifyConfig;
use cartgate::sim::shopify::{ShopifyOAuthConfig, query_hmac};
use serde_json::{Value, json};

use super::{VERSION, gql_as, shop_with};
use crate::support::client;

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

#[test]
fn the_documented_query_hmac_vector_holds() {
    let q = pairs(&[
        ("shop", "some-shop.myshopify.com"),
        ("code", "0907a61c0c8d55e99db179b68161bc00"),
        ("timestamp", "1337178173"),
        ("hmac", "ignored"),
        ("state", "0.6784241404160823"),
    ]);
    assert_eq!(query_hmac("hush", &q), "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf");
}

async fn token(sim: &cartgate::sim::ShopifySim, body: Value) -> (u16, Value) {
    let r = client().post(format!("{}/admin/oauth/access_token", sim.url())).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

/// Follows the authorize URL; returns the callback's query pairs.
async fn authorize(sim: &cartgate::sim::ShopifySim, client_id: &str) -> (u16, Vec<(String, String)>) {
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!(
        "{}/admin/oauth/authorize?client_id={client_id}&scope=read_orders,write_inventory&redirect_uri=https://cartgate.example/cb&state=nonce-1&grant_options[]=",
        sim.url()
    );
    let r = no_redirects.get(url).send().await.unwrap();
    let location = crate::support::header(&r, "location");
    let query = url::Url::parse(&location).map(|u| u.query_pairs().into_owned().collect()).unwrap_or_default();
    (r.status().as_u16(), query)
}

#[tokio::test]
async fn the_grant_signs_its_redirect_and_issues_expiring_tokens_that_rotate() {
    let oauth = ShopifyOAuthConfig { token_lifetime_secs: 3600, ..ShopifyOAuthConfig::default() };
    let sim = shop_with(ShopifyConfig { oauth, ..ShopifyConfig::default() }).await;
    assert_eq!(authorize(&sim, "someone-else").await.0, 400);
    let (status, q) = authorize(&sim, sim.client_id()).await;
    assert_eq!(status, 302);
    let get = |k: &str| q.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    assert_eq!((get("state").as_str(), get("shop").as_str()), ("nonce-1", "acme.myshopify.com"));
    assert!(!get("host").is_empty() && !get("timestamp").is_empty());
    assert_eq!(get("hmac"), query_hmac(sim.client_secret(), &q));
    let creds = json!({"client_id": sim.client_id(), "client_secret": sim.client_secret()});
    let mut exchange = creds.clone();
    exchange["code"] = json!(get("code"));
    exchange["expiring"] = json!("1");
    let (status, granted) = token(&sim, exchange.clone()).await;
    assert_eq!(status, 200, "{granted}");
    assert_eq!(granted["scope"], "read_orders,write_inventory");
    assert_eq!(granted["expires_in"], 3600);
    assert!(granted["refresh_token_expires_in"].as_u64().unwrap() > 3600);
    assert_eq!(token(&sim, exchange).await.0, 400, "a code is single use");
    let access = granted["access_token"].as_str().unwrap();
    assert_eq!(gql_as(&sim, Some(access), VERSION, "{ shop { name } }", json!({})).await.status, 200);
    sim.expire_tokens();
    assert_eq!(gql_as(&sim, Some(access), VERSION, "{ shop { name } }", json!({})).await.status, 401);

    let refresh = |r: &Value| {
        let mut b = creds.clone();
        b["grant_type"] = json!("refresh_token");
        b["refresh_token"] = r.clone();
        b
    };
    let r0 = granted["refresh_token"].clone();
    let (status, second) = token(&sim, refresh(&r0)).await;
    assert_eq!(status, 200);
    assert_ne!(second["refresh_token"], r0, "rotated");
    let fresh = second["access_token"].as_str().unwrap();
    assert_eq!(gql_as(&sim, Some(fresh), VERSION, "{ shop { name } }", json!({})).await.status, 200);
    let (status, _) = token(&sim, refresh(&r0)).await;
    assert_eq!(status, 200, "the old refresh token works until the new one is used");
    let (status, _) = token(&sim, refresh(&second["refresh_token"])).await;
    assert_eq!(status, 200);
    assert_eq!(token(&sim, refresh(&r0)).await, (400, json!({"error": "invalid_grant"})));
    assert_eq!(token(&sim, refresh(&json!("shprt_unknown"))).await, (400, json!({"error": "invalid_grant"})));
    let stats = sim.oauth_stats();
    assert_eq!((stats.codes_exchanged, stats.refreshes, stats.invalid_grants), (1, 3, 2));
}

#[tokio::test]
async fn bad_codes_and_bad_clients_are_400() {
    let sim = shop_with(ShopifyConfig::default()).await;
    let (status, body) =
        token(&sim, json!({"client_id": sim.client_id(), "client_secret": sim.client_secret(), "code": "nope"})).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "invalid_request");
    let (status, _) =
        token(&sim, json!({"client_id": sim.client_id(), "client_secret": "wrong", "code": "nope"})).await;
    assert_eq!(status, 400);
}

/// The sim process, killed when the test ends however it ends.
struct Process(std::process::Child);

impl Drop for Process {
    fn drop(&mut self) {
        drop(self.0.kill());
        drop(self.0.wait());
    }
}

#[tokio::test]
async fn the_sim_command_takes_the_shop_the_app_and_the_token_lifetime() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cartgate"))
        .args(["sim", "shopify", "--port", "0", "--shop", "cli.myshopify.com", "--client-id", "cli-app"])
        .args(["--oauth-client-secret", "cli-secret", "--token-lifetime-secs", "42"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _process = Process(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.contains("cli.myshopify.com") && line.contains("cli-app") && !line.contains("cli-secret"), "{line}");
    let base = line.split_whitespace().nth(5).unwrap().to_owned();
    let no_redirects = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let url = format!(
        "{base}/admin/oauth/authorize?client_id=cli-app&scope=read_orders&redirect_uri=https://cartgate.example/cb&state=s"
    );
    let location = crate::support::header(&no_redirects.get(url).send().await.unwrap(), "location");
    let query: Vec<(String, String)> = url::Url::parse(&location).unwrap().query_pairs().into_owned().collect();
    assert_eq!(query.iter().find(|(k, _)| k == "hmac").unwrap().1, query_hmac("cli-secret", &query));
    let code = query.iter().find(|(k, _)| k == "code").unwrap().1.clone();
    let body = json!({"client_id": "cli-app", "client_secret": "cli-secret", "code": code, "expiring": "1"});
    let r = client().post(format!("{base}/admin/oauth/access_token")).json(&body).send().await.unwrap();
    let tokens: Value = r.json().await.unwrap();
    assert_eq!(tokens["expires_in"], 42, "{tokens}");
}
