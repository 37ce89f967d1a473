//! Fault injection shared by both simulators: errors, 429 storms, latency, timeouts, resets.
//!
//! Faults apply to API routes only, never to the `/_sim/…` control routes, so a test can always
//! reach the control plane to turn them off. The OAuth routes (`/oauth/…`, Shopify's `/admin/oauth/…`) have faults of their
//! own (`/_sim/oauth`) and get these only when `path_contains` aims at them. Every random choice comes from one generator
//! seeded by [`FaultConfig::seed`], so a run with the same requests in the same order sees the
//! same faults. Each request draws in a fixed order: storm, timeout, error, reset, spike.
//!
//! * **error**: the answer is a 500, 502 or 503 (equally likely); the 502 has an HTML body as
//!   a load balancer would send, so clients must not assume JSON on 5xx.
//! * **storm**: 429 for every request until the storm ends (the sim's own 429 shape).
//! * **timeout**: the request is accepted and then held for `timeout_ms` (default one hour,
//!   longer than any sane client timeout) before a 504; the handler never runs.
//! * **reset**: the connection is closed without a single response byte (the response body
//!   fails before actix writes the head, so it drops the connection): curl says "Empty reply
//!   from server", hyper/reqwest "connection closed before message completed". With
//!   `reset_after_handler` the handler runs first — the effect happens and its answer is lost,
//!   the ambiguous failure that tests idempotency; otherwise the handler does not run.
//!   (A close, not a TCP RST: actix offers no portable way to send one.)

use std::sync::Mutex;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use super::util::{lock, now_ms};

/// Which faults to inject; all off by default. Settable at start and at run time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// Seed of the generator behind every random choice.
    pub seed: u64,
    /// Share of requests answered 500/502/503 (0.0–1.0).
    pub error_rate: f64,
    /// Latency added to every request, ms.
    pub latency_ms: u64,
    /// Share of requests that get an extra `spike_ms` of latency.
    pub spike_rate: f64,
    pub spike_ms: u64,
    /// Share of requests held without an answer for `timeout_ms` (0 → one hour).
    pub timeout_rate: f64,
    pub timeout_ms: u64,
    /// Share of requests whose connection is dropped mid-response.
    pub reset_rate: f64,
    /// Run the handler before dropping the connection (effect applied, answer lost).
    pub reset_after_handler: bool,
    /// When positive, every request is answered 429 for this many seconds from now.
    pub storm_secs: f64,
    /// Only requests with this method (e.g. `POST`) get faults.
    pub method: Option<String>,
    /// Only requests whose path contains this get faults (e.g. `/orders`).
    pub path_contains: Option<String>,
}

/// What to do to one request.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultAction {
    None,
    /// Answer with this 5xx status.
    Error(u16),
    /// Answer 429; the storm ends at this Unix second.
    RateLimited {
        until_unix: u64,
    },
    /// Hold the request this long, then answer 504.
    Hang(Duration),
    /// Drop the connection mid-response, after running the handler or not.
    Reset {
        after_handler: bool,
    },
}

/// The plan for one request: extra latency, then an action.
#[derive(Clone, Debug)]
pub struct FaultPlan {
    pub delay: Duration,
    pub action: FaultAction,
}

struct State {
    config: FaultConfig,
    rng: StdRng,
    storm_until: Option<(Instant, u64)>,
}

/// The live fault settings of one simulator.
pub struct Faults {
    state: Mutex<State>,
}

const DEFAULT_HANG: Duration = Duration::from_secs(3600);

impl Faults {
    pub fn new(config: FaultConfig) -> Self {
        let me =
            Self { state: Mutex::new(State { config: FaultConfig::default(), rng: seeded(0), storm_until: None }) };
        me.set(config);
        me
    }

    /// Replaces the settings, reseeding the generator (and starting a storm if asked).
    pub fn set(&self, config: FaultConfig) {
        let mut s = lock(&self.state);
        s.rng = seeded(config.seed);
        s.storm_until = None;
        if config.storm_secs > 0.0 {
            let d = Duration::from_secs_f64(config.storm_secs);
            s.storm_until = Some((Instant::now() + d, (now_ms() + d.as_millis() as u64).div_ceil(1000)));
        }
        s.config = config;
    }

