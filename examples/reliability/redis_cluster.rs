//! Scenario 6: the replicas on a Redis Cluster (3 primaries + 3 replicas) while (a) the primary
//! holding the cart's job partition is killed (`kill -9`) and its replica promoted, and then
//! (b) the slot of the merchant's ledger (`{m:acme}`) and then (c) that of the cart's job
//! partition (`{pN}`) are moved to other primaries in batches while orders keep arriving. No
//! replica is restarted. Reconciled exactly, as scenario 1: 0 lost, 0 duplicate warehouse
//! orders, one fulfillment per pick, 0 dead, webhooks answered only 200 or 503.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use cartgate::domain::CartId;
use cartgate::jobs::ImportOrder;
use cartgate::testkit::TestCluster;

use crate::cluster::{Backend, CART, Cluster, Spec};
use crate::report::Row;
use crate::scenarios::settle;
use crate::workload::feed;
use crate::{Counts, Timing};

/// The queue partitions of the replicas' configuration (the test kit's default).
const PARTITIONS: u16 = 8;

pub async fn failover_and_move(spec: &Spec, c: &Counts, t: &Timing) -> Result<Row> {
    let mut row = Row::new("6 redis cluster");
    let dir = spec.dir.join("6-cluster");
    std::fs::create_dir_all(&dir)?;
    let redis = tokio::task::spawn_blocking(TestCluster::start).await?.context("starting a Redis Cluster")?;
    let seeds = redis.urls();
    let nodes = Arc::new(Mutex::new(redis));
    let mut cluster = Cluster::start_on(spec.clone(), &dir, Backend::Cluster { seeds, _nodes: nodes.clone() }).await?;
    let started = Instant::now();
    let pids: Vec<_> = (0..cluster.replicas.len()).map(|i| cluster.pid(i)).collect();
    let feeder = feed(cluster.tradegecko_only(), c.cluster, c.rate, 1..41);

    // (a) The shard of the cart's jobs loses its primary a third of the way through the feed.
    let cart = CartId::parse(CART).context("the cart id")?;
    let import = ImportOrder { cart, order_id: 1, trigger: String::new() }.job();
    let tag = cartgate::store::redis::partition_tag(&import.id, PARTITIONS);
    tokio::time::sleep(Duration::from_secs_f64(c.cluster as f64 / c.rate / 3.0)).await;
    let victim = tag.clone();
    let killed = blocking(&nodes, move |n| n.kill_primary_of(&victim)).await.context("killing a primary")?;

    // (b) Then the merchant's ledger slot moves to another primary while orders keep coming,
    // (c) and then the slot of the cart's job partition (its scripts are refused meanwhile).
    let ledger = move_slot(&nodes, "{m:acme}".to_owned()).await?;
    let queue = move_slot(&nodes, tag.clone()).await?;

    let ids = feeder.await?;
    let seen = settle(&mut row, &mut cluster, &ids, t, None, started).await?;
    let restarted = (0..cluster.replicas.len()).filter(|&i| cluster.pid(i) != pids[i]).count();
    row.check(restarted == 0, format!("{restarted} replicas were restarted"));
    let other = seen.statuses.iter().filter(|(s, _)| !matches!(**s, 200 | 503)).map(|(_, n)| n).sum::<u64>();
    row.check(other == 0, format!("{other} webhooks answered other than 200 or 503: {:?}", seen.statuses));
    row.notes.push(format!(
        "primary :{killed} of the cart's job partition killed -9, its replica promoted; then moved in \
         batches of 10 while orders arrived: ledger {ledger}; job partition {tag}: {queue}; no replica restarted"
    ));
    cluster.stop().await;
    Ok(row)
}

/// Moves the slot of `key` to another primary in batches (as a reshard does); says what the old
/// owner answered meanwhile.
async fn move_slot(nodes: &Arc<Mutex<TestCluster>>, key: String) -> Result<String> {
    let (slot, from, to, keys, before) = blocking(nodes, move |n| {
        let slot = n.slot_of(&key)?;
        let from = n.owner_of_slot(slot)?.port;
        let other = n.nodes()?.into_iter().find(|x| x.primary && !x.failed && x.port != from);
        let to = other.ok_or_else(|| std::io::Error::other("no other primary"))?.port;
        Ok((slot, from, to, n.keys_in_slot(slot)?, n.redirections(from)?))
    })
    .await?;
    let started = Instant::now();
    blocking(nodes, move |n| n.migrate_slot(slot, to)).await.with_context(|| format!("moving slot {slot}"))?;
    let took = started.elapsed().as_secs_f64();
    let after = blocking(nodes, move |n| n.redirections(from)).await?;
    let (asked, again, redirected) = (after.0 - before.0, after.1 - before.1, after.2 - before.2);
    Ok(format!(
        "slot {slot} ({keys} keys) :{from} → :{to} in {took:.1} s (old owner answered ASK {asked}, \
         TRYAGAIN {again}, MOVED {redirected})"
    ))
}

/// Runs `f` on the cluster's nodes on a blocking thread (the nodes are driven by `redis-cli`).
async fn blocking<T: Send + 'static>(
    nodes: &Arc<Mutex<TestCluster>>,
    f: impl FnOnce(&mut TestCluster) -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    let nodes = nodes.clone();
    let answer = tokio::task::spawn_blocking(move || {
        let mut guard = nodes.lock().map_err(|_| std::io::Error::other("the cluster's lock is poisoned"))?;
        f(&mut guard)
    });
    Ok(answer.await??)
}
