//! A private Redis Cluster for tests and benchmarks: 3 primaries + 3 replicas on free loopback
//! ports, in a directory of its own, built with `redis-cli --cluster create`.
//!
//! Nodes run under the same stdin-pipe wrapper as [`super::TestRedis`], so they go away with the
//! test process. The node timeout is short (1 s), so a primary killed with [`TestCluster::kill_primary_of`]
//! is replaced by its replica within a few seconds. [`TestCluster::migrate_slot`] moves one slot
//! to another primary the way `redis-cli --cluster reshard` does (IMPORTING / MIGRATING,
//! `MIGRATE` of its keys, `SETSLOT … NODE`), so clients see `ASK` and then `MOVED`;
//! [`TestCluster::start_migration`] does it step by step (which keys go first is the test's).
//! [`TestCluster::shared`] is one cluster per test binary (start-up costs seconds); a test that
//! kills or moves things starts its own.
//!
//! [`TestCluster::start_tls`]: the same cluster speaking only TLS (`--port 0`, `--tls-cluster`,
//! `--tls-replication`); every helper works on it unchanged (see [`cli`]).

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use self::cli::{cli, tls_args};
use super::redis::free_port;
use super::tls::Certificates;

mod cli;

mod migration;
pub use migration::Migration;

/// How long cluster start-up, a failover or a migration may take before the harness gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// One node of the cluster.
struct Node {
    port: u16,
    child: Option<Child>,
}

/// A running Redis Cluster.
pub struct TestCluster {
    nodes: Vec<Node>,
    dir: std::path::PathBuf,
    /// `Some` for a TLS-only cluster.
    tls: Option<Certificates>,
}

/// A node as `CLUSTER NODES` describes it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub id: String,
    pub port: u16,
    pub primary: bool,
    pub failed: bool,
    /// Slot ranges it serves (primaries), inclusive.
    pub slots: Vec<(u16, u16)>,
}

impl TestCluster {
    /// Starts 6 nodes and joins them into 3 primaries with one replica each; returns once every
    /// node sees `cluster_state:ok` and every replica is in sync.
    pub fn start() -> std::io::Result<Self> {
        retried(|| Self::launch(new_dir()?, None))
    }

    /// [`TestCluster::start`] speaking only TLS, its certificate naming `names` (as
    /// [`super::tls::LOOPBACK_NAMES`]); clients trust the CA of [`TestCluster::certificates`].
    pub fn start_tls(names: &str) -> std::io::Result<Self> {
        retried(|| {
            let dir = new_dir()?;
            let certs = Certificates::make(&dir, names)?;
            Self::launch(dir, Some(certs))
        })
    }

    fn launch(dir: PathBuf, tls: Option<Certificates>) -> std::io::Result<Self> {
        let mut me = Self { nodes: Vec::new(), dir, tls };
        for _ in 0..6 {
            let port = node_port()?;
            if let Some(certs) = &me.tls {
                cli::speaks_tls(port, certs.ca_file());
            }
            let child = me.spawn(port)?;
            me.nodes.push(Node { port, child: Some(child) });
        }
        for node in &me.nodes {
            let up =
                wait_until(Duration::from_secs(10), || cli(node.port, &["PING"]).is_ok_and(|o| o.trim() == "PONG"));
            up.map_err(|_| std::io::Error::other(format!("the node on port {} did not start", node.port)))?;
        }
        let mut create = Command::new("redis-cli");
        create.args(me.nodes.first().map(|n| tls_args(n.port)).unwrap_or_default());
        create.arg("--cluster").arg("create");
        for node in &me.nodes {
            create.arg(format!("127.0.0.1:{}", node.port));
        }
        let out = create.args(["--cluster-replicas", "1", "--cluster-yes"]).stdin(Stdio::null()).output()?;
        if !out.status.success() {
            return Err(std::io::Error::other(format!(
                "redis-cli --cluster create failed: {}",
                String::from_utf8_lossy(&out.stdout)
            )));
        }
        me.wait_healthy()?;
        Ok(me)
    }

    /// The process-wide shared cluster (or `CARTGATE_TEST_CLUSTER_URL`, one seed). Never killed
    /// into: tests that fail nodes start their own.
    pub fn shared_url() -> String {
        if let Ok(url) = std::env::var("CARTGATE_TEST_CLUSTER_URL") {
            return url;
        }
        static SHARED: OnceLock<TestCluster> = OnceLock::new();
        SHARED
            .get_or_init(|| Self::start().unwrap_or_else(|e| panic!("cannot start a Redis Cluster for tests: {e}")))
            .seed_url()
    }

