//! TradeGecko's OAuth application: authorize, code exchange, rotation, expiry, revocation, the
//! per-grant rate limit and the token endpoint's controls and counters.

use std::time::Duration;

use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::seed::Seed;
use cartgate::sim::tradegecko::{OAuthConfig, OAuthPatch, RateLimitConfig, TokenFault};
use cartgate::sim::{TradegeckoConfig, TradegeckoSim};
use serde_json::{Value, json};

use crate::support::{client, eventually, header};

const REDIRECT: &str = "https://cartgate.example/oauth/tradegecko/callback";

async fn sim_with(oauth: OAuthConfig) -> TradegeckoSim {
    let config = TradegeckoConfig {
        seed: Seed::generated(1, 0),
        delivery: DeliveryPolicy::fast(),
        oauth,
        ..TradegeckoConfig::default()
    };
    TradegeckoSim::start(config).await.unwrap()
}

async fn sim() -> TradegeckoSim {
    sim_with(OAuthConfig::default()).await
}

/// A browser that does not follow the redirect, so the test reads `Location`.
fn browser() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn authorize(sim: &TradegeckoSim, query: &[(&str, &str)]) -> reqwest::Response {
    browser().get(sim.authorize_url()).query(query).send().await.unwrap()
}

/// The query parameters of a redirect's `Location`.
fn redirected(resp: &reqwest::Response) -> Vec<(String, String)> {
    assert_eq!(resp.status(), 302);
    let location = url::Url::parse(&header(resp, "location")).unwrap();
    assert!(location.as_str().starts_with(REDIRECT), "{location}");
    location.query_pairs().into_owned().collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

/// An approved authorization's code.
async fn code(sim: &TradegeckoSim) -> String {
    let query =
        [("response_type", "code"), ("client_id", sim.client_id()), ("redirect_uri", REDIRECT), ("state", "s1")];
    let pairs = redirected(&authorize(sim, &query).await);
    assert_eq!(param(&pairs, "state"), Some("s1"));
    param(&pairs, "code").unwrap().to_owned()
}

fn url(sim: &TradegeckoSim) -> String {
    format!("{}/oauth/token", sim.url())
}

async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    (status, resp.json().await.unwrap())
}

async fn token_json(sim: &TradegeckoSim, body: Value) -> (u16, Value) {
    answer(client().post(url(sim)).json(&body).send().await.unwrap()).await
}

async fn token_form(sim: &TradegeckoSim, form: &[(&str, &str)]) -> (u16, Value) {
    answer(client().post(url(sim)).form(form).send().await.unwrap()).await
}

fn exchange_body(sim: &TradegeckoSim, code: &str) -> Value {
    json!({"client_id": sim.client_id(), "client_secret": sim.client_secret(), "redirect_uri": REDIRECT,
        "grant_type": "authorization_code", "code": code})
}

async fn refresh(sim: &TradegeckoSim, refresh_token: &str) -> (u16, Value) {
    let form = [
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
        ("redirect_uri", REDIRECT),
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh_token),
    ];
    token_form(sim, &form).await
}

/// Authorize and exchange: the token answer of a new grant.
async fn connect(sim: &TradegeckoSim) -> Value {
    let code = code(sim).await;
    let (status, body) = token_json(sim, exchange_body(sim, &code)).await;
    assert_eq!(status, 200, "{body}");
    body
}

async fn api(sim: &TradegeckoSim, token: &Value) -> reqwest::Response {
    client().get(format!("{}/variants", sim.url())).bearer_auth(token.as_str().unwrap()).send().await.unwrap()
}

#[tokio::test]
async fn an_approved_code_exchanges_for_a_bearer_token_that_calls_the_api() {
    let sim = sim().await;
    let code = code(&sim).await;
    let (status, body) = token_json(&sim, exchange_body(&sim, &code)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        (body["expires_in"].as_u64(), &body["scope"], &body["token_type"]),
        (Some(7200), &json!("public"), &json!("bearer"))
    );
    assert!(body["created_at"].as_u64().unwrap() > 1_700_000_000, "{body}");
    assert_ne!(body["access_token"], body["refresh_token"]);
    let call = api(&sim, &body["access_token"]).await;
    assert_eq!(call.status(), 200);
    assert_eq!(header(&call, "x-rate-limit-limit"), "300");
    assert_eq!(api(&sim, &json!("not-a-token")).await.status(), 401);
    let stats = sim.oauth_stats();
    assert_eq!((stats.codes_exchanged, stats.active_grants, stats.refreshes), (1, 1, 0));
    let recorded = sim.record().entries().into_iter().find(|e| e.path == "/oauth/token").unwrap();
    assert!(!recorded.body.contains(sim.client_secret()), "the record keeps no client secret");
}

