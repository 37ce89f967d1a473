//! Key layout of the Redis store. Per partition `N` (all keys share the hash tag `{pN}`, so every
//! script touches one Redis Cluster slot):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `{prefix}:{pN}:due` | sorted set | ids scored by next attempt (ms) |
//! | `{prefix}:{pN}:inflight` | sorted set | ids scored by lease expiry (ms) |
//! | `{prefix}:{pN}:hold` | sorted set | ids scored by release time (ms) |
//! | `{prefix}:{pN}:dead` | sorted set | ids scored by time of death (ms), capped |
//! | `{prefix}:{pN}:seq` | string | counter for fencing tokens |
//! | `{prefix}:{pN}:job:<id>` | hash | kind, payload, attempts, created_at, token, last_error, rerun |
//! | `{prefix}:{pN}:dedupe:<width>:<n>` | hash | dedupe keys seen in time bucket `n` (see `enqueue.lua`) |
//! | `{prefix}:{pN}:fence` | never written | declared by every script: see "Moving a partition's slot" |
//!
//! A job's partition is FNV-1a 64 of its *owner* — the id's first part after the kind, the cart
//! or merchant (`send_order:acme-tg:5706` → `acme-tg`) — modulo the partition count: stable
//! across processes, versions and platforms (unlike `std`'s `DefaultHasher`). Keeping a tenant's
//! jobs together is what lets the webhook intake's group commit put concurrent deliveries of
//! one cart into one script call (one partition, one call); partitions still spread the tenants
//! over a Redis Cluster, and one tenant never needs more than a slot's worth of throughput (its
//! cart API allows about one call a second).
//!
//! **Moving a partition's slot live** (`redis-cli --cluster reshard`: the slot is MIGRATING on
//! the old owner and IMPORTING on the new one while its keys go over a few at a time). The
//! scripts declare the partition's sets as KEYS but build job hash and dedupe bucket names
//! inside Lua (claim learns its ids from the sets; the bucket follows the store's clock), and
//! Redis checks only declared keys before it runs a script. On a half-moved slot an undeclared
//! key can be on the other node: on the old owner a command on it fails the script midway
//! (earlier writes stay: a job left half changed), on the new owner (after `ASK`) it reads as
//! missing (a claim would lease an empty job, an enqueue or a dedupe mark would create a key
//! that the move then cannot bring over: `BUSYKEY`). Checked on Redis 7.0.
//!
//! So every script also declares the partition's `fence`, a key that never exists. Before a
//! script runs, a node with the slot open checks its declared keys: the old owner answers
//! `TRYAGAIN` when some are there and some not (the fence never is) and `ASK` when none are; the
//! new owner, asked, answers `TRYAGAIN` to a multi-key call with one missing. No script of a
//! partition runs while its slot is being moved: callers get "unavailable" (503, or the job
//! runs later) for as long as the move takes, and nothing is half done. Without a slot move
//! the fence costs nothing (a missing declared key is normal). Without the fence this already
//! happened whenever one of the five sets was empty (no held or dead job), so the fence makes
//! the common case the only case. `tests/store/cluster.rs` moves a busy partition's sets
//! first, the worst order.

use redis::{Script, ScriptInvocation};

use crate::store::JobId;

/// Keys of one partition, spelled once (the store keeps one of these per partition).
#[derive(Debug, Clone)]
pub(super) struct Partition {
    base: String,
    due: String,
    inflight: String,
    hold: String,
    dead: String,
    seq: String,
    /// Never written: see "Moving a partition's slot live" above.
    fence: String,
    /// The prefix of job hashes; scripts append the id.
    job_prefix: String,
    dedupe_prefix: String,
}

impl Partition {
    pub fn new(prefix: &str, index: u16) -> Self {
        let base = format!("{prefix}:{{p{index}}}");
        let key = |name: &str| format!("{base}:{name}");
        Self {
            due: key("due"),
            inflight: key("inflight"),
            hold: key("hold"),
            dead: key("dead"),
            seq: key("seq"),
            fence: key("fence"),
            job_prefix: key("job:"),
            dedupe_prefix: key("dedupe:"),
            base,
        }
    }

    pub fn due(&self) -> &str {
        &self.due
    }
    pub fn inflight(&self) -> &str {
        &self.inflight
    }
    pub fn hold(&self) -> &str {
        &self.hold
    }
    pub fn dead(&self) -> &str {
        &self.dead
    }
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.base)
    }
    /// The prefix of the dedupe buckets; the enqueue script appends `<width>:<n>`.
    pub fn dedupe_prefix(&self) -> &str {
        &self.dedupe_prefix
    }

    /// Starts a call of `script` with the calling convention of `common.lua`.
    pub fn invoke<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        inv.key(&self.due).key(&self.inflight).key(&self.hold).key(&self.dead).key(&self.seq).key(&self.fence);
        inv.arg(&self.job_prefix);
        inv
    }
}

/// FNV-1a, 64 bit.
pub(super) fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// The partition of a job id among `partitions`: that of its owner.
pub(super) fn partition_of(id: &JobId, partitions: u16) -> u16 {
    (fnv1a64(id.owner().as_bytes()) % u64::from(partitions.max(1))) as u16
}

/// `s` as a literal inside a Redis glob pattern (for `ZSCAN … MATCH prefix*`).
pub(super) fn glob_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 1);
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_matches_the_reference_vectors() {
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn keys_carry_the_partition_hash_tag() {
        let p = Partition::new("cg", 3);
        assert_eq!(p.due(), "cg:{p3}:due");
        assert_eq!(p.job("noop:1"), "cg:{p3}:job:noop:1");
        assert_eq!(p.dedupe_prefix(), "cg:{p3}:dedupe:");
        assert_eq!(p.fence, "cg:{p3}:fence");
    }

    #[test]
    fn a_tenants_jobs_share_a_partition() {
        let id = |s: &str| JobId::parse(s).unwrap();
        let of = |s: &str| partition_of(&id(s), 64);
        assert_eq!(of("send_order:acme-tg:5706"), of("import_order:acme-tg:1"));
        assert_eq!(of("send_order:acme-tg:5706"), of("poll_orders:acme-tg"));
        assert_eq!(JobId::parse("check_shipment:m1:order_1").unwrap().owner(), "m1");
        assert_eq!(JobId::parse("noop").unwrap().owner(), "noop");
        // Different owners spread.
        let spread: std::collections::HashSet<u16> = (0..200).map(|n| of(&format!("noop:{n}"))).collect();
        assert!(spread.len() > 50, "{}", spread.len());
    }

    #[test]
    fn glob_escape_makes_special_characters_literal() {
        assert_eq!(glob_escape("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }
}
