//! Scenario 4: valid orders while bad requests hit the webhook endpoint at a high rate. Every
//! bad request must get its answer, every valid order must complete, and memory must stay flat.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use cartgate::signature::tradegecko_sign;

use crate::cluster::{CART, Cluster, Spec};
use crate::lb::Captured;
use crate::report::Row;
use crate::scenarios::shipments_phase;
use crate::workload::{feed, reconcile, wait_done};
use crate::{Counts, Timing};

/// The kinds of bad request and the answer each must get.
const KINDS: [(&str, u16); 6] = [
    ("bad signature", 401),
    ("malformed JSON", 400),
    ("oversized body", 413),
    ("unknown cart", 404),
    ("foreign resource_url", 400),
    ("replayed delivery", 200),
];

struct Flood {
    lb: String,
    secret: String,
    tg_url: String,
    client: reqwest::Client,
    replays: Mutex<Vec<Captured>>,
    sent: [AtomicU64; 6],
    ok: [AtomicU64; 6],
    wrong: AtomicU64,
}

impl Flood {
    fn note(&self, object_id: u64, resource: &str) -> String {
        serde_json::json!({"object_id": object_id, "event": "order.create", "timestamp": 1_700_000_000u64,
            "resource_url": resource})
        .to_string()
    }

    /// Sends one bad request of kind `k`; whether it got its expected answer (`None`: not sent).
    async fn one(&self, k: usize, n: u64) -> Option<bool> {
        let good_url = format!("{}/orders/{n}", self.tg_url);
        let (path, body, signed) = match k {
            0 => (CART, self.note(n, &good_url), false),
            1 => (CART, "{\"object_id\": 12, \"event\": ".to_owned(), true),
            2 => (CART, format!("{{\"pad\":\"{}\"}}", "x".repeat(300 * 1024)), true),
            3 => ("no-such-cart", self.note(n, &good_url), true),
            4 => (CART, self.note(n, &format!("http://evil.example.com/orders/{n}")), true),
            _ => return self.replay(n).await,
        };
        let sig = if signed { tradegecko_sign(&self.secret, body.as_bytes()) } else { "AAAAbm90IGl0".into() };
        let req = self
            .client
            .post(format!("{}/webhooks/tradegecko/{path}", self.lb))
            .header("content-type", "application/json")
            .header("x-gecko-signature", sig)
            .header("x-gecko-delivery", uuid::Uuid::new_v4().to_string())
            .body(body);
        Some(self.check(k, req).await)
    }

    /// Sends an accepted delivery again, byte for byte (`None` while none was captured yet).
    async fn replay(&self, n: u64) -> Option<bool> {
        let c = {
            let all = lock(&self.replays);
            all.get(n as usize % all.len().max(1)).cloned()?
        };
        let mut req = self.client.post(format!("{}{}", self.lb, c.path)).body(c.body);
        for (k, v) in c.headers.iter().filter(|(k, _)| !["host", "content-length"].contains(&k.as_str())) {
            req = req.header(k.as_str(), v.as_slice());
        }
        Some(self.check(5, req).await)
    }