#[tokio::test]
async fn a_code_is_single_use_and_bound_to_its_redirect_uri() {
    let sim = sim().await;
    let code = code(&sim).await;
    let mut elsewhere = exchange_body(&sim, &code);
    elsewhere["redirect_uri"] = json!("https://evil.example/cb");
    assert_eq!(
        token_json(&sim, elsewhere).await,
        (
            400,
            json!({"error": "invalid_grant", "error_description": "The provided authorization grant is invalid, expired or revoked"})
        )
    );
    assert_eq!(token_json(&sim, exchange_body(&sim, &code)).await.0, 200);
    let (status, body) = token_json(&sim, exchange_body(&sim, &code)).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "a used code is refused");
    let (status, body) = token_json(&sim, exchange_body(&sim, "made-up")).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    assert_eq!(sim.oauth_stats().codes_exchanged, 1);
}

#[tokio::test]
async fn form_and_json_bodies_and_basic_client_credentials_are_all_accepted() {
    let sim = sim().await;
    let code1 = code(&sim).await;
    let form = [
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
        ("redirect_uri", REDIRECT),
        ("grant_type", "authorization_code"),
        ("code", &code1),
    ];
    let (status, body) = token_form(&sim, &form).await;
    assert_eq!(status, 200, "form body: {body}");
    let code2 = code(&sim).await;
    let basic = client().post(url(&sim)).basic_auth(sim.client_id(), Some(sim.client_secret())).form(&[
        ("redirect_uri", REDIRECT),
        ("grant_type", "authorization_code"),
        ("code", &code2),
    ]);
    let (status, body) = answer(basic.send().await.unwrap()).await;
    assert_eq!(status, 200, "basic auth: {body}");
    let code3 = code(&sim).await;
    assert_eq!(token_json(&sim, exchange_body(&sim, &code3)).await.0, 200, "JSON body");
    assert_eq!(sim.oauth_stats().active_grants, 3);
}

#[tokio::test]
async fn the_wrong_client_or_an_unknown_grant_type_is_refused() {
    let sim = sim().await;
    let code = code(&sim).await;
    let mut wrong = exchange_body(&sim, &code);
    wrong["client_secret"] = json!("guessed");
    let (status, body) = token_json(&sim, wrong).await;
    assert_eq!((status, &body["error"]), (401, &json!("invalid_client")));
    let mut unknown = exchange_body(&sim, &code);
    unknown["client_id"] = json!("someone-else");
    assert_eq!(token_json(&sim, unknown).await.0, 401);
    let mut missing = exchange_body(&sim, &code);
    missing.as_object_mut().unwrap().remove("client_secret");
    assert_eq!(token_json(&sim, missing).await.0, 401);
    let mut password = exchange_body(&sim, &code);
    password["grant_type"] = json!("password");
    let (status, body) = token_json(&sim, password).await;
    assert_eq!((status, &body["error"]), (400, &json!("unsupported_grant_type")));
    let bad_json = client().post(url(&sim)).header("content-type", "application/json").body("{not json");
    let (status, body) = answer(bad_json.send().await.unwrap()).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_request")));
    assert_eq!(token_json(&sim, exchange_body(&sim, &code)).await.0, 200, "refusals did not use the code up");
}

