//! The four workflows on a Redis Cluster (3 primaries + 3 replicas, its own for this test: it
//! kills and moves things, which the binary's other tests must not see), with (a) the primary
//! that holds the cart's jobs killed (`kill -9`) while webhooks arrive, and then (b) the slot of
//! the merchant's ledger (`{m:acme}`) migrated to another primary while webhooks keep arriving
//! and orders flow: every order reaches the warehouse once, every parcel becomes one
//! fulfillment, inventory comes back, no job is dead, and the webhooks were answered only 200
//! or 503 — by the same cartgate, never restarted. One cluster serves both phases (start-up
//! costs seconds on two busy cores).

use std::time::Duration;

use cartgate::domain::OrderStatus;
use cartgate::jobs::ImportOrder;
use cartgate::sim::delivery::DeliveryPolicy;
use cartgate::sim::easypost::InventoryItem;
use cartgate::sim::seed;
use cartgate::sim::tradegecko::{NewLine, NewOrder};
use cartgate::testkit::TestCluster;

use crate::support::{Flow, Options, eventually, start_world};

/// Orders at least: webhooks go on (one each 100 ms) until the failover is over.
const ORDERS: usize = 30;
/// Orders at least during the ledger slot's move (webhooks go on until it is over).
const MOVING_ORDERS: usize = 15;
const PARTITIONS: u16 = 8;

fn new_order(n: usize) -> NewOrder {
    let lines = vec![NewLine { sku: Some(seed::sku(1 + n % 5)), quantity: 1, ..Default::default() }];
    NewOrder { lines, ..Default::default() }
}

