//! Reliability proof (issue #11): three `cartgate serve` replicas behind a load balancer, one
//! Redis with `appendonly yes` (a Redis Cluster in scenario 6), both simulators in this process;
//! six scenarios, each ending with an exact reconciliation of the simulators' records against
//! the ledger.
//!
//! Run it through `scripts/reliability` (which builds the binary first); `--help` lists the
//! counts and rates. Exits 1 when any scenario loses an order, duplicates one, or fails a check.

mod cluster;
mod config;
mod flood;
mod holds;
mod lb;
mod outage;
mod redis_cluster;
mod report;
mod scenarios;
mod workload;

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;

use crate::cluster::{Spec, TG_WINDOW_SECS};
use crate::report::Row;

#[derive(Parser)]
#[command(about = "cartgate reliability scenarios against three replicas behind a load balancer")]
struct Args {
    /// The cartgate binary to run as replicas.
    #[arg(long, default_value = "target/release/cartgate")]
    bin: PathBuf,
    /// Where Redis' AOF, the replicas' config and logs go (default: a fresh temporary directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Scenarios to run (1 crash, 2 redis, 3 faults, 4 flood, 5 holds, 6 Redis Cluster).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3,4,5,6")]
    scenarios: Vec<u8>,
    /// About a minute: scenarios 1–3 with few orders.
    #[arg(long)]
    quick: bool,
    #[arg(long, default_value_t = 5000)]
    crash_orders: usize,
    #[arg(long, default_value_t = 1000)]
    redis_orders: usize,
    #[arg(long, default_value_t = 1000)]
    fault_orders: usize,
    #[arg(long, default_value_t = 1000)]
    flood_orders: usize,
    #[arg(long, default_value_t = 20000)]
    hold_orders: usize,
    #[arg(long, default_value_t = 1000)]
    cluster_orders: usize,
    /// Orders created per second in the cart.
    #[arg(long, default_value_t = 40.0)]
    rate: f64,
    /// Orders created per second in the hold storm.
    #[arg(long, default_value_t = 200.0)]
    hold_rate: f64,
    /// TradeGecko's limit, calls per second (its simulator counts fixed 10 s windows; cartgate
    /// is configured 5% below).
    #[arg(long, default_value_t = 800)]
    tg_rate: u32,
    /// EasyPost's limit, calls per second (cartgate is configured 5% below).
    #[arg(long, default_value_t = 200)]
    ep_rate: u32,
    #[arg(long, default_value_t = 5)]
    lease_secs: u64,
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    #[arg(long, default_value_t = 4)]
    kill_every_secs: u64,
    #[arg(long, default_value_t = 10)]
    redis_down_secs: u64,
    /// Seconds between 429 storms (3 s each, both simulators) in scenario 3.
    #[arg(long, default_value_t = 60)]
    storm_every_secs: u64,
    /// Bad requests per second in scenario 4 (all tasks together).
    #[arg(long, default_value_t = 1000.0)]
    flood_rate: f64,
    /// How long each scenario may take to complete its orders.
    #[arg(long, default_value_t = 300)]
    complete_secs: u64,
}

/// Orders per scenario and their pace.
pub struct Counts {
    pub crash: usize,
    pub redis: usize,
    pub faults: usize,
    pub flood: usize,
    pub holds: usize,
    pub cluster: usize,
    pub rate: f64,
    pub hold_rate: f64,
}

/// Timing and load knobs.
pub struct Timing {
    pub kill_every_secs: u64,
    pub redis_down_secs: u64,
    pub storm_every_secs: u64,
    pub complete: Duration,
    pub flood_rate: f64,
    pub flood_tasks: usize,
    pub rss_growth_mb: i64,
    pub probes: usize,
}

impl Args {
    /// `--quick`: scenarios 1–3 with few orders, for `scripts/test`.
    fn quick(&mut self) {
        self.scenarios.retain(|s| *s <= 3);
        (self.crash_orders, self.redis_orders, self.fault_orders) = (150, 100, 30);
        self.rate = self.rate.min(15.0);
        self.complete_secs = self.complete_secs.min(300);
    }

    fn spec(&self, dir: PathBuf) -> Spec {
        Spec {
            bin: self.bin.clone(),
            dir,
            replicas: 3,
            tg_rate: self.tg_rate,
            ep_rate: self.ep_rate,
            lease_secs: self.lease_secs,
            concurrency: self.concurrency,
        }
    }

    fn counts(&self) -> Counts {
        Counts {
            crash: self.crash_orders,
            redis: self.redis_orders,
            faults: self.fault_orders,
            flood: self.flood_orders,
            holds: self.hold_orders,
            cluster: self.cluster_orders,
            rate: self.rate,
            hold_rate: self.hold_rate,
        }
    }

    fn timing(&self) -> Timing {
        Timing {
            kill_every_secs: self.kill_every_secs.max(2),
            redis_down_secs: self.redis_down_secs,
            storm_every_secs: self.storm_every_secs.max(5),
            complete: Duration::from_secs(self.complete_secs),
            flood_rate: self.flood_rate,
            flood_tasks: 32,
            rss_growth_mb: 100,
            probes: 10,
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = Args::parse();
    if args.quick {
        args.quick();
    }
    let dir =
        args.dir.clone().unwrap_or_else(|| std::env::temp_dir().join(format!("cartgate-rel-{}", std::process::id())));
    let (spec, counts, timing) = (args.spec(dir.clone()), args.counts(), args.timing());
    eprintln!(
        "reliability: {} replicas of {}, files in {}; limits TradeGecko {}/s (real accounts: 1/s), EasyPost {}/s; \
         cartgate configured at {}/{TG_WINDOW_SECS} s and {}/s",
        spec.replicas,
        spec.bin.display(),
        dir.display(),
        spec.tg_rate,
        spec.ep_rate,
        spec.cartgate_tg_requests(),
        spec.cartgate_ep_rate()
    );
    let mut rows = Vec::new();
    for s in &args.scenarios {
        eprintln!("== scenario {s}");
        let result = match s {
            1 => scenarios::crash(&spec, &counts, &timing).await,
            2 => outage::redis_restart(&spec, &counts, &timing).await,
            3 => scenarios::upstream_faults(&spec, &counts, &timing).await,
            4 => flood::bad_input(&spec, &counts, &timing).await,
            5 => holds::hold_storm(&spec, &counts, &timing).await,
            6 => redis_cluster::failover_and_move(&spec, &counts, &timing).await,
            other => Err(anyhow::anyhow!("no scenario {other}")),
        };
        rows.push(result.unwrap_or_else(|e| {
            let mut row = Row::new(&format!("{s} (did not run)"));
            row.failures.push(format!("{e:#}"));
            row
        }));
    }
    report::print(&rows);
    if rows.iter().any(Row::failed) {
        std::process::exit(1);
    }
}
