//! Webhook intake throughput: the full TradeGecko path (verify + dedupe + durable enqueue in
//! Redis) next to a bare actix-web handler that only reads the body and checks the HMAC.
//!
//! Run: `cargo bench --bench intake` (needs `wrk`; `scripts/bench` installs it). Both servers
//! run in this process on loopback with the same number of actix workers; wrk runs beside them
//! on the same 2 cores, so the ratio is what matters, not the absolute numbers. Then the full
//! path is paced at half the throughput it reached, and its latency percentiles are reported.
//!
//! Env: `BENCH_SECS` per run (default 6), `BENCH_ROUNDS` (default 3), `BENCH_CONNECTIONS`
//! (default 32), `BENCH_STORE=memory` to run the intake on the embedded store (isolates the HTTP
//! path from the Redis round trip), `BENCH_PARTITIONS` (default 8, as `config/default.toml`) for
//! the Redis store's partitions.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::io::Write;
use std::process::Command;
use std::time::Duration;

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use cartgate::domain::{CartId, MerchantId};
use cartgate::signature::{tradegecko_sign, tradegecko_verify};
use cartgate::testkit::TestRedis;
use cartgate::testkit::wiring::{CartWiring, MerchantWiring, WiredSecret, Wiring};

/// The allocator of the `cartgate` binary, for every server in this process alike.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SECRET: &str = "bench-client-secret";
const ORDERS: u64 = 2_000;

struct Run {
    rps: f64,
    p50: String,
    p99: String,
    /// Requests wrk completed.
    requests: f64,
    /// CPU seconds spent during the run by this process (the server under test), by wrk, and by
    /// redis-server.
    cpu: Cpu,
}

/// CPU seconds used so far: this process, its waited-for children (wrk), and redis-server.
#[derive(Clone, Copy, Default)]
struct Cpu {
    server: f64,
    wrk: f64,
    redis: f64,
}

impl Cpu {
    /// From `/proc/self/stat` (utime, stime, cutime, cstime in clock ticks) and `INFO cpu`.
    async fn now(redis_url: &str) -> Self {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // Fields after the command name (which is in parentheses and may hold spaces).
        let fields: Vec<f64> = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(|f| f.parse().unwrap_or(0.0)).collect())
            .unwrap_or_default();
        let ticks = |i: usize| fields.get(i).copied().unwrap_or(0.0) / CLOCK_TICKS;
        // utime is field 14 of stat, i.e. index 11 after the name and state.
        Self { server: ticks(11) + ticks(12), wrk: ticks(13) + ticks(14), redis: redis_cpu(redis_url).await }
    }

    fn since(self, before: Self) -> Self {
        Self { server: self.server - before.server, wrk: self.wrk - before.wrk, redis: self.redis - before.redis }
    }
}

/// `USER_HZ`: 100 on every Linux this runs on.
const CLOCK_TICKS: f64 = 100.0;

/// redis-server's CPU seconds (user + system, all its threads).
async fn redis_cpu(url: &str) -> f64 {
    let Ok(client) = redis::Client::open(url) else { return 0.0 };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return 0.0 };
    let info: String = redis::cmd("INFO").arg("cpu").query_async(&mut conn).await.unwrap_or_default();
    let field = |name: &str| {
        info.lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    field("used_cpu_sys") + field("used_cpu_user")
}

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// A wrk script cycling through pre-signed bodies with a unique delivery id per request;
/// `delay_ms` > 0 paces each connection.
fn wrk_script(path: &str, delay_ms: f64) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".lua").tempfile().expect("temp file");
    let mut bodies = String::new();
    let mut sigs = String::new();
    for id in 1..=ORDERS {
        let body = format!(
            r#"{{"object_id":{id},"event":"order.create","timestamp":1546272000,"resource_url":"https://api.tradegecko.com/orders/{id}"}}"#
        );
        sigs.push_str(&format!("\"{}\",\n", tradegecko_sign(SECRET, body.as_bytes())));
        bodies.push_str(&format!("[[{body}]],\n"));
    }
    let script = format!(
        r#"local bodies = {{ {bodies} }}
local sigs = {{ {sigs} }}
local n = #bodies
local i = 0
local threads = 0
function setup(thread) threads = threads + 1; thread:set("tid", threads) end
function request()
  i = i + 1
  local k = (i % n) + 1
  local headers = {{ ["Content-Type"] = "application/json", ["X-Gecko-Signature"] = sigs[k],
    ["X-Gecko-Delivery"] = "d-" .. tid .. "-" .. i }}
  return wrk.format("POST", "{path}", headers, bodies[k])
end
{delay}
"#,
        delay = if delay_ms > 0.0 { format!("function delay() return {delay_ms:.3} end") } else { String::new() }
    );
    f.write_all(script.as_bytes()).expect("write script");
    f
}