    /// Turns every fault off.
    pub fn clear(&self) {
        self.set(FaultConfig::default());
    }

    /// Answers 429 to every API request for `duration` from now (other settings kept).
    pub fn storm(&self, duration: Duration) {
        let mut config = self.config();
        config.storm_secs = duration.as_secs_f64();
        self.set(config);
    }

    pub fn config(&self) -> FaultConfig {
        lock(&self.state).config.clone()
    }

    /// Decides what happens to one API request.
    pub fn plan(&self, method: &str, path: &str) -> FaultPlan {
        let mut s = lock(&self.state);
        let c = s.config.clone();
        let none = FaultPlan { delay: Duration::ZERO, action: FaultAction::None };
        let aimed = c.path_contains.as_deref().is_some_and(|p| path.contains(p));
        if c.method.as_deref().is_some_and(|m| !m.eq_ignore_ascii_case(method))
            || c.path_contains.as_deref().is_some_and(|p| !path.contains(p))
            || ((path.starts_with("/oauth/") || path.starts_with("/admin/oauth/")) && !aimed)
        {
            return none;
        }
        let mut delay = Duration::from_millis(c.latency_ms);
        let action = match s.storm_until {
            Some((until, unix)) if Instant::now() < until => FaultAction::RateLimited { until_unix: unix },
            _ => draw(&mut s.rng, &c),
        };
        if c.spike_rate > 0.0 && s.rng.random_bool(c.spike_rate.clamp(0.0, 1.0)) {
            delay += Duration::from_millis(c.spike_ms);
        }
        FaultPlan { delay, action }
    }
}

fn seeded(seed: u64) -> StdRng {
    StdRng::seed_from_u64(seed)
}

fn hit(rng: &mut StdRng, rate: f64) -> bool {
    rate > 0.0 && rng.random_bool(rate.clamp(0.0, 1.0))
}

fn draw(rng: &mut StdRng, c: &FaultConfig) -> FaultAction {
    if hit(rng, c.timeout_rate) {
        let hang = if c.timeout_ms == 0 { DEFAULT_HANG } else { Duration::from_millis(c.timeout_ms) };
        return FaultAction::Hang(hang);
    }
    if hit(rng, c.error_rate) {
        return FaultAction::Error([500, 502, 503][rng.random_range(0..3)]);
    }
    if hit(rng, c.reset_rate) {
        return FaultAction::Reset { after_handler: c.reset_after_handler };
    }
    FaultAction::None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_gives_the_same_faults() {
        let config = FaultConfig { seed: 7, error_rate: 0.5, ..FaultConfig::default() };
        let a = Faults::new(config.clone());
        let b = Faults::new(config);
        let plans = |f: &Faults| (0..50).map(|_| f.plan("GET", "/orders").action).collect::<Vec<_>>();
        assert_eq!(plans(&a), plans(&b));
    }

    #[test]
    fn errors_mix_500_502_and_503() {
        let f = Faults::new(FaultConfig { seed: 1, error_rate: 1.0, ..FaultConfig::default() });
        let mut seen: Vec<_> = (0..60).map(|_| f.plan("GET", "/x").action).collect();
        seen.dedup();
        for status in [500, 502, 503] {
            assert!(seen.contains(&FaultAction::Error(status)), "{status} missing");
        }
    }

    #[test]
    fn filters_limit_faults_to_matching_requests() {
        let f = Faults::new(FaultConfig {
            error_rate: 1.0,
            method: Some("POST".into()),
            path_contains: Some("/orders".into()),
            ..FaultConfig::default()
        });
        assert_eq!(f.plan("GET", "/orders").action, FaultAction::None);
        assert!(matches!(f.plan("POST", "/v2/orders").action, FaultAction::Error(_)));
    }
}
