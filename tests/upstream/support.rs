//! Helpers: accounts on wiremock servers, limiters on the private test Redis.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cartgate::settings::{RateLimit, Secret};
use cartgate::store::redis::RedisConn;
use cartgate::testkit::TestRedis;
use cartgate::upstream::{Account, AccountSpec, Credential, Limiter, Upstream, UpstreamClient};
use url::Url;

/// Generous enough that classification tests never wait on the limiter.
pub const FAST: RateLimit = RateLimit { requests: 1000, per_secs: 1 };

pub const TOKEN: &str = "tg-token-do-not-log";
pub const KEY: &str = "EZTKkey-do-not-log";

pub fn local_client() -> UpstreamClient {
    UpstreamClient::new(Limiter::local()).unwrap()
}

/// One "replica": its own Redis connection and limiter, sharing `prefix` with the others.
pub async fn replica(prefix: &str, max_wait: Duration) -> UpstreamClient {
    let conn = connect(&TestRedis::shared_url()).await;
    UpstreamClient::new(Limiter::redis(conn, prefix).with_max_wait(max_wait)).unwrap()
}

pub async fn connect(url: &str) -> RedisConn {
    cartgate::store::redis::connection(url).unwrap()
}

pub fn spec(upstream: Upstream, base: &str, rate: RateLimit, timeout: Duration) -> AccountSpec {
    let credential = match upstream {
        Upstream::TradeGecko | Upstream::Shopify => Credential::Bearer(Secret::literal(TOKEN)),
        Upstream::EasyPost => Credential::Basic(Secret::literal(KEY)),
    };
    AccountSpec { upstream, base_url: Url::parse(base).unwrap(), credential, rate_limit: rate, timeout }
}

pub fn tradegecko(client: &UpstreamClient, base: &str) -> Account {
    client.account(spec(Upstream::TradeGecko, base, FAST, Duration::from_secs(5))).unwrap()
}

pub fn easypost(client: &UpstreamClient, base: &str) -> Account {
    client.account(spec(Upstream::EasyPost, base, FAST, Duration::from_secs(5))).unwrap()
}

/// Unix ms on this machine (the test Redis runs here too, so its clock is the same).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

/// Sleeps until a store-clock time (plus a little), as a worker's reschedule would.
pub async fn sleep_until_ms(at: i64) {
    let wait = (at - now_ms()).max(0) as u64;
    tokio::time::sleep(Duration::from_millis(wait + 20)).await;
}
