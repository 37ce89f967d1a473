//! Moving a slot between primaries, as `redis-cli --cluster reshard` does.

use std::time::Duration;

use super::{NodeInfo, PATIENCE, TestCluster, cli, parse_nodes, wait_until};

/// Keys per `MIGRATE` of a slot move: small, so a busy slot stays half-moved for a while and
/// clients meet `ASK` / `TRYAGAIN`, as in a reshard of a large slot.
const MIGRATE_BATCH: usize = 10;
/// The pause between two batches of a slot move (a reshard under load is not instant).
const MIGRATE_PAUSE: Duration = Duration::from_millis(100);

impl TestCluster {
    /// Moves `slot` with its keys to the primary on `to` (a port), as a reshard does: keys go
    /// over 10 at a time with a 100 ms pause between batches, so a busy slot is half-moved
    /// for a while.
    pub fn migrate_slot(&self, slot: u16, to: u16) -> std::io::Result<()> {
        let Some(migration) = self.start_migration(slot, to)? else { return Ok(()) };
        while migration.move_batch(MIGRATE_BATCH)? {
            std::thread::sleep(MIGRATE_PAUSE);
        }
        migration.finish()
    }

    /// Opens the move of `slot` to the primary on `to` (IMPORTING there, MIGRATING on its owner);
    /// `None` when `to` already serves it. Keys then go over with [`Migration::move_keys`] /
    /// [`Migration::move_batch`] until [`Migration::finish`].
    pub fn start_migration(&self, slot: u16, to: u16) -> std::io::Result<Option<Migration>> {
        let from = self.owner_of_slot(slot)?;
        let target = self
            .nodes()?
            .into_iter()
            .find(|n| n.port == to && n.primary)
            .ok_or_else(|| std::io::Error::other(format!("port {to} is not a primary")))?;
        if from.port == to {
            return Ok(None);
        }
        let s = slot.to_string();
        cli(to, &["CLUSTER", "SETSLOT", &s, "IMPORTING", &from.id])?;
        cli(from.port, &["CLUSTER", "SETSLOT", &s, "MIGRATING", &target.id])?;
        let primaries = self.nodes()?.into_iter().filter(|n| n.primary && !n.failed).map(|n| n.port).collect();
        Ok(Some(Migration { slot, from: from.port, to: target, primaries }))
    }
}

/// A slot half moved ([`TestCluster::start_migration`]): clients meet `ASK` for keys already on
/// the new owner and `TRYAGAIN` for multi-key calls whose keys are split.
pub struct Migration {
    slot: u16,
    /// The old owner's port.
    from: u16,
    to: NodeInfo,
    /// The primaries' ports when the move started.
    primaries: Vec<u16>,
}

impl Migration {
    /// The old owner's port.
    pub fn from(&self) -> u16 {
        self.from
    }

    /// Moves `keys` (of the slot; missing ones are skipped) to the new owner in one `MIGRATE`.
    /// A key already there fails it (`BUSYKEY`), as it fails a reshard.
    pub fn move_keys(&self, keys: &[&str]) -> std::io::Result<()> {
        let port = self.to.port.to_string();
        let mut args = vec!["MIGRATE", "127.0.0.1", &port, "", "0", "5000", "KEYS"];
        args.extend(keys);
        let answer = cli(self.from, &args)?;
        if !matches!(answer.trim(), "OK" | "NOKEY") {
            return Err(std::io::Error::other(format!("MIGRATE of slot {}: {answer}", self.slot)));
        }
        Ok(())
    }

    /// Moves the next (up to) `n` keys the old owner lists; `false` once none is left.
    pub fn move_batch(&self, n: usize) -> std::io::Result<bool> {
        let keys = cli(self.from, &["CLUSTER", "GETKEYSINSLOT", &self.slot.to_string(), &n.to_string()])?;
        let keys: Vec<&str> = keys.lines().map(str::trim).filter(|k| !k.is_empty()).collect();
        if keys.is_empty() {
            return Ok(false);
        }
        self.move_keys(&keys)?;
        Ok(true)
    }

    /// Every primary says the new owner serves the slot (its remaining keys must have moved).
    pub fn finish(self) -> std::io::Result<()> {
        let s = self.slot.to_string();
        for port in &self.primaries {
            cli(*port, &["CLUSTER", "SETSLOT", &s, "NODE", &self.to.id])?;
        }
        let serves = |text: String| {
            let nodes = parse_nodes(&text);
            nodes.iter().any(|n| n.id == self.to.id && n.slots.iter().any(|&(a, b)| (a..=b).contains(&self.slot)))
        };
        wait_until(PATIENCE, || self.primaries.iter().all(|&p| cli(p, &["CLUSTER", "NODES"]).is_ok_and(serves)))
    }
}
