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
//! | `{prefix}:{pN}:dedupe:<key>` | string | dedupe marker, expires (PX) |
//!
//! A job's partition is FNV-1a 64 of its id modulo the partition count: stable across
//! processes, versions and platforms (unlike `std`'s `DefaultHasher`).

use redis::{Script, ScriptInvocation};

use crate::store::JobId;

/// Keys of one partition.
#[derive(Debug, Clone)]
pub(super) struct Partition {
    base: String,
}

impl Partition {
    pub fn new(prefix: &str, index: u16) -> Self {
        Self { base: format!("{prefix}:{{p{index}}}") }
    }

    pub fn due(&self) -> String {
        format!("{}:due", self.base)
    }
    pub fn inflight(&self) -> String {
        format!("{}:inflight", self.base)
    }
    pub fn hold(&self) -> String {
        format!("{}:hold", self.base)
    }
    pub fn dead(&self) -> String {
        format!("{}:dead", self.base)
    }
    pub fn seq(&self) -> String {
        format!("{}:seq", self.base)
    }
    /// The prefix of job hashes; scripts append the id.
    pub fn job_prefix(&self) -> String {
        format!("{}:job:", self.base)
    }
    pub fn job(&self, id: &str) -> String {
        format!("{}:job:{id}", self.base)
    }
    pub fn dedupe(&self, key: &str) -> String {
        format!("{}:dedupe:{key}", self.base)
    }

    /// Starts a call of `script` with the calling convention of `common.lua`.
    pub fn invoke<'a>(&self, script: &'a Script) -> ScriptInvocation<'a> {
        let mut inv = script.prepare_invoke();
        inv.key(self.due()).key(self.inflight()).key(self.hold()).key(self.dead()).key(self.seq());
        inv.arg(self.job_prefix());
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

/// The partition of a job id among `partitions`.
pub(super) fn partition_of(id: &JobId, partitions: u16) -> u16 {
    (fnv1a64(id.as_str().as_bytes()) % u64::from(partitions.max(1))) as u16
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
        assert_eq!(p.dedupe("k"), "cg:{p3}:dedupe:k");
    }

    #[test]
    fn glob_escape_makes_special_characters_literal() {
        assert_eq!(glob_escape("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }
}
