//! The shared limiter: paced across replicas, never bursted, and honest about when to return.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cartgate::settings::RateLimit;
use cartgate::testkit::{TestRedis, unique_prefix};
use cartgate::upstream::{Account, Limiter, Upstream, UpstreamClient, UpstreamError};

use crate::support::{connect, now_ms, replica, sleep_until_ms, spec};

const R: u32 = 10;
/// How long a simulated upstream call takes.
const CALL_TIME: Duration = Duration::from_millis(30);
const BASE: &str = "http://127.0.0.1:9"; // never called: these tests only acquire

fn account(client: &UpstreamClient, rate: RateLimit) -> Account {
    client.account(spec(Upstream::EasyPost, BASE, rate, Duration::from_secs(1))).unwrap()
}

/// Runs `tasks` workers per account for `run`, each acquiring in a loop and, when told to
/// come back later, sleeping until then (as the worker's reschedule does). Returns every grant
/// as (instance, time taken after the acquire).
async fn hammer(accounts: Vec<Account>, tasks: usize, run: Duration) -> Vec<(usize, Instant)> {
    let grants = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + run;
    let mut handles = Vec::new();
    for (instance, account) in accounts.into_iter().enumerate() {
        for _ in 0..tasks {
            let (account, grants) = (account.clone(), grants.clone());
            handles.push(tokio::spawn(async move {
                while Instant::now() < deadline {
                    match account.acquire().await {
                        Ok(()) => {
                            grants.lock().unwrap().push((instance, Instant::now()));
                            // The call itself takes a while before this worker wants another slot.
                            tokio::time::sleep(CALL_TIME).await;
                        }
                        Err(UpstreamError::RateLimited { until, .. }) => sleep_until_ms(until).await,
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
            }));
        }
    }
    for h in handles {
        h.await.unwrap();
    }
    let mut grants = Arc::try_unwrap(grants).unwrap().into_inner().unwrap();
    grants.sort_by_key(|(_, t)| *t);
    grants
}

/// The most grants in any window of `width` starting at a grant.
fn max_in_window(grants: &[(usize, Instant)], width: Duration) -> usize {
    (0..grants.len())
        .map(|i| grants[i..].iter().take_while(|(_, t)| *t < grants[i].1 + width).count())
        .max()
        .unwrap_or(0)
}

fn assert_paced(grants: &[(usize, Instant)]) {
    assert!(grants.len() >= R as usize, "only {} grants", grants.len());
    let in_second = max_in_window(grants, Duration::from_secs(1));
    let in_quarter = max_in_window(grants, Duration::from_millis(250));
    eprintln!("{} grants; at most {in_second} in 1 s, {in_quarter} in 250 ms", grants.len());
    assert!(in_second <= R as usize + 1, "{in_second} grants in one second (limit {R})");
    // Paced, not bursted: a quarter window holds a quarter of R (+1), never a bucketful.
    assert!(in_quarter <= (R as usize).div_ceil(4) + 1, "burst: {in_quarter} grants within 250 ms");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_share_one_paced_limit() {
    let prefix = unique_prefix();
    let rate = RateLimit { requests: R, per_secs: 1 };
    let mut accounts = Vec::new();
    for _ in 0..3 {
        accounts.push(account(&replica(&prefix, Duration::from_millis(500)).await, rate));
    }
    let grants = hammer(accounts, 4, Duration::from_secs(3)).await;
    assert_paced(&grants);
    let mut served = 0;
    for instance in 0..3 {
        let own: Vec<_> = grants.iter().filter(|(i, _)| *i == instance).copied().collect();
        served += usize::from(!own.is_empty());
        assert!(max_in_window(&own, Duration::from_millis(250)) <= 4, "replica {instance} was handed a burst");
    }
    // Fairness between replicas is not promised (a rescheduled job goes back to the shared
    // queue), but the limit must have been shared: the window bound above held across them.
    assert!(served >= 2, "only one replica was ever served");
}

#[tokio::test(flavor = "current_thread")]
async fn a_stalled_replica_does_not_burst_the_slots_it_slept_through() {
    let rate = RateLimit { requests: 100, per_secs: 1 };
    let account = account(&replica(&unique_prefix(), Duration::from_secs(2)).await, rate);
    let grants = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    // Forty callers take a slot each, 10 ms apart, and sleep until theirs.
    for _ in 0..40 {
        let (account, grants) = (account.clone(), grants.clone());
        handles.push(tokio::spawn(async move {
            loop {
                match account.acquire().await {
                    Ok(()) => return grants.lock().unwrap().push((0, Instant::now())),
                    Err(UpstreamError::RateLimited { until, .. }) => sleep_until_ms(until).await,
                    Err(other) => panic!("unexpected {other:?}"),
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The replica stalls (CPU throttled, say): every sleeper oversleeps its slot.
    std::thread::sleep(Duration::from_millis(300));
    for h in handles {
        h.await.unwrap();
    }
    let mut grants = Arc::try_unwrap(grants).unwrap().into_inner().unwrap();
    grants.sort_by_key(|(_, t)| *t);
    assert_eq!(grants.len(), 40);
    let in_100ms = max_in_window(&grants, Duration::from_millis(100));
    // 10 slots in 100 ms; woken late, the callers take fresh slots rather than going together.
    assert!(in_100ms <= 12, "{in_100ms} calls within 100 ms after the stall (limit 10)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_limiter_paces_the_same_way() {
    let client = UpstreamClient::new(Limiter::local().with_max_wait(Duration::from_millis(500))).unwrap();
    let account = account(&client, RateLimit { requests: R, per_secs: 1 });
    let grants = hammer(vec![account], 6, Duration::from_secs(2)).await;
    assert_paced(&grants);
}

#[tokio::test]
async fn far_slot_is_rate_limited_with_its_time_for_every_replica() {
    let prefix = unique_prefix();
    let slow = RateLimit { requests: 1, per_secs: 10 };
    let a = account(&replica(&prefix, Duration::from_millis(500)).await, slow);
    let b = account(&replica(&prefix, Duration::from_millis(500)).await, slow);
    let first = now_ms();
    a.acquire().await.unwrap();
    for acc in [&a, &b, &a] {
        match acc.acquire().await {
            Err(UpstreamError::RateLimited { until, .. }) => {
                assert!((first + 9_000..=now_ms() + 10_100).contains(&until), "until {until}, first grant {first}");
            }
            other => panic!("expected RateLimited, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn limiter_fails_safe_when_redis_is_down() {
    let mut redis = TestRedis::start(false, None).unwrap();
    let conn = connect(redis.url()).await;
    let client = UpstreamClient::new(Limiter::redis(conn, unique_prefix())).unwrap();
    let account = account(&client, RateLimit { requests: 5, per_secs: 1 });
    account.acquire().await.unwrap();
    redis.stop();
    let err = account.acquire().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { status: None, .. }), "{err:?}");
}

#[tokio::test]
async fn replica_refuses_locally_what_redis_would_refuse() {
    let mut redis = TestRedis::start(false, None).unwrap();
    let conn = connect(redis.url()).await;
    let client = UpstreamClient::new(Limiter::redis(conn, unique_prefix())).unwrap();
    let account = account(&client, RateLimit { requests: 1, per_secs: 10 });
    let first = now_ms();
    account.acquire().await.unwrap();
    // Redis is gone, yet the answer is known: our own slot + 10 s is more than max_wait away.
    redis.stop();
    match account.acquire().await {
        Err(UpstreamError::RateLimited { until, .. }) => assert!(until >= first + 9_000, "{until} vs {first}"),
        other => panic!("expected RateLimited without asking Redis, got {other:?}"),
    }
}

#[tokio::test]
async fn one_expiring_key_per_account_named_without_the_secret() {
    let prefix = unique_prefix();
    let client = replica(&prefix, Duration::from_millis(500)).await;
    let account = account(&client, RateLimit { requests: 5, per_secs: 1 });
    account.acquire().await.unwrap();
    let mut conn = connect(&TestRedis::shared_url()).await;
    let keys: Vec<String> = redis::cmd("KEYS").arg(format!("{prefix}*")).query_async(&mut conn).await.unwrap();
    assert_eq!(keys, vec![format!("{prefix}:rl:{{easypost:{}}}", account.id())]);
    assert!(!keys[0].contains("do-not-log"));
    let ttl: i64 = redis::cmd("PTTL").arg(&keys[0]).query_async(&mut conn).await.unwrap();
    assert!(ttl > 0, "the limiter key must expire, PTTL {ttl}");
}

#[tokio::test]
async fn limiter_for_store_settings_connects_lazily() {
    use cartgate::settings::StoreSettings;
    let settings =
        |url: String| StoreSettings { url, prefix: unique_prefix(), partitions: 4, ..StoreSettings::default() };
    let rate = RateLimit { requests: 5, per_secs: 1 };
    for url in ["memory://".to_owned(), TestRedis::shared_url()] {
        let client = UpstreamClient::new(Limiter::for_store(&settings(url)).unwrap()).unwrap();
        account(&client, rate).acquire().await.unwrap();
    }
    let nobody = format!("redis://127.0.0.1:{}/0", cartgate::testkit::free_port().unwrap());
    let client = UpstreamClient::new(Limiter::for_store(&settings(nobody)).unwrap()).unwrap();
    let err = account(&client, rate).acquire().await.unwrap_err();
    assert!(matches!(err, UpstreamError::Transient { .. }), "{err:?}");
}