/// Runs wrk against `url` and accounts the CPU every party used meanwhile.
async fn wrk(url: &str, path: &'static str, delay_ms: f64, redis_url: &str) -> Run {
    let before = Cpu::now(redis_url).await;
    let url = url.to_owned();
    let text = tokio::task::spawn_blocking(move || run_wrk(&url, path, delay_ms)).await.expect("wrk");
    let cpu = Cpu::now(redis_url).await.since(before);
    let field = |prefix: &str, nth: usize| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix) || (prefix.starts_with(' ') && l.contains(prefix)))
            .and_then(|l| l.split_whitespace().nth(nth))
            .unwrap_or("?")
            .to_owned()
    };
    if text.contains("Non-2xx") {
        eprintln!("warning: some answers were not 2xx:\n{text}");
    }
    Run {
        rps: field("Requests/sec:", 1).parse().unwrap_or(0.0),
        p50: field("50%", 1),
        p99: field("99%", 1),
        requests: field(" requests in ", 0).parse().unwrap_or(0.0),
        cpu,
    }
}

fn run_wrk(url: &str, path: &str, delay_ms: f64) -> String {
    let secs = env_u64("BENCH_SECS", 6);
    let conns = env_u64("BENCH_CONNECTIONS", 32);
    let script = wrk_script(path, delay_ms);
    let out = Command::new("wrk")
        .args(["-t2", &format!("-c{conns}"), &format!("-d{secs}s"), "--latency", "-s"])
        .arg(script.path())
        .arg(url)
        .output()
        .expect("wrk runs (install it: apt-get install wrk, or use scripts/bench)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn bare(req: HttpRequest, body: web::Bytes) -> HttpResponse {
    let sig = req.headers().get("x-gecko-signature").map(|v| v.as_bytes());
    match tradegecko_verify([SECRET], sig, &body) {
        Ok(()) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::Unauthorized().finish(),
    }
}

/// The bare handler plus one Redis round trip on a multiplexed connection: what any durable
/// intake pays on this machine before doing anything of its own.
async fn bare_ping(
    req: HttpRequest,
    body: web::Bytes,
    conn: web::Data<cartgate::store::redis::RedisConn>,
) -> HttpResponse {
    if bare(req, body).await.status() != 200 {
        return HttpResponse::Unauthorized().finish();
    }
    let mut conn = conn.get_ref().clone();
    match redis::cmd("PING").query_async::<String>(&mut conn).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// The bare handler plus cartgate's own durable step (`enqueue_once` through the Redis store),
/// without the intake's HTTP layer: separates the store's cost from the handler's.
async fn bare_enqueue(req: HttpRequest, body: web::Bytes, store: web::Data<cartgate::store::Store>) -> HttpResponse {
    if bare(req.clone(), body).await.status() != 200 {
        return HttpResponse::Unauthorized().finish();
    }
    let n: u64 = rand::random_range(1..=ORDERS);
    let job = cartgate::jobs::ImportOrder {
        cart: cartgate::domain::CartId::parse("bench-tg").expect("cart id"),
        order_id: n,
        trigger: "bench".into(),
    }
    .job();
    let key = format!("tg:bench-tg:{}", rand::random::<u64>());
    let ttl = Duration::from_secs(3600);
    match store.jobs().enqueue_once(&key, ttl, &job, cartgate::store::When::Now).await {
        Ok(_) => HttpResponse::Ok().finish(),
        Err(_) => HttpResponse::ServiceUnavailable().finish(),
    }
}

/// (EVALSHA calls, EVALSHA usec) from INFO commandstats.
async fn redis_stats(url: &str) -> (f64, f64) {
    let Ok(client) = redis::Client::open(url) else { return (0.0, 0.0) };
    let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return (0.0, 0.0) };
    let info: String = redis::cmd("INFO").arg("commandstats").query_async(&mut conn).await.unwrap_or_default();
    let field = |cmd: &str, name: &str| {
        info.lines()
            .find(|l| l.starts_with(&format!("cmdstat_{cmd}:")))
            .and_then(|l| l.split([':', ',']).find_map(|kv| kv.strip_prefix(&format!("{name}="))))
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (field("evalsha", "calls"), field("evalsha", "usec"))
}

/// The run with the median throughput.
fn median_run(runs: &[Run]) -> &Run {
    let mut sorted: Vec<&Run> = runs.iter().collect();
    sorted.sort_by(|a, b| a.rps.total_cmp(&b.rps));
    sorted[sorted.len() / 2]
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// cartgate with the workers off, one merchant whose cart `bench-tg` signs with [`SECRET`]; the
/// upstreams are never called.
fn wiring(store_url: &str, partitions: u16) -> Wiring {
    let mut wiring = Wiring::new(store_url);
    (wiring.store.prefix, wiring.store.partitions) = ("bench".into(), Some(partitions));
    wiring.workers.enabled = Some(false);
    let wms_url = "http://127.0.0.1:9".parse().expect("url");
    let merchant_id = MerchantId::parse("bench").expect("merchant id");
    let mut merchant = MerchantWiring::easypost(merchant_id, wms_url, WiredSecret::new("EZAK-bench"));
    let cart_url = "https://api.tradegecko.com".parse().expect("url");
    let cart_id = CartId::parse("bench-tg").expect("cart id");
    let (token, secret) = (WiredSecret::new("bench-token"), WiredSecret::new(SECRET));
    merchant.carts.push(CartWiring::tradegecko(cart_id, cart_url, token, secret));
    wiring.merchants.push(merchant);
    wiring
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("runtime");
    rt.block_on(run());
}

async fn run() {
    let partitions = u16::try_from(env_u64("BENCH_PARTITIONS", 8)).expect("BENCH_PARTITIONS fits u16");
    let dir = tempfile::tempdir().expect("temp dir");
    let redis = TestRedis::start(true, Some(dir.path())).expect("redis-server");
    let store_url = if std::env::var("BENCH_STORE").as_deref() == Ok("memory") { "memory://" } else { redis.url() };
    let settings = wiring(store_url, partitions).settings().expect("bench config");
    let app = cartgate::testkit::app::spawn(settings, cartgate::workflows::registry).await.expect("cartgate builds");
    let intake = app.url();

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let bare_url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = HttpServer::new(|| App::new().route("/webhooks/tradegecko/bench-tg", web::post().to(bare)))
        .workers(2)
        .listen(listener)
        .expect("listen")
        .run();
    tokio::spawn(server);
    let conn = cartgate::store::redis::connection(redis.url()).expect("redis connection");
    let conn = web::Data::new(conn);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let ping_url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = HttpServer::new(move || {
        App::new().app_data(conn.clone()).route("/webhooks/tradegecko/bench-tg", web::post().to(bare_ping))
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    let store = cartgate::store::Store::connect(&cartgate::settings::StoreSettings {
        url: redis.url().to_owned(),
        prefix: "bench-raw".into(),
        partitions,
        ..Default::default()
    })
    .expect("store");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let enqueue_url = format!("http://{}", listener.local_addr().expect("addr"));
    let server = HttpServer::new(move || {
        // As cartgate does: each worker its own connection.
        let store = web::Data::new(store.for_this_thread().expect("store"));
        App::new().app_data(store).route("/webhooks/tradegecko/bench-tg", web::post().to(bare_enqueue))
    })
    .workers(2)
    .listen(listener)
    .expect("listen")
    .run();
    tokio::spawn(server);
    tokio::time::sleep(Duration::from_millis(300)).await;

    let path = "/webhooks/tradegecko/bench-tg";
    let url = redis.url();
    // Rounds interleave the servers, so a slow spell of this shared machine hits every row
    // alike; each row reports its median round, and the ratio is the median of the rounds'
    // own ratios (bare and cartgate measured seconds apart).
    let rounds = env_u64("BENCH_ROUNDS", 3).max(1);
    let (mut bare_runs, mut ping_runs, mut enqueue_runs, mut full_runs) = (vec![], vec![], vec![], vec![]);
    let (mut calls, mut usec) = (0.0, 0.0);
    for _ in 0..rounds {
        bare_runs.push(wrk(&bare_url, path, 0.0, url).await);
        ping_runs.push(wrk(&ping_url, path, 0.0, url).await);
        enqueue_runs.push(wrk(&enqueue_url, path, 0.0, url).await);
        let before = redis_stats(url).await;
        full_runs.push(wrk(&intake, path, 0.0, url).await);
        let after = redis_stats(url).await;
        calls += after.0 - before.0;
        usec += after.1 - before.1;
    }
    let ratios: Vec<f64> = bare_runs.iter().zip(&full_runs).map(|(b, f)| f.rps / b.rps.max(1.0)).collect();
    let ping_ratios: Vec<f64> = ping_runs.iter().zip(&full_runs).map(|(p, f)| f.rps / p.rps.max(1.0)).collect();
    let (bare_run, ping_run, enqueue_run, full) =
        (median_run(&bare_runs), median_run(&ping_runs), median_run(&enqueue_runs), median_run(&full_runs));
    // Half of the measured throughput: each of C connections waits C / (rate / 2) seconds.
    let conns = env_u64("BENCH_CONNECTIONS", 32) as f64;
    // wrk schedules a delay in whole milliseconds: below 1 ms it would not pace at all (above
    // 64k req/s with 32 connections), so the pace is never under 1 ms per request per connection.
    let delay_ms = if full.rps > 0.0 { (conns * 1000.0 / (full.rps / 2.0)).max(1.0) } else { 10.0 };
    let half = wrk(&intake, path, delay_ms, url).await;

    println!(
        "webhook intake (wrk -t2 -c{conns}, {}s each, {rounds} interleaved rounds, median round shown, release build, \
         Redis appendonly on loopback, {partitions} partitions)",
        env_u64("BENCH_SECS", 6)
    );
    println!(
        "{:<44} {:>9} {:>9} {:>9} | CPU us per request: {:>6} {:>6} {:>6} {:>6}",
        "server", "req/s", "p50", "p99", "server", "redis", "wrk", "total"
    );
    let rows = [
        ("bare actix: read body + HMAC", bare_run),
        ("bare + one Redis PING (multiplexed)", ping_run),
        ("bare + cartgate's enqueue_once (Redis store)", enqueue_run),
        ("cartgate: verify + dedupe + durable enqueue", full),
        ("cartgate at ~half that rate (paced)", &half),
    ];
    for (name, run) in rows {
        let per = |secs: f64| secs * 1e6 / run.requests.max(1.0);
        let c = run.cpu;
        println!(
            "{name:<44} {:>9.0} {:>9} {:>9} | {:>26.1} {:>6.1} {:>6.1} {:>6.1}",
            run.rps,
            run.p50,
            run.p99,
            per(c.server),
            per(c.redis),
            per(c.wrk),
            per(c.server + c.redis + c.wrk)
        );
    }
    let shown = |rs: &[f64]| rs.iter().map(|r| format!("{r:.2}")).collect::<Vec<_>>().join(" ");
    println!(
        "ratio cartgate / bare = {:.2} (target >= 0.50; rounds: {}); p99 at half load = {} (target < 10 ms)",
        median(&ratios),
        shown(&ratios),
        half.p99
    );
    println!(
        "ratio cartgate / (bare + one Redis round trip) = {:.2} (rounds: {})",
        median(&ping_ratios),
        shown(&ping_ratios)
    );
    let jobs: f64 = full_runs.iter().map(|r| r.requests).sum();
    if calls > 0.0 {
        println!(
            "Redis during the full runs: {calls:.0} enqueue calls for {jobs:.0} webhooks ({:.2} per call), \
             {:.1} us inside the enqueue script per webhook (Redis commandstats)",
            jobs / calls,
            usec / jobs.max(1.0)
        );
    }
    drop(redis);
}
