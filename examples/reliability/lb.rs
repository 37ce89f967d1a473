//! A small round-robin HTTP load balancer in front of the replicas, as a real one behaves:
//! a backend that refuses connections is skipped (and avoided for a moment) and the request
//! goes to the next one; a request that reached a backend which then died is answered 502
//! (the webhook senders deliver again). It records the latency and status of every webhook.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use anyhow::Result;
use bytes::Bytes;

/// How long a backend that refused a connection is skipped.
const AVOID: Duration = Duration::from_millis(500);
const HOP_BY_HOP: [&str; 5] = ["connection", "keep-alive", "transfer-encoding", "host", "content-length"];

/// What the balancer saw of webhook traffic.
#[derive(Default)]
pub struct Seen {
    /// Latency of each answered webhook, µs.
    pub latencies_us: Vec<u64>,
    /// Webhook answers by status (502 = the balancer's own).
    pub statuses: std::collections::BTreeMap<u16, u64>,
}

struct Shared {
    ports: Vec<u16>,
    next: AtomicUsize,
    avoid_until: Mutex<Vec<Option<Instant>>>,
    client: reqwest::Client,
    seen: Mutex<Seen>,
    captured: Mutex<Vec<Captured>>,
}

/// A webhook delivery the balancer passed on and a replica accepted, kept to replay exactly.
#[derive(Clone)]
pub struct Captured {
    pub path: String,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Bytes,
}

const CAPTURE: usize = 1000;

pub struct Balancer {
    url: String,
    shared: Arc<Shared>,
    handle: ServerHandle,
}

impl Balancer {
    pub fn start(ports: Vec<u16>) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let url = format!("http://{}", listener.local_addr()?);
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(500))
            .timeout(Duration::from_secs(20))
            .pool_idle_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .build()?;
        let n = ports.len();
        let shared = Arc::new(Shared {
            ports,
            next: AtomicUsize::new(0),
            avoid_until: Mutex::new(vec![None; n]),
            client,
            seen: Mutex::new(Seen::default()),
            captured: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(shared.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 * 1024 * 1024))
                .default_service(web::to(proxy))
        })
        .workers(2)
        .backlog(4096)
        .max_connections(50_000)
        .disable_signals()
        .shutdown_timeout(1)
        .listen(listener)?
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Ok(Self { url, shared, handle })
    }

    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Takes what was seen so far (and starts afresh).
    pub fn take_seen(&self) -> Seen {
        std::mem::take(&mut *lock(&self.shared.seen))
    }

    /// Up to a thousand accepted TradeGecko deliveries, as they were sent.
    pub fn captured(&self) -> Vec<Captured> {
        lock(&self.shared.captured).clone()
    }

    pub async fn stop(&self) {
        self.handle.stop(false).await;
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    /// Backends in round-robin order, the ones to avoid last.
    fn order(&self) -> Vec<usize> {
        let n = self.ports.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed);
        let now = Instant::now();
        let avoid = lock(&self.avoid_until);
        let (mut good, mut bad): (Vec<usize>, Vec<usize>) =
            (0..n).map(|k| (start + k) % n).partition(|&i| avoid[i].is_none_or(|t| t <= now));
        good.append(&mut bad);
        good
    }

    fn avoid(&self, i: usize) {
        lock(&self.avoid_until)[i] = Some(Instant::now() + AVOID);
    }
}

async fn proxy(req: HttpRequest, body: Bytes, shared: web::Data<Shared>) -> HttpResponse {
    let started = Instant::now();
    let webhook = req.path().starts_with("/webhooks/");
    let capture = req.path().starts_with("/webhooks/tradegecko/") && lock(&shared.captured).len() < CAPTURE;
    let copy = capture.then(|| Captured {
        path: req.path().to_owned(),
        headers: req.headers().iter().map(|(k, v)| (k.as_str().to_owned(), v.as_bytes().to_vec())).collect(),
        body: body.clone(),
    });
    let resp = forward(&req, body, &shared).await;
    if let Some(c) = copy.filter(|_| resp.status() == StatusCode::OK) {
        lock(&shared.captured).push(c);
    }
    if webhook {
        let mut seen = lock(&shared.seen);
        seen.latencies_us.push(started.elapsed().as_micros() as u64);
        *seen.statuses.entry(resp.status().as_u16()).or_insert(0) += 1;
    }
    resp
}

async fn forward(req: &HttpRequest, body: Bytes, shared: &Shared) -> HttpResponse {
    let path = req.uri().path_and_query().map_or("/", |p| p.as_str());
    let method = match reqwest::Method::from_bytes(req.method().as_str().as_bytes()) {
        Ok(m) => m,
        Err(_) => return HttpResponse::BadRequest().finish(),
    };
    for i in shared.order() {
        let mut out = shared.client.request(method.clone(), format!("http://127.0.0.1:{}{path}", shared.ports[i]));
        for (k, v) in req.headers() {
            if !HOP_BY_HOP.contains(&k.as_str()) {
                out = out.header(k.as_str(), v.as_bytes());
            }
        }
        match out.body(body.clone()).send().await {
            Ok(resp) => return relay(resp).await,
            // Nothing reached the backend: try the next one, as a real balancer does.
            Err(e) if e.is_connect() => shared.avoid(i),
            Err(_) => return HttpResponse::BadGateway().body("backend failed mid-request"),
        }
    }
    HttpResponse::BadGateway().body("no backend reachable")
}

async fn relay(resp: reqwest::Response) -> HttpResponse {
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut out = HttpResponse::build(status);
    for (k, v) in resp.headers() {
        if !HOP_BY_HOP.contains(&k.as_str()) {
            out.insert_header((k.as_str(), v.as_bytes()));
        }
    }
    match resp.bytes().await {
        Ok(b) => out.body(b),
        Err(_) => HttpResponse::BadGateway().body("backend failed mid-response"),
    }
}
