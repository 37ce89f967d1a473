//! The system under test: a private Redis (`appendonly yes`), both simulators in this process,
//! three `cartgate serve` child processes sharing that Redis and prefix, and the load balancer
//! in front of them. Each scenario starts a fresh cluster, so its reconciliation is exact.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use cartgate::settings::StoreSettings;
use cartgate::sim::easypost::EasypostSim;
use cartgate::sim::shopify::ShopifySim;
use cartgate::sim::tradegecko::TradegeckoSim;
use cartgate::store::redis::RedisConn;
use cartgate::testkit::world::Wired;
use cartgate::testkit::{TestCluster, TestRedis, free_port};
use std::sync::Arc;

use crate::config::{vm_rss_kb, world_options};
use crate::lb::Balancer;
use crate::workload::Carts;

pub const ADMIN: &str = "reliability-admin-token";
pub const EP_SECRET: &str = "reliability-ep-secret";
pub use cartgate::testkit::world::{CART, MERCHANT};
/// Catalogue size; items above `HOLD_ITEMS_FROM` are the ones the hold storm starves.
pub const ITEMS: usize = 60;
/// TradeGecko's limit is counted over this window in the run (the real one is 300 per 300 s).
pub const TG_WINDOW_SECS: u64 = 10;

/// cartgate is configured at this share of each upstream's limit, as README advises for
/// upstreams with hard windows: calls are spaced evenly, but loopback and scheduling jitter on
/// a loaded 2-core machine move a few arrivals into the next window. 5% absorbs 50 ms of it at
/// EasyPost's 100/s.
const HEADROOM: f64 = 0.95;

/// What a cluster is built with.
#[derive(Clone)]
pub struct Spec {
    pub bin: PathBuf,
    pub dir: PathBuf,
    pub replicas: usize,
    /// TradeGecko's limit in calls per second, enforced by its simulator over fixed
    /// [`TG_WINDOW_SECS`] windows.
    pub tg_rate: u32,
    /// EasyPost's limit in calls per second, enforced by its simulator.
    pub ep_rate: u32,
    pub lease_secs: u64,
    pub concurrency: usize,
}

impl Spec {
    /// TradeGecko calls cartgate may make per [`TG_WINDOW_SECS`].
    pub fn cartgate_tg_requests(&self) -> u32 {
        below(self.tg_rate * TG_WINDOW_SECS as u32)
    }

    /// EasyPost calls cartgate may make per second.
    pub fn cartgate_ep_rate(&self) -> u32 {
        below(self.ep_rate)
    }
}

fn below(limit: u32) -> u32 {
    ((f64::from(limit) * HEADROOM).floor() as u32).max(1)
}

/// One `cartgate serve` child.
pub struct Replica {
    pub port: u16,
    child: Option<Child>,
    pub restarts: u32,
    pub peak_rss_kb: u64,
}

/// The Redis the replicas share: one server (`appendonly yes`), or a Redis Cluster of 3
/// primaries and 3 replicas (scenario 6).
pub enum Backend {
    Single(TestRedis),
    /// Every node (seeds), and the nodes, held here so they live as long as the replicas (the
    /// scenario keeps a handle to kill and move things).
    Cluster {
        seeds: Vec<String>,
        _nodes: Arc<std::sync::Mutex<TestCluster>>,
    },
}

impl Backend {
    /// The `store.url` the replicas are given (a seed node for a cluster).
    pub fn url(&self) -> String {
        self.seeds().swap_remove(0)
    }

    /// Every node a client may start from (the one server; each node of a cluster, so a
    /// client can still find the cluster when the node it first knew is the one killed).
    pub fn seeds(&self) -> Vec<String> {
        match self {
            Self::Single(r) => vec![r.url().to_owned()],
            Self::Cluster { seeds, .. } => seeds.clone(),
        }
    }

    /// A client of the store as cartgate opens it (following MOVED/ASK on a cluster).
    pub fn conn(&self) -> Result<RedisConn> {
        let mut seeds = self.seeds();
        let settings = StoreSettings {
            url: seeds.remove(0),
            cluster_seeds: seeds,
            cluster: matches!(self, Self::Cluster { .. }),
            min_replica_acks: 0,
            ..StoreSettings::default()
        };
        Ok(RedisConn::open(&settings)?)
    }

    /// The single server, for the scenarios that stop and restart it.
    pub fn single(&mut self) -> Result<&mut TestRedis> {
        match self {
            Self::Single(r) => Ok(r),
            Self::Cluster { .. } => bail!("this scenario needs the single Redis"),
        }
    }

    fn stop(&mut self) {
        match self {
            Self::Single(r) => r.stop(),
            // Its nodes stop when it is dropped, with the rest of the system.
            Self::Cluster { .. } => {}
        }
    }
}

pub struct Cluster {
    pub spec: Spec,
    pub redis: Backend,
    pub tg: Arc<TradegeckoSim>,
    pub shop: Arc<ShopifySim>,
    pub ep: Arc<EasypostSim>,
    pub lb: Balancer,
    pub replicas: Vec<Replica>,
    pub prefix: String,
    config: PathBuf,
    pub http: reqwest::Client,
    pub shipments: bool,
}

