//! The claim side of the queue benchmarks (`queue`, `cluster`), included by each with
//! `#[path]`: the same loop measured in both, so their numbers compare.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use cartgate::store::JobStore;

/// Claims and acks `total` due jobs with `claimers` loops of `batch`; returns jobs/s.
pub async fn drain(s: &Arc<dyn JobStore>, claimers: usize, batch: usize, lease: Duration, total: usize) -> f64 {
    let done = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let loops: Vec<_> = (0..claimers)
        .map(|_| {
            let (s, done) = (s.clone(), done.clone());
            tokio::spawn(async move {
                while done.load(Ordering::Relaxed) < total {
                    let jobs = s.claim(batch, lease).await.unwrap().jobs;
                    if jobs.is_empty() {
                        tokio::task::yield_now().await;
                        continue;
                    }
                    let leases: Vec<_> = jobs.into_iter().map(|j| j.lease).collect();
                    let acked = s.ack_many(&leases).await.into_iter().filter(Result::is_ok).count();
                    done.fetch_add(acked, Ordering::Relaxed);
                }
            })
        })
        .collect();
    for l in loops {
        l.await.unwrap();
    }
    total as f64 / started.elapsed().as_secs_f64()
}