#[tokio::test]
async fn a_refresh_rotates_both_tokens_and_a_used_refresh_token_is_refused_and_counted() {
    let sim = sim().await;
    let first = connect(&sim).await;
    let (status, second) = refresh(&sim, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{second}");
    assert_ne!(second["access_token"], first["access_token"]);
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(api(&sim, &second["access_token"]).await.status(), 200);
    assert_eq!(
        api(&sim, &first["access_token"]).await.status(),
        200,
        "the previous access token lives until its expiry"
    );
    let (status, body) = refresh(&sim, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "a used refresh token");
    let (status, body) = refresh(&sim, "never-issued").await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "an unknown refresh token");
    let (status, third) = refresh(&sim, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{third}");
    let stats = sim.oauth_stats();
    assert_eq!((stats.refreshes, stats.refresh_failures, stats.reused_refresh_tokens), (2, 2, 1));
    let oks: Vec<bool> = stats.refresh_log.iter().map(|r| r.ok).collect();
    assert_eq!(oks, [true, false, false, true]);
    assert_eq!(stats.active_grants, 1, "rotation keeps one grant");
}

#[tokio::test]
async fn an_access_token_expires_after_its_lifetime_and_a_refresh_cures_it() {
    let sim = sim_with(OAuthConfig { token_lifetime_secs: 1, ..OAuthConfig::default() }).await;
    let tokens = connect(&sim).await;
    assert_eq!(tokens["expires_in"], 1);
    assert_eq!(api(&sim, &tokens["access_token"]).await.status(), 200);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let expired = api(&sim, &tokens["access_token"]).await;
    assert_eq!(expired.status(), 401);
    assert_eq!(expired.json::<Value>().await.unwrap()["error"], "invalid_token");
    let (status, fresh) = refresh(&sim, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "an expired access token does not end the grant");
    assert_eq!(api(&sim, &fresh["access_token"]).await.status(), 200);
    assert_eq!(api(&sim, &json!(sim.token())).await.status(), 200, "privileged tokens never expire");
}

#[tokio::test]
async fn the_expire_control_ends_live_access_tokens_and_the_lifetime_control_sets_new_ones() {
    let sim = sim().await;
    let c = client();
    let tokens = connect(&sim).await;
    let expired: Value = c.post(format!("{}/_sim/oauth/expire", sim.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(expired, json!({"expired": 1}));
    assert_eq!(api(&sim, &tokens["access_token"]).await.status(), 401);
    let set = c.put(format!("{}/_sim/oauth", sim.url())).json(&json!({"token_lifetime_secs": 5}));
    let config: Value = set.send().await.unwrap().json().await.unwrap();
    assert_eq!(config, json!({"deny": false, "token_lifetime_secs": 5, "token_delay_ms": 0, "token_fault": "none"}));
    let (status, fresh) = refresh(&sim, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, &fresh["expires_in"]), (200, &json!(5)));
    assert_eq!(api(&sim, &fresh["access_token"]).await.status(), 200);
    let unknown = c.put(format!("{}/_sim/oauth", sim.url())).json(&json!({"token_fault": "sometimes"}));
    assert_eq!(unknown.send().await.unwrap().status(), 400);
}

#[tokio::test]
async fn revoking_ends_every_grant_for_access_and_refresh_tokens_alike() {
    let sim = sim().await;
    let one = connect(&sim).await;
    let two = connect(&sim).await;
    let c = client();
    let revoked: Value = c.post(format!("{}/_sim/oauth/revoke", sim.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(revoked, json!({"revoked": 2}));
    assert_eq!(api(&sim, &one["access_token"]).await.status(), 401);
    assert_eq!(api(&sim, &two["access_token"]).await.status(), 401);
    let (status, body) = refresh(&sim, one["refresh_token"].as_str().unwrap()).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")));
    let stats = sim.oauth_stats();
    assert_eq!((stats.active_grants, stats.reused_refresh_tokens, stats.refresh_failures), (0, 0, 1));
    assert_eq!(api(&sim, &json!(sim.token())).await.status(), 200, "privileged tokens are not grants");
    let again = connect(&sim).await;
    assert_eq!(api(&sim, &again["access_token"]).await.status(), 200, "a new connect works after a revoke");
}

#[tokio::test]
async fn a_denied_authorization_redirects_with_access_denied_and_the_state() {
    let sim = sim().await;
    let set = client().put(format!("{}/_sim/oauth", sim.url())).json(&json!({"deny": true}));
    assert_eq!(set.send().await.unwrap().json::<Value>().await.unwrap()["deny"], true);
    let query =
        [("response_type", "code"), ("client_id", sim.client_id()), ("redirect_uri", REDIRECT), ("state", "xyz")];
    let pairs = redirected(&authorize(&sim, &query).await);
    assert_eq!(param(&pairs, "error"), Some("access_denied"));
    assert_eq!(param(&pairs, "state"), Some("xyz"));
    assert_eq!(param(&pairs, "code"), None);
    sim.set_oauth(OAuthPatch { deny: Some(false), ..OAuthPatch::default() });
    assert!(param(&redirected(&authorize(&sim, &query).await), "code").is_some());
}

#[tokio::test]
async fn authorize_refuses_an_unknown_client_another_response_type_or_no_redirect_uri() {
    let sim = sim().await;
    let id = sim.client_id().to_owned();
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[("response_type", "code"), ("client_id", "nobody"), ("redirect_uri", REDIRECT)], "invalid_client"),
        (&[("response_type", "token"), ("client_id", &id), ("redirect_uri", REDIRECT)], "unsupported_response_type"),
        (&[("response_type", "code"), ("client_id", &id)], "invalid_request"),
        (&[("response_type", "code"), ("client_id", &id), ("redirect_uri", "not a url")], "invalid_request"),
    ];
    for (query, error) in cases {
        let resp = authorize(&sim, query).await;
        assert_eq!(resp.status(), 400, "{query:?}");
        assert_eq!(resp.json::<Value>().await.unwrap()["error"], error, "{query:?}");
    }
}

#[tokio::test]
async fn the_rate_limit_is_shared_by_every_oauth_token_of_the_account() {
    let sim = sim().await;
    // A day-long window, so the test never straddles a reset.
    sim.set_rate_limit(RateLimitConfig { limit: 5, window_secs: 86_400 });
    let first = connect(&sim).await;
    for _ in 0..3 {
        assert_eq!(api(&sim, &first["access_token"]).await.status(), 200);
    }
    let (_, second) = refresh(&sim, first["refresh_token"].as_str().unwrap()).await;
    let fourth = api(&sim, &second["access_token"]).await;
    assert_eq!(header(&fourth, "x-rate-limit-remaining"), "1", "the rotated token counts on");
    assert_eq!(api(&sim, &second["access_token"]).await.status(), 200);
    assert_eq!(api(&sim, &second["access_token"]).await.status(), 429);
    assert_eq!(api(&sim, &first["access_token"]).await.status(), 429, "one counter for the grant");
    let reconnected = connect(&sim).await;
    assert_eq!(api(&sim, &reconnected["access_token"]).await.status(), 429, "a new grant of the same account");
    assert_eq!(api(&sim, &json!(sim.token())).await.status(), 200, "a privileged token counts apart");
}

#[tokio::test]
async fn an_idempotency_key_replays_across_rotated_tokens_and_a_reconnect() {
    let sim = sim().await;
    let first = connect(&sim).await;
    let body = json!({"webhook": {"address": "https://cartgate.example/hook", "event": "order.create"}});
    let post = |token: &Value| {
        client()
            .post(format!("{}/webhooks", sim.url()))
            .bearer_auth(token.as_str().unwrap())
            .header("idempotency-key", "k1")
            .json(&body)
            .send()
    };
    assert_eq!(post(&first["access_token"]).await.unwrap().status(), 201);
    let (_, second) = refresh(&sim, first["refresh_token"].as_str().unwrap()).await;
    let replay = post(&second["access_token"]).await.unwrap();
    assert_eq!(header(&replay, "idempotent-replayed"), "true");
    sim.revoke_grants();
    let reconnected = connect(&sim).await;
    let replay = post(&reconnected["access_token"]).await.unwrap();
    assert_eq!(header(&replay, "idempotent-replayed"), "true", "the account is the same");
    assert_eq!(sim.webhooks().len(), 1);
    let privileged = post(&json!(sim.token())).await.unwrap();
    assert_eq!((privileged.status().as_u16(), header(&privileged, "idempotent-replayed")), (201, String::new()));
}

#[tokio::test]
async fn concurrent_token_requests_are_counted_at_their_high_water_mark() {
    let sim = sim_with(OAuthConfig { token_delay_ms: 100, ..OAuthConfig::default() }).await;
    let first = connect(&sim).await;
    let (_, second) = refresh(&sim, first["refresh_token"].as_str().unwrap()).await;
    assert_eq!(sim.oauth_stats().max_concurrent_token_requests, 1, "one at a time so far");
    // Long enough for all three to be in at once, even on a busy machine.
    let set = client().put(format!("{}/_sim/oauth", sim.url())).json(&json!({"token_delay_ms": 2000}));
    assert_eq!(set.send().await.unwrap().json::<Value>().await.unwrap()["token_delay_ms"], 2000);
    let rt = second["refresh_token"].as_str().unwrap();
    let (a, b, c) = tokio::join!(refresh(&sim, rt), refresh(&sim, rt), refresh(&sim, "never-issued"));
    let mut statuses = [a.0, b.0, c.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 400, 400], "only one presentation of a refresh token rotates");
    let stats: Value =
        client().get(format!("{}/_sim/oauth/stats", sim.url())).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["max_concurrent_token_requests"], 3, "{stats}");
    assert_eq!(
        (&stats["codes_exchanged"], &stats["refreshes"], &stats["refresh_failures"]),
        (&json!(1), &json!(2), &json!(2))
    );
    assert_eq!((&stats["reused_refresh_tokens"], &stats["active_grants"]), (&json!(1), &json!(1)));
    assert_eq!(stats["refresh_log"].as_array().unwrap().len(), 4);
    assert!(stats["refresh_log"][0]["at_ms"].as_u64().is_some());
}