    async fn check(&self, k: usize, req: reqwest::RequestBuilder) -> bool {
        let Ok(resp) = req.send().await else { return false };
        let status = resp.status().as_u16();
        let text = resp.text().await.unwrap_or_default();
        let good = status == KINDS[k].1 && (k != 5 || text.contains("duplicate"));
        if !good && self.wrong.fetch_add(1, Ordering::Relaxed) < 5 {
            eprintln!("  {} answered {status}: {}", KINDS[k].0, text.chars().take(200).collect::<String>());
        }
        good
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

pub async fn bad_input(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("4 bad input flood");
    let mut cluster = Cluster::start(spec.clone(), "4-flood").await?;
    let before = cluster.sample_rss();
    let started = Instant::now();
    let feeder = feed(cluster.tradegecko_only(), c.flood, c.rate, 1..41);
    let flood = Arc::new(Flood {
        lb: cluster.lb.url(),
        secret: cluster.tg.client_secret().to_owned(),
        tg_url: cluster.tg.url().to_owned(),
        client: reqwest::Client::builder().timeout(Duration::from_secs(20)).build()?,
        replays: Mutex::new(Vec::new()),
        sent: Default::default(),
        ok: Default::default(),
        wrong: AtomicU64::new(0),
    });
    let deadline = Instant::now() + Duration::from_secs_f64((c.flood as f64 / c.rate).max(5.0));
    let mut set = senders(&flood, t, deadline);
    while Instant::now() < deadline {
        *lock(&flood.replays) = cluster.lb.captured();
        cluster.sample_rss();
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    while set.join_next().await.is_some() {}
    let flood_secs = started.elapsed().as_secs_f64();
    let ids = feeder.await?;
    let took = wait_done(&mut cluster, ids.len() as u64, t.complete).await;
    let picks = shipments_phase(&mut cluster, &ids, t, None).await;
    let after = cluster.sample_rss();
    let recon = reconcile(&cluster, &ids, &picks).await?;
    let seen = cluster.lb.take_seen();
    row.finish(&mut cluster, &recon, &seen);
    row.secs = started.elapsed().as_secs_f64();
    row.check(took.is_some(), format!("not all valid orders reached the warehouse within {:?}", t.complete));
    tally(&mut row, &flood, flood_secs, (&before, &after), t);
    cluster.stop().await;
    Ok(row)
}

/// `flood_tasks` senders sharing `flood_rate` requests per second until `deadline`.
fn senders(flood: &Arc<Flood>, t: &Timing, deadline: Instant) -> tokio::task::JoinSet<()> {
    let tasks = t.flood_tasks.max(1);
    let per_task = Duration::from_secs_f64(tasks as f64 / t.flood_rate.max(1.0));
    let mut set = tokio::task::JoinSet::new();
    for w in 0..tasks {
        let f = flood.clone();
        set.spawn(async move {
            let mut n = w as u64;
            while Instant::now() < deadline {
                let next = Instant::now() + per_task;
                let k = (n % 6) as usize;
                if let Some(good) = f.one(k, n).await {
                    f.sent[k].fetch_add(1, Ordering::Relaxed);
                    f.ok[k].fetch_add(u64::from(good), Ordering::Relaxed);
                }
                n += tasks as u64;
                tokio::time::sleep_until(next.into()).await;
            }
        });
    }
    set
}

/// Answers per kind, and memory before and after (kB per replica).
fn tally(row: &mut Row, flood: &Flood, secs: f64, (before, after): (&[u64], &[u64]), t: &Timing) {
    let sent: Vec<u64> = flood.sent.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let ok: Vec<u64> = flood.ok.iter().map(|a| a.load(Ordering::Relaxed)).collect();
    let (total, good) = (sent.iter().sum::<u64>(), ok.iter().sum::<u64>());
    row.bad = Some((good, total));
    row.check(good == total, "some bad requests got the wrong answer".into());
    let grew: Vec<i64> = before.iter().zip(after).map(|(b, a)| (*a as i64 - *b as i64) / 1024).collect();
    let bounded = grew.iter().all(|g| *g < t.rss_growth_mb);
    row.check(bounded, format!("RSS grew by {grew:?} MB (bound {})", t.rss_growth_mb));
    let per_kind: Vec<String> =
        KINDS.iter().enumerate().map(|(k, (name, st))| format!("{name}→{st}: {}/{}", ok[k], sent[k])).collect();
    row.notes.push(format!(
        "{total} bad requests in {secs:.0} s ({:.0}/s): {}",
        total as f64 / secs,
        per_kind.join(", ")
    ));
    let mb = |v: &[u64]| v.iter().map(|k| k / 1024).collect::<Vec<_>>();
    row.notes.push(format!("RSS before the flood {:?} MB, after {:?} MB", mb(before), mb(after)));
}