    /// A seed URL (the first node still running).
    pub fn seed_url(&self) -> String {
        let port = self.nodes.iter().find(|n| n.child.is_some()).map_or(0, |n| n.port);
        format!("{}://127.0.0.1:{port}", self.scheme())
    }

    /// Every running node's URL (all seeds).
    pub fn urls(&self) -> Vec<String> {
        let scheme = self.scheme();
        self.nodes.iter().filter(|n| n.child.is_some()).map(|n| format!("{scheme}://127.0.0.1:{}", n.port)).collect()
    }

    /// A TLS cluster's certificates (its CA is `store.tls_ca_file`); `None` in plain text.
    pub fn certificates(&self) -> Option<&Certificates> {
        self.tls.as_ref()
    }

    fn scheme(&self) -> &'static str {
        if self.tls.is_some() { "rediss" } else { "redis" }
    }

    fn spawn(&self, port: u16) -> std::io::Result<Child> {
        let dir = self.dir.display();
        let listen = match &self.tls {
            None => format!("--port {port}"),
            Some(certs) => {
                format!("--port 0 --tls-port {port} --tls-cluster yes --tls-replication yes {}", certs.server_args())
            }
        };
        let script = format!(
            "exec 3<&0; redis-server {listen} --bind 127.0.0.1 --cluster-enabled yes \
             --cluster-config-file nodes-{port}.conf --cluster-node-timeout 1000 --save '' \
             --appendonly no --dir '{dir}' --pidfile '{dir}/{port}.pid' --maxmemory-policy noeviction \
             --loglevel warning </dev/null & pid=$!; cat <&3 >/dev/null; kill -9 $pid 2>/dev/null; wait $pid"
        );
        Command::new("sh")
            .arg("-c")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
    }

    /// The nodes as a running node sees them.
    pub fn nodes(&self) -> std::io::Result<Vec<NodeInfo>> {
        let port = self.nodes.iter().find(|n| n.child.is_some()).map_or(0, |n| n.port);
        Ok(parse_nodes(&cli(port, &["CLUSTER", "NODES"])?))
    }

    /// The primary serving `slot` now.
    pub fn owner_of_slot(&self, slot: u16) -> std::io::Result<NodeInfo> {
        self.nodes()?
            .into_iter()
            .find(|n| n.primary && !n.failed && n.slots.iter().any(|&(a, b)| (a..=b).contains(&slot)))
            .ok_or_else(|| std::io::Error::other(format!("no primary serves slot {slot}")))
    }

    /// The slot of `key` (`CLUSTER KEYSLOT`).
    pub fn slot_of(&self, key: &str) -> std::io::Result<u16> {
        let port = self.nodes.iter().find(|n| n.child.is_some()).map_or(0, |n| n.port);
        cli(port, &["CLUSTER", "KEYSLOT", key])?.trim().parse().map_err(std::io::Error::other)
    }

    /// How many keys `slot` holds on the primary serving it (`CLUSTER COUNTKEYSINSLOT`).
    pub fn keys_in_slot(&self, slot: u16) -> std::io::Result<u64> {
        let owner = self.owner_of_slot(slot)?;
        cli(owner.port, &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()])?
            .trim()
            .parse()
            .map_err(std::io::Error::other)
    }

    /// The redirections the primary on `port` has answered so far: (`ASK`, `TRYAGAIN`, `MOVED`),
    /// from `INFO errorstats`.
    pub fn redirections(&self, port: u16) -> std::io::Result<(u64, u64, u64)> {
        let stats = cli(port, &["INFO", "errorstats"])?;
        let count = |name: &str| {
            stats
                .lines()
                .find_map(|l| l.trim().strip_prefix(&format!("errorstat_{name}:count=")).and_then(|n| n.parse().ok()))
                .unwrap_or(0)
        };
        Ok((count("ASK"), count("TRYAGAIN"), count("MOVED")))
    }

    /// Kills (`kill -9`) the primary that serves `key`'s slot; returns once one of its replicas
    /// serves the slot and the surviving nodes say `cluster_state:ok`. Returns the dead port.
    pub fn kill_primary_of(&mut self, key: &str) -> std::io::Result<u16> {
        let slot = self.slot_of(key)?;
        let victim = self.owner_of_slot(slot)?.port;
        let pid = std::fs::read_to_string(self.dir.join(format!("{victim}.pid")))?;
        Command::new("kill").arg("-9").arg(pid.trim()).status()?;
        if let Some(node) = self.nodes.iter_mut().find(|n| n.port == victim)
            && let Some(mut child) = node.child.take()
        {
            drop(child.stdin.take());
            let _ = child.wait();
        }
        wait_until(PATIENCE, || self.owner_of_slot(slot).is_ok_and(|n| n.port != victim))?;
        self.wait_state_ok()?;
        Ok(victim)
    }

    /// Every running node says `cluster_state:ok`.
    pub fn wait_state_ok(&self) -> std::io::Result<()> {
        wait_until(PATIENCE, || {
            self.nodes
                .iter()
                .filter(|n| n.child.is_some())
                .all(|n| cli(n.port, &["CLUSTER", "INFO"]).is_ok_and(|info| info.contains("cluster_state:ok")))
        })
    }

    /// `cluster_state:ok` everywhere and every replica's link to its primary up.
    fn wait_healthy(&self) -> std::io::Result<()> {
        self.wait_state_ok()?;
        wait_until(PATIENCE, || {
            self.nodes.iter().all(|n| {
                cli(n.port, &["INFO", "replication"]).is_ok_and(|info| {
                    info.contains("role:master") && info.contains("connected_slaves:1")
                        || info.contains("master_link_status:up")
                })
            })
        })
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        for node in &mut self.nodes {
            if let Some(mut child) = node.child.take() {
                drop(child.stdin.take());
                let _ = child.wait();
            }
            cli::forget(node.port);
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a cluster, a second and third time on fresh ports if a node does not come up: its
/// ports are free when chosen, but another test may take one before the node binds it.
fn retried(mut start: impl FnMut() -> std::io::Result<TestCluster>) -> std::io::Result<TestCluster> {
    let mut failed = start();
    for _ in 1..3 {
        let Err(e) = &failed else { break };
        eprintln!("test cluster: {e}; starting it again on other ports");
        failed = start();
    }
    failed
}

/// A free port whose cluster bus port (+10000, which Redis requires to be ≤ 65535) is free too.
fn node_port() -> std::io::Result<u16> {
    loop {
        let port = free_port()?;
        if port <= 55_535 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return Ok(port);
        }
    }
}

/// A fresh directory for a cluster's files.
fn new_dir() -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("cartgate-cluster-{}", super::unique_prefix()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

fn wait_until(within: Duration, mut ok: impl FnMut() -> bool) -> std::io::Result<()> {
    let started = Instant::now();
    while !ok() {
        if started.elapsed() > within {
            return Err(std::io::Error::other("the test cluster did not settle in time"));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

/// `CLUSTER NODES` → the nodes (migration markers `[…]` in the slot list are skipped).
pub fn parse_nodes(text: &str) -> Vec<NodeInfo> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            let port = f.get(1)?.split(['@', ',']).next()?.rsplit(':').next()?.parse().ok()?;
            let flags = f.get(2)?;
            let slots = f
                .iter()
                .skip(8)
                .filter(|s| !s.starts_with('['))
                .filter_map(|s| match s.split_once('-') {
                    Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
                    None => s.parse().ok().map(|n| (n, n)),
                })
                .collect();
            Some(NodeInfo {
                id: (*f.first()?).to_owned(),
                port,
                primary: flags.contains("master"),
                failed: flags.contains("fail") && !flags.contains("fail?") || flags.contains("noaddr"),
                slots,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_nodes_lines_are_read() {
        let text = "07c3 127.0.0.1:30004@40004 slave e7d1 0 1 4 connected\n\
                    e7d1 127.0.0.1:30001@40001,host myself,master - 0 0 1 connected 0-5460 6000 [5461->-abc]\n\
                    aaaa 127.0.0.1:30002@40002 master,fail - 0 0 2 disconnected\n";
        let nodes = parse_nodes(text);
        assert_eq!(nodes.len(), 3);
        assert!(!nodes[0].primary);
        assert_eq!(nodes[1].port, 30001);
        assert_eq!(nodes[1].slots, vec![(0, 5460), (6000, 6000)]);
        assert!(nodes[2].failed);
    }
}