#[tokio::test]
async fn a_token_fault_loses_the_answer_after_the_rotation() {
    let sim = sim().await;
    let first = connect(&sim).await;
    sim.set_oauth(OAuthPatch { token_fault: Some(TokenFault::Error), ..OAuthPatch::default() });
    let rt = first["refresh_token"].as_str().unwrap();
    let (status, _) = refresh(&sim, rt).await;
    assert_eq!(status, 500);
    sim.set_oauth(OAuthPatch { token_fault: Some(TokenFault::None), ..OAuthPatch::default() });
    let (status, body) = refresh(&sim, rt).await;
    assert_eq!((status, &body["error"]), (400, &json!("invalid_grant")), "the upstream had rotated");
    assert_eq!(api(&sim, &first["access_token"]).await.status(), 200, "the old access token still works");

    let second = connect(&sim).await;
    sim.set_oauth(OAuthPatch { token_fault: Some(TokenFault::Hang), ..OAuthPatch::default() });
    let impatient = reqwest::Client::builder().timeout(Duration::from_millis(500)).build().unwrap();
    let form = [
        ("client_id", sim.client_id()),
        ("client_secret", sim.client_secret()),
        ("grant_type", "refresh_token"),
        ("refresh_token", second["refresh_token"].as_str().unwrap()),
    ];
    let hung = impatient.post(url(&sim)).form(&form).send().await;
    assert!(hung.unwrap_err().is_timeout());
    eventually("the abandoned request to leave", || sim.token_requests_in_flight() == 0).await;
    sim.set_oauth(OAuthPatch { token_fault: Some(TokenFault::None), ..OAuthPatch::default() });
    let (status, _) = refresh(&sim, second["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 400, "the hung request had rotated");
    let stats = sim.oauth_stats();
    assert_eq!((stats.refreshes, stats.reused_refresh_tokens), (2, 2));
    assert_eq!(stats.max_concurrent_token_requests, 1, "the abandoned request left when its client did");
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
async fn the_sim_command_takes_the_oauth_application_and_the_token_lifetime() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_cartgate"))
        .args(["sim", "tradegecko", "--port", "0", "--client-id", "cli-app", "--oauth-client-secret", "cli-secret"])
        .args(["--token-lifetime-secs", "42"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _process = Process(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.contains("cli-app") && !line.contains("cli-secret"), "{line}");
    let base = line.split_whitespace().nth(3).unwrap().to_owned();
    let query = [("response_type", "code"), ("client_id", "cli-app"), ("redirect_uri", REDIRECT)];
    let resp = browser().get(format!("{base}/oauth/authorize")).query(&query).send().await.unwrap();
    let code = param(&redirected(&resp), "code").unwrap().to_owned();
    let mut body = json!({"client_id": "cli-app", "client_secret": "tg-client-secret", "redirect_uri": REDIRECT,
        "grant_type": "authorization_code", "code": code});
    let wrong = answer(client().post(format!("{base}/oauth/token")).json(&body).send().await.unwrap()).await;
    assert_eq!(wrong.0, 401, "the default secret is not this app's");
    body["client_secret"] = json!("cli-secret");
    let (status, tokens) = answer(client().post(format!("{base}/oauth/token")).json(&body).send().await.unwrap()).await;
    assert_eq!((status, &tokens["expires_in"]), (200, &json!(42)), "{tokens}");
}