impl Cluster {
    /// Replicas on one Redis server (`appendonly yes`, files under the scenario's directory).
    pub async fn start(spec: Spec, name: &str) -> Result<Self> {
        let dir = spec.dir.join(name);
        std::fs::create_dir_all(&dir)?;
        let redis = TestRedis::start(true, Some(&dir)).context("starting redis-server")?;
        Self::start_on(spec, &dir, Backend::Single(redis)).await
    }

    /// Replicas on `redis`.
    pub async fn start_on(spec: Spec, dir: &std::path::Path, redis: Backend) -> Result<Self> {
        let ports: Vec<u16> = (0..spec.replicas).map(|_| free_port()).collect::<std::io::Result<_>>()?;
        let lb = Balancer::start(ports.clone())?;
        let prefix = format!("rel{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let clustered = matches!(redis, Backend::Cluster { .. }).then(|| redis.seeds());
        let wired = Wired::start(world_options(&spec, &redis.url(), clustered, &prefix, &lb.url())?).await?;
        let config = dir.join("cartgate.toml");
        wired.write_config(&config)?;
        let replicas =
            ports.into_iter().map(|port| Replica { port, child: None, restarts: 0, peak_rss_kb: 0 }).collect();
        let http = reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?;
        let mut me = Self {
            spec,
            redis,
            tg: wired.sims.tg.clone(),
            shop: wired.shop.as_ref().map(|s| s.sim.clone()).context("the world's Shopify store")?,
            ep: wired.sims.ep.clone(),
            lb,
            replicas,
            prefix,
            config,
            http,
            shipments: false,
        };
        for i in 0..me.replicas.len() {
            me.spawn(i)?;
        }
        for i in 0..me.replicas.len() {
            me.wait_ready(i, Duration::from_secs(60)).await?;
        }
        wired.connect().await?;
        me.shipments = me.probe_shipments().await;
        Ok(me)
    }

    /// Starts replica `i` (its log goes to `<dir>/replica-<i>.log`, appended across restarts).
    pub fn spawn(&mut self, i: usize) -> Result<()> {
        let log_path = self.config.with_file_name(format!("replica-{i}.log"));
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&log_path)?;
        let r = &mut self.replicas[i];
        let child = Command::new(&self.spec.bin)
            .args(["serve", "--config"])
            .arg(&self.config)
            .env("CARTGATE__SERVER__BIND", format!("127.0.0.1:{}", r.port))
            .env("CARTGATE_LOG_FORMAT", "json")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .with_context(|| format!("starting {}", self.spec.bin.display()))?;
        r.child = Some(child);
        Ok(())
    }

    /// `kill -9` replica `i` and reap it.
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.replicas[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn pid(&self, i: usize) -> Option<u32> {
        self.replicas[i].child.as_ref().map(Child::id)
    }

    pub fn replica_url(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.replicas[i].port)
    }

    pub async fn readyz(&self, i: usize) -> Option<u16> {
        let url = format!("{}/readyz", self.replica_url(i));
        let resp = self.http.get(url).timeout(Duration::from_secs(3)).send().await.ok()?;
        Some(resp.status().as_u16())
    }

    pub async fn wait_ready(&self, i: usize, within: Duration) -> Result<()> {
        let started = Instant::now();
        while started.elapsed() < within {
            if self.readyz(i).await == Some(200) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("replica {i} not ready within {within:?} (see its log in {})", self.config.display())
    }

    /// Orders go to the TradeGecko cart only.
    pub fn tradegecko_only(&self) -> Carts {
        Carts { tg: self.tg.clone(), shop: None }
    }

    /// Every second order goes to the Shopify store.
    pub fn both_carts(&self) -> Carts {
        Carts { tg: self.tg.clone(), shop: Some(self.shop.clone()) }
    }

    /// Samples VmRSS of every live replica into its peak; returns the current values (kB).
    pub fn sample_rss(&mut self) -> Vec<u64> {
        let mut now = Vec::new();
        for i in 0..self.replicas.len() {
            let kb = self.pid(i).and_then(vm_rss_kb).unwrap_or(0);
            let r = &mut self.replicas[i];
            r.peak_rss_kb = r.peak_rss_kb.max(kb);
            now.push(kb);
        }
        now
    }

    pub fn admin(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.lb.url())).bearer_auth(ADMIN)
    }

    /// Shipment pickup exists once `POST /admin/merchants/{m}/sync/shipments` does (issue 9).
    async fn probe_shipments(&self) -> bool {
        let path = format!("/admin/merchants/{MERCHANT}/sync/shipments");
        let resp = self.admin(reqwest::Method::POST, &path).send().await;
        resp.is_ok_and(|r| r.status().is_success())
    }

    /// Stops every replica and the servers.
    pub async fn stop(mut self) {
        for i in 0..self.replicas.len() {
            self.kill(i);
        }
        self.lb.stop().await;
        self.tg.stop().await;
        self.shop.stop().await;
        self.ep.stop().await;
        self.redis.stop();
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for r in &mut self.replicas {
            if let Some(mut c) = r.child.take() {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
    }
}
