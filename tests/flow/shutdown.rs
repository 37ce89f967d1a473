//! Graceful shutdown of the real binary: on SIGTERM readiness turns 503 first, claiming stops,
//! unfinished jobs go back to the queue within `drain_secs`, and the process exits 0. Nothing
//! is lost: a restarted replica finishes every order, exactly once.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cartgate::domain::{CartId, OrderStatus};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::settings::Settings;
use cartgate::sim::faults::FaultConfig;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::store::{JobId, JobState, Store};

use crate::support::{CART, Options, config, register_easypost_webhook, start_sims, wait_for_cart_webhooks};

const DRAIN_SECS: u64 = 2;

fn serve(config: &std::path::Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_cartgate"))
        .args(["serve", "--config"])
        .arg(config)
        .env("CARTGATE_LOG_FORMAT", "json")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

async fn readyz(client: &reqwest::Client, public: &str) -> Option<u16> {
    client.get(format!("{public}/readyz")).send().await.ok().map(|r| r.status().as_u16())
}

async fn wait_ready(client: &reqwest::Client, public: &str) {
    for _ in 0..300 {
        if readyz(client, public).await == Some(200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("cartgate did not become ready");
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        if started.elapsed() > within {
            let _ = child.kill();
            panic!("cartgate did not exit within {within:?} of SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn sigterm_turns_readiness_off_first_hands_back_unfinished_jobs_and_exits_0() {
    let opts = Options::default();
    let (tg, ep) = start_sims(&opts).await;
    // Warehouse order creation takes longer than the drain: those sends are in flight at SIGTERM.
    let slow = FaultConfig {
        latency_ms: 4_000,
        method: Some("POST".into()),
        path_contains: Some("/orders".into()),
        ..Default::default()
    };
    ep.set_faults(slow);
    let port = cartgate::testkit::free_port().unwrap();
    let public = format!("http://127.0.0.1:{port}");
    let toml = config(&opts, &tg, &ep, port, &public)
        .replace("[workers]\nlease_secs = 10", &format!("[workers]\nlease_secs = 10\ndrain_secs = {DRAIN_SECS}"));
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &toml).unwrap();
    let settings = Settings::from_toml(&toml).unwrap();
    let store = Store::connect(&settings.store).unwrap();
    let ledger = Ledger::new(std::sync::Arc::new(RedisKv::new(store.redis().unwrap(), &settings.store.prefix)));
    let client = reqwest::Client::new();

    let mut child = serve(file.path());
    wait_ready(&client, &public).await;
    register_easypost_webhook(&ep, &public).await;
    wait_for_cart_webhooks(&tg).await;
    let line = |n: usize| NewLine { sku: Some(seed::sku(n)), quantity: 1, ..Default::default() };
    let ids: Vec<u64> =
        (1..=5).map(|n| tg.create_order(NewOrder { lines: vec![line(n)], ..Default::default() }).unwrap()).collect();
    let mut inflight = 0;
    for _ in 0..200 {
        inflight = store.jobs().depths().await.unwrap().inflight;
        if inflight >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(inflight >= 1, "no job was in flight to drain");

    let signalled = Instant::now();
    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    let mut first_answer = None;
    while first_answer.is_none() && signalled.elapsed() < Duration::from_secs(2) {
        first_answer = readyz(&client, &public).await.filter(|s| *s != 200);
    }
    assert_eq!(first_answer, Some(503), "readiness must turn 503 while the replica still answers");
    let code = wait_exit(&mut child, Duration::from_secs(DRAIN_SECS + 6));
    assert_eq!(code, Some(0));

    // Nothing in flight, and every order is either at the warehouse or queued to be sent.
    assert_eq!(store.jobs().depths().await.unwrap().inflight, 0);
    let cart = CartId::parse(CART).unwrap();
    for id in &ids {
        let order = ledger.orders.get(&cart, *id).await.unwrap();
        let status = order.as_ref().map(|o| o.status());
        let job = JobId::parse(&format!("send_order:{CART}:{id}")).unwrap();
        let queued = store.jobs().job(&job).await.unwrap().map(|j| j.state);
        let import = JobId::parse(&format!("import_order:{CART}:{id}")).unwrap();
        let importing = store.jobs().job(&import).await.unwrap().map(|j| j.state);
        assert!(
            status == Some(OrderStatus::AtWms) || queued == Some(JobState::Due) || importing == Some(JobState::Due),
            "order {id} lost: status {status:?}, send job {queued:?}, import job {importing:?}"
        );
    }

    // A new replica finishes the work, and the warehouse still has each order once.
    ep.set_faults(FaultConfig::default());
    let mut again = serve(file.path());
    wait_ready(&client, &public).await;
    let mut done = false;
    for _ in 0..600 {
        let mut all = true;
        for id in &ids {
            all &= ledger.orders.get(&cart, *id).await.unwrap().is_some_and(|o| o.status() == OrderStatus::AtWms);
        }
        if all {
            done = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = Command::new("kill").args(["-TERM", &again.id().to_string()]).status();
    assert_eq!(wait_exit(&mut again, Duration::from_secs(DRAIN_SECS + 6)), Some(0));
    assert!(done, "orders not completed after restart");
    // POSTs cut off by the drain landed at the warehouse after the replica died (the sim's 4 s
    // latency); the settle window made the new replica adopt them instead of sending again.
    assert_eq!(ep.orders().len(), ids.len());
    assert!(ep.duplicate_descriptions().is_empty());
}
