//! Graceful shutdown of the real binary: on SIGTERM readiness turns 503 first, claiming stops,
//! unfinished jobs go back to the queue within `drain_secs`, and the process exits 0. Nothing
//! is lost: a restarted replica finishes every order, exactly once.

use std::process::Command;
use std::time::{Duration, Instant};

use cartgate::domain::{CartId, OrderStatus};
use cartgate::ledger::Ledger;
use cartgate::ledger::redis_kv::RedisKv;
use cartgate::sim::faults::FaultConfig;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::store::{JobId, JobState, Store};

use crate::process::{readyz, serve, wait_exit, wait_ready};
use crate::support::{CART, Options};

const DRAIN_SECS: u64 = 2;

#[tokio::test]
async fn sigterm_turns_readiness_off_first_hands_back_unfinished_jobs_and_exits_0() {
    let mut wired = Options::default().wired().await;
    // Warehouse order creation takes longer than the drain: those sends are in flight at SIGTERM.
    let slow = FaultConfig {
        latency_ms: 4_000,
        method: Some("POST".into()),
        path_contains: Some("/orders".into()),
        ..Default::default()
    };
    wired.sims.ep.set_faults(slow);
    wired.wiring.workers.drain_secs = Some(DRAIN_SECS);
    let file = tempfile::NamedTempFile::new().unwrap();
    wired.write_config(file.path()).unwrap();
    let settings = wired.settings().unwrap();
    let store = Store::connect(&settings.store).unwrap();
    let ledger = Ledger::new(std::sync::Arc::new(RedisKv::new(store.redis().unwrap(), &settings.store.prefix)));
    let client = reqwest::Client::new();
    let (public, tg, ep) = (wired.public_url(), &wired.sims.tg, &wired.sims.ep);

    let mut child = serve(file.path());
    wait_ready(&client, &public).await;
    wired.connect().await.unwrap();
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
        let order = ledger.orders.get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id).await.unwrap();
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
            all &= ledger
                .orders
                .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &cart, *id)
                .await
                .unwrap()
                .is_some_and(|o| o.status() == OrderStatus::AtWms);
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