/// Every order in `status` within `within`; store errors (a failover) count as "not yet".
async fn all_reach(flow: &Flow, ids: &[u64], status: OrderStatus, within: Duration) -> bool {
    eventually(within, || async {
        for id in ids {
            match flow
                .deps
                .ledger
                .orders
                .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &flow.cart(), *id)
                .await
            {
                Ok(Some(o)) if o.status() == status => {}
                _ => return false,
            }
        }
        true
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flow_survives_a_killed_primary_and_a_moved_ledger_slot_with_no_order_lost_or_doubled() {
    let started = std::time::Instant::now();
    let cluster = tokio::task::spawn_blocking(TestCluster::start).await.unwrap().unwrap();
    let mut world = Options::default().world();
    let store = &mut world.cartgate.store;
    store.url = cluster.seed_url();
    store.cluster = Some(true);
    store.cluster_seeds = Some(cluster.urls());
    store.partitions = Some(PARTITIONS);
    store.min_replica_acks = Some(1);
    // Two busy cores can delay a replica's ack well past the production 200 ms.
    store.replica_ack_timeout_ms = Some(2000);
    let flow = start_world(world).await;
    // Senders retry for hours; the fast test schedule (5 tries in under a second) would give up
    // inside the failover's few seconds, leaving those orders to the hourly poll.
    let patient = DeliveryPolicy { max_attempts: 15, initial_backoff_ms: 100, max_backoff_ms: 1000, timeout_ms: 5000 };
    flow.tg.set_delivery_policy(patient.clone());
    flow.ep.set_delivery_policy(patient);
    let ready = flow.client.get(format!("{}/readyz", flow.address)).send().await.unwrap();
    assert_eq!(ready.status(), 200, "{}", ready.text().await.unwrap());

    // The shard that holds this cart's jobs: its primary is the one to go.
    let import = ImportOrder { cart: flow.cart(), order_id: 1, trigger: String::new() }.job();
    let tag = cartgate::store::redis::partition_tag(&import.id, PARTITIONS);
    let mut ids: Vec<u64> = (0..ORDERS / 3).map(|n| flow.tg.create_order(new_order(n)).unwrap()).collect();
    let killer = tokio::task::spawn_blocking(move || {
        let mut cluster = cluster;
        let port = cluster.kill_primary_of(&tag).unwrap();
        (cluster, port)
    });
    // Webhooks keep coming while the primary dies and its replica takes over.
    let mut n = ids.len();
    while !killer.is_finished() || n < ORDERS {
        ids.push(flow.tg.create_order(new_order(n)).unwrap());
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (cluster, killed) = killer.await.unwrap();

    // (b) The merchant's ledger slot moves to another primary while orders flow: its keys go
    // over in batches, so for a while the slot is half-moved (ASK for a moved key, TRYAGAIN for
    // a script whose keys are split), then every node says the new owner (MOVED).
    let ledger_slot = cluster.slot_of("{m:acme}").unwrap();
    let owner = cluster.owner_of_slot(ledger_slot).unwrap();
    let to =
        cluster.nodes().unwrap().into_iter().find(|n| n.primary && !n.failed && n.port != owner.port).unwrap().port;
    let keys = cluster.keys_in_slot(ledger_slot).unwrap();
    let before_move = cluster.redirections(owner.port).unwrap();
    let mover = tokio::task::spawn_blocking(move || {
        let moved = cluster.migrate_slot(ledger_slot, to);
        (cluster, moved)
    });
    let moving_from = n;
    let deliveries_before_move = flow.tg.deliveries().len();
    while !mover.is_finished() || n < moving_from + MOVING_ORDERS {
        ids.push(flow.tg.create_order(new_order(n)).unwrap());
        n += 1;
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (cluster, moved) = mover.await.unwrap();
    let refused_moving =
        flow.tg.deliveries()[deliveries_before_move..].iter().filter(|d| d.status == Some(503)).count();
    let after_move = cluster.redirections(owner.port).unwrap();
    moved.unwrap_or_else(|e| panic!("moving slot {ledger_slot} from :{} to :{to}: {e}", owner.port));
    assert_eq!(cluster.owner_of_slot(ledger_slot).unwrap().port, to);
    assert!(keys > 0, "the merchant's ledger slot held no keys to move");
    let (asked, again) = (after_move.0 - before_move.0, after_move.1 - before_move.1);
    assert!(asked + again > 0, "no ledger call met the half-moved slot (no ASK, no TRYAGAIN)");

    if !all_reach(&flow, &ids, OrderStatus::AtWms, Duration::from_secs(120)).await {
        let mut seen = Vec::new();
        for id in &ids {
            seen.push((
                *id,
                flow.deps
                    .ledger
                    .orders
                    .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &flow.cart(), *id)
                    .await
                    .map(|o| o.map(|o| o.status())),
            ));
        }
        let answers: Vec<_> = flow.tg.deliveries().iter().map(|d| (d.attempt, d.status, d.error.clone())).collect();
        panic!(
            "not all at the warehouse: {seen:?}\ndepths {:?}\ndead {:?}\nanswers {answers:?}\nkilled {killed} nodes {:#?}",
            flow.deps.jobs.depths().await,
            flow.deps.jobs.dead_letters(10).await,
            cluster.nodes()
        );
    }
    for id in &ids {
        let wms = flow
            .deps
            .ledger
            .orders
            .get(&cartgate::domain::MerchantId::parse("acme").unwrap(), &flow.cart(), *id)
            .await
            .unwrap()
            .unwrap()
            .wms_order_id
            .unwrap();
        flow.ep.ship(&wms, &[]).unwrap();
    }
    assert!(all_reach(&flow, &ids, OrderStatus::Confirmed, Duration::from_secs(120)).await, "not all confirmed");

    let items: Vec<InventoryItem> = (1..=5)
        .map(|n| InventoryItem { barcode: seed::barcode(n), quantity: 40 + n as i64, warehouse_id: None })
        .collect();
    flow.ep.set_inventory(&items).unwrap();
    assert_eq!(flow.post_admin("/admin/merchants/acme/sync/inventory").await, 202);
    let loc = flow.tg.location_id();
    let synced = eventually(Duration::from_secs(60), || async {
        (1..=5).all(|n| flow.tg.stock_on_hand(flow.tg.variant_id(&seed::sku(n)).unwrap(), loc) == 40 + n as i64)
    })
    .await;
    assert!(synced, "inventory did not come back to the cart");

    assert!(flow.ep.duplicate_descriptions().is_empty(), "duplicates: {:?}", flow.ep.duplicate_descriptions());
    assert_eq!(flow.ep.orders().len(), ids.len(), "one warehouse order per cart order");
    let fulfillments = flow.tg.fulfillment_counts();
    assert!(ids.iter().all(|id| fulfillments.get(id) == Some(&1)), "{fulfillments:?}");
    let refused = flow.tg.deliveries().iter().filter(|d| d.status == Some(503)).count();
    let at_end = cluster.redirections(owner.port).unwrap();
    println!(
        "slot move: the old owner answered ASK {asked}, TRYAGAIN {again} while moving ({refused_moving} webhooks 503), MOVED {} while moving and {} after",
        after_move.2 - before_move.2,
        at_end.2 - after_move.2
    );
    println!(
        "{} orders ({} while slot {ledger_slot} with {keys} keys moved :{} → :{to}), {refused} TradeGecko deliveries answered 503, {:.1} s",
        ids.len(),
        ids.len() - moving_from,
        owner.port,
        started.elapsed().as_secs_f64()
    );
    let mut answers: Vec<Option<u16>> =
        flow.tg.deliveries().iter().chain(flow.ep.deliveries().iter()).map(|d| d.status).collect();
    answers.sort();
    answers.dedup();
    assert!(answers.iter().all(|s| matches!(s, Some(200 | 503))), "webhook answers: {answers:?} (killed :{killed})");
    assert_eq!(flow.deps.jobs.depths().await.unwrap().dead, 0);
    tokio::task::spawn_blocking(move || drop(cluster)).await.unwrap();
}
