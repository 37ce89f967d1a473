//! Scenario 2: Redis stops for a while mid-run and comes back from its AOF. Webhooks in the
//! outage are answered 503 and delivered again; `/readyz` turns 503 and back; the same worker
//! processes carry on; nothing is lost or duplicated.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use anyhow::Result;

use crate::cluster::{Cluster, Spec};
use crate::lb::Seen;
use crate::report::Row;
use crate::scenarios::shipments_phase;
use crate::workload::{feed, reconcile, wait_done};
use crate::{Counts, Timing};

/// What the outage looked like from outside.
struct Outage {
    /// Each replica answered `/readyz` 503 at least once while Redis was down.
    saw_503: Vec<bool>,
    /// Time from Redis being back to each replica answering `/readyz` 200.
    ready_again: Vec<Option<Duration>>,
    /// Webhook traffic up to the end of the outage.
    during: Seen,
}

async fn outage(cluster: &mut Cluster, down: Duration) -> Result<Outage> {
    cluster.redis.single()?.stop();
    let down_at = Instant::now();
    let mut saw_503 = vec![false; cluster.replicas.len()];
    while down_at.elapsed() < down {
        for (i, saw) in saw_503.iter_mut().enumerate() {
            *saw |= cluster.readyz(i).await == Some(503);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let during = cluster.lb.take_seen();
    cluster.redis.single()?.restart()?;
    let back_at = Instant::now();
    let mut ready_again = Vec::new();
    for i in 0..cluster.replicas.len() {
        ready_again.push(cluster.wait_ready(i, Duration::from_secs(30)).await.map(|()| back_at.elapsed()).ok());
    }
    Ok(Outage { saw_503, ready_again, during })
}

pub async fn redis_restart(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("2 redis restart");
    let mut cluster = Cluster::start(spec.clone(), "2-redis").await?;
    let started = Instant::now();
    let pids: Vec<_> = (0..cluster.replicas.len()).map(|i| cluster.pid(i)).collect();
    let feeder = feed(cluster.tradegecko_only(), c.redis, c.rate, 1..41);
    let lead = Duration::from_secs_f64((c.redis as f64 / c.rate / 3.0).clamp(2.0, 20.0));
    tokio::time::sleep(lead).await;
    let o = outage(&mut cluster, Duration::from_secs(t.redis_down_secs)).await?;
    let ids = feeder.await?;
    let took = wait_done(&mut cluster, ids.len() as u64, t.complete).await;
    let picks = shipments_phase(&mut cluster, &ids, t, None).await;
    let recon = reconcile(&cluster, &ids, &picks).await?;
    let mut seen = cluster.lb.take_seen();
    seen.latencies_us.extend(&o.during.latencies_us);
    for (k, v) in &o.during.statuses {
        *seen.statuses.entry(*k).or_insert(0) += v;
    }
    row.finish(&mut cluster, &recon, &seen);
    row.check_confirmed(&recon);
    row.secs = started.elapsed().as_secs_f64();
    let same = (0..cluster.replicas.len()).all(|i| cluster.pid(i) == pids[i]);
    checks(&mut row, &cluster, &o, same, t);
    row.check(took.is_some(), format!("not all orders reached the warehouse within {:?}", t.complete));
    cluster.stop().await;
    Ok(row)
}

fn checks(row: &mut Row, cluster: &Cluster, o: &Outage, same: bool, t: &Timing) {
    let refused = o.during.statuses.get(&503).copied().unwrap_or(0);
    let (with_503, redelivered) = redeliveries(cluster);
    let all_503 = o.saw_503.iter().all(|s| *s);
    row.check(all_503, format!("/readyz 503 during the outage per replica: {:?}", o.saw_503));
    row.check(o.ready_again.iter().all(Option::is_some), format!("/readyz back to 200: {:?}", o.ready_again));
    row.check(refused > 0, "no webhook was answered 503 during the outage".into());
    row.check(with_503 == redelivered, format!("{with_503} deliveries got 503, only {redelivered} redelivered"));
    row.check(same, "a replica was restarted".into());
    row.notes.push(format!(
        "Redis down {} s: {refused} webhook answers were 503; {with_503} deliveries got a 503 and {redelivered} of \
         them were redelivered until 2xx; /readyz 503 on every replica: {all_503}; 200 again after {:?}; \
         same replica PIDs (workers recovered without a restart): {same}",
        t.redis_down_secs, o.ready_again
    ));
}

/// Deliveries (both simulators) that got a 503, and how many of those were later answered 2xx.
fn redeliveries(cluster: &Cluster) -> (usize, usize) {
    let mut seen: HashMap<String, (bool, bool)> = HashMap::new();
    for a in cluster.tg.deliveries().into_iter().chain(cluster.ep.deliveries()) {
        let e = seen.entry(a.delivery_id).or_default();
        e.0 |= a.status == Some(503);
        e.1 |= a.status.is_some_and(|s| (200..300).contains(&s));
    }
    let with = seen.values().filter(|(bad, _)| *bad).count();
    (with, seen.values().filter(|(bad, ok)| *bad && *ok).count())
}
