//! The Lua scripts, each prefixed with `common.lua`. `redis::Script` sends EVALSHA and loads
//! the script on NOSCRIPT, so a restarted or failed-over Redis needs nothing from us.

use std::sync::LazyLock;

use redis::Script;

const COMMON: &str = include_str!("common.lua");

fn script(body: &str) -> Script {
    Script::new(&format!("{COMMON}\n{body}"))
}

pub(super) static ENQUEUE: LazyLock<Script> = LazyLock::new(|| script(include_str!("enqueue.lua")));
pub(super) static CLAIM: LazyLock<Script> = LazyLock::new(|| script(include_str!("claim.lua")));
pub(super) static ACK: LazyLock<Script> = LazyLock::new(|| script(include_str!("ack.lua")));
pub(super) static RETRY: LazyLock<Script> = LazyLock::new(|| script(include_str!("retry.lua")));
pub(super) static HOLD: LazyLock<Script> = LazyLock::new(|| script(include_str!("hold.lua")));
pub(super) static EXTEND: LazyLock<Script> = LazyLock::new(|| script(include_str!("extend.lua")));
pub(super) static BURY: LazyLock<Script> = LazyLock::new(|| script(include_str!("bury.lua")));
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| script(include_str!("release.lua")));
pub(super) static REDRIVE: LazyLock<Script> = LazyLock::new(|| script(include_str!("redrive.lua")));
