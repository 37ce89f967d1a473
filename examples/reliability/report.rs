//! One row per scenario, and the table they make.

use crate::cluster::Cluster;
use crate::lb::Seen;
use crate::workload::Recon;

/// What a scenario reports.
#[derive(Debug, Default)]
pub struct Row {
    pub scenario: String,
    pub orders: usize,
    pub lost: usize,
    pub duplicates: usize,
    /// (answered as expected, sent); `None` when the scenario sends none.
    pub bad: Option<(u64, u64)>,
    pub peak_rss_mb: Vec<u64>,
    pub p99_webhook_ms: Option<f64>,
    pub secs: f64,
    /// Failed checks (besides loss and duplicates); empty when all passed.
    pub failures: Vec<String>,
    /// What was measured besides the columns.
    pub notes: Vec<String>,
}

impl Row {
    pub fn new(scenario: &str) -> Self {
        Self { scenario: scenario.to_owned(), ..Default::default() }
    }

    /// Fills the columns every scenario shares.
    pub fn finish(&mut self, cluster: &mut Cluster, recon: &Recon, seen: &Seen) {
        cluster.sample_rss();
        self.orders = recon.expected;
        self.lost = recon.lost.len();
        self.duplicates = recon.duplicates();
        self.peak_rss_mb = cluster.replicas.iter().map(|r| r.peak_rss_kb.div_ceil(1024)).collect();
        self.p99_webhook_ms = p99_ms(&seen.latencies_us);
        let fulfil = recon.dup_fulfillments.map_or("n/a (no shipment pickup in this build)".into(), |n| n.to_string());
        self.notes.push(format!(
            "ledger {:?}; warehouse duplicates {}, phantom {}, extra cart fulfillments {fulfil} (Shopify: {} of {} \
             orders from Shopify); dead letters {}",
            recon.statuses, recon.dup_wms, recon.phantom, recon.dup_shop_fulfillments, recon.shopify, recon.dead
        ));
        self.notes.push(format!("webhook answers at the balancer {:?}", seen.statuses));
        let per_order = |n: usize| n as f64 / recon.expected.max(1) as f64;
        self.notes.push(format!(
            "upstream calls per order: TradeGecko {:.1}, EasyPost {:.1}",
            per_order(cluster.tg.record().entries().len()),
            per_order(cluster.ep.record().entries().len())
        ));
        if !recon.lost.is_empty() {
            let some: Vec<_> = recon.lost.iter().take(10).collect();
            self.notes.push(format!("lost cart orders (first 10): {some:?}"));
        }
        self.check(recon.dead == 0, format!("{} jobs dead-lettered", recon.dead));
    }

    /// With shipment pickup, every order of the scenario ends `confirmed`: its tracking is in
    /// its cart (a TradeGecko or Shopify fulfillment per pick).
    pub fn check_confirmed(&mut self, recon: &Recon) {
        if recon.dup_fulfillments.is_some() {
            let confirmed = recon.statuses.get("confirmed").copied().unwrap_or(0);
            let failure = format!(
                "{} of {} orders not confirmed (tracking not in the cart)",
                recon.expected - confirmed.min(recon.expected),
                recon.expected
            );
            self.check(confirmed >= recon.expected, failure);
        }
    }

    pub fn check(&mut self, ok: bool, failure: String) {
        if !ok {
            self.failures.push(failure);
        }
    }

    pub fn failed(&self) -> bool {
        self.lost > 0 || self.duplicates > 0 || !self.failures.is_empty()
    }
}

/// The 99th percentile in ms.
pub fn p99_ms(us: &[u64]) -> Option<f64> {
    if us.is_empty() {
        return None;
    }
    let mut v = us.to_vec();
    v.sort_unstable();
    let idx = ((v.len() as f64) * 0.99).ceil() as usize;
    Some(v[idx.clamp(1, v.len()) - 1] as f64 / 1000.0)
}

pub fn print(rows: &[Row]) {
    println!();
    println!(
        "| {:<22} | {:>6} | {:>4} | {:>10} | {:>13} | {:>20} | {:>11} | {:>6} | {:<6} |",
        "scenario",
        "orders",
        "lost",
        "duplicates",
        "bad req. ok",
        "peak RSS MB/replica",
        "p99 webhook",
        "time s",
        "checks"
    );
    println!(
        "|{:-<24}|{:->8}|{:->6}|{:->12}|{:->15}|{:->22}|{:->13}|{:->8}|{:-<8}|",
        "", "", "", "", "", "", "", "", ""
    );
    for r in rows {
        let bad = r.bad.map_or("n/a".into(), |(ok, n)| format!("{ok}/{n}"));
        let rss = r.peak_rss_mb.iter().map(u64::to_string).collect::<Vec<_>>().join("/");
        let p99 = r.p99_webhook_ms.map_or("n/a".into(), |ms| format!("{ms:.1} ms"));
        let checks = if r.failed() { "FAIL" } else { "ok" };
        println!(
            "| {:<22} | {:>6} | {:>4} | {:>10} | {:>13} | {:>20} | {:>11} | {:>6.0} | {:<6} |",
            r.scenario, r.orders, r.lost, r.duplicates, bad, rss, p99, r.secs, checks
        );
    }
    println!();
    for r in rows {
        println!("{}:", r.scenario);
        for f in &r.failures {
            println!("  FAIL {f}");
        }
        for n in &r.notes {
            println!("  - {n}");
        }
    }
}
