//! Group commit for enqueues: concurrent enqueues into one partition share one script call.
//!
//! The webhook intake answers 200 only after its job is in Redis, so under load every delivery
//! waits for a round trip. Rather than one `EVALSHA` each, the first caller of a partition leads:
//! it sends its own job, and whatever arrives while that call is in flight waits in the
//! partition's queue; when the call returns, the leader hands every waiting job — up to
//! [`MAX_BATCH`] — to the first waiter, which sends them as one call, and so on. Nobody waits on
//! a timer: with no concurrency a batch is one job, and the busier it gets the more each call
//! carries. A new leader yields once before sending, so that the requests read in the same poll
//! of the sockets join its call instead of waiting a round trip for the next one. Every caller
//! still gets its own answer only after the call holding its job returned.
//!
//! If a leader's future is dropped mid-call (its request was cancelled), [`Leading`]'s drop
//! answers the batch "unavailable" (the sender retries, and the dedupe key makes that safe) and
//! hands the queue on, so a partition is never left waiting on a leader that is gone.

use std::collections::VecDeque;
use std::sync::Mutex;

use tokio::sync::oneshot;

use crate::store::StoreError;

/// The most jobs one script call carries.
pub(super) const MAX_BATCH: usize = 64;

/// One job to enqueue, as the enqueue script's arguments.
#[derive(Debug)]
pub(super) struct Item {
    pub id: String,
    pub kind: &'static str,
    pub payload: String,
    pub mode: &'static str,
    pub value: i64,
    pub earlier: bool,
    /// The dedupe key and how long it is remembered, in ms.
    pub dedupe: Option<(String, i64)>,
}

/// What a waiting caller is told.
enum Turn {
    /// The call holding its job returned this (the script's code for the job).
    Done(Result<i64, StoreError>),
    /// It leads the next call: the batch, its own job first.
    Lead(VecDeque<Waiter>),
}

struct Waiter {
    /// Taken by the leader when it sends the batch.
    item: Option<Item>,
    /// `None` for the leader's own job (its answer is returned, not sent).
    tx: Option<oneshot::Sender<Turn>>,
}

#[derive(Default)]
struct Slot {
    busy: bool,
    queue: VecDeque<Waiter>,
}

/// One queue per partition.
pub(super) struct Groups {
    slots: Vec<Mutex<Slot>>,
}

impl Groups {
    pub fn new(partitions: u16) -> Self {
        Self { slots: (0..partitions.max(1)).map(|_| Mutex::default()).collect() }
    }

    fn slot(&self, index: u16) -> std::sync::MutexGuard<'_, Slot> {
        // Only plain data is changed under the lock, so a poisoned one is still consistent.
        self.slots[usize::from(index)].lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Enqueues `item` into partition `index` through `send`, which makes one script call for a
    /// batch and returns one code per job, in order.
    pub async fn commit<F, Fut>(&self, index: u16, item: Item, send: F) -> Result<i64, StoreError>
    where
        F: FnOnce(Vec<Item>) -> Fut,
        Fut: Future<Output = Result<Vec<i64>, StoreError>>,
    {
        let (tx, mut rx) = oneshot::channel();
        let lead = {
            let mut slot = self.slot(index);
            if slot.busy {
                slot.queue.push_back(Waiter { item: Some(item), tx: Some(tx) });
                None
            } else {
                slot.busy = true;
                Some(VecDeque::from([Waiter { item: Some(item), tx: None }]))
            }
        };
        let batch = match lead {
            Some(batch) => batch,
            None => match (&mut rx).await {
                Ok(Turn::Done(result)) => return result,
                Ok(Turn::Lead(batch)) => batch,
                Err(_) => return Err(abandoned()),
            },
        };
        let mut leading = Leading { groups: self, index, batch: Some(batch) };
        // Let the tasks woken with this one (requests read in the same poll of the sockets)
        // reach the queue, and take them along: no timer, no added latency.
        tokio::task::yield_now().await;
        leading.take_queued();
        let items: Vec<Item> = leading.batch.iter_mut().flatten().filter_map(|w| w.item.take()).collect();
        let result = send(items).await;
        leading.finish(result)
    }

    /// Passes the partition's queue to its first waiter still listening, or marks it idle.
    fn hand_over(&self, index: u16) {
        loop {
            let mut batch = {
                let mut slot = self.slot(index);
                if slot.queue.is_empty() {
                    slot.busy = false;
                    return;
                }
                let n = slot.queue.len().min(MAX_BATCH);
                slot.queue.drain(..n).collect::<VecDeque<_>>()
            };
            while let Some(tx) = batch.front_mut().and_then(|w| w.tx.take()) {
                match tx.send(Turn::Lead(batch)) {
                    Ok(()) => return,
                    // That caller is gone (its request was cancelled, so it answered nothing):
                    // drop its job and offer the lead to the next one.
                    Err(Turn::Lead(mut rest)) => {
                        rest.pop_front();
                        batch = rest;
                    }
                    Err(Turn::Done(_)) => unreachable!("only Lead was sent"),
                }
            }
        }
    }
}

fn abandoned() -> StoreError {
    StoreError::Unavailable("the enqueue batch holding this job was abandoned".into())
}

/// A batch being sent; answers everyone and hands the queue on exactly once, even if dropped.
struct Leading<'a> {
    groups: &'a Groups,
    index: u16,
    batch: Option<VecDeque<Waiter>>,
}

impl Leading<'_> {
    /// Adds what waits in the partition's queue to the batch, up to [`MAX_BATCH`] in all.
    fn take_queued(&mut self) {
        let Some(batch) = self.batch.as_mut() else { return };
        let mut slot = self.groups.slot(self.index);
        let n = slot.queue.len().min(MAX_BATCH.saturating_sub(batch.len()));
        batch.extend(slot.queue.drain(..n));
    }

    /// Answers the waiters and returns the leader's own result.
    fn finish(mut self, result: Result<Vec<i64>, StoreError>) -> Result<i64, StoreError> {
        let batch = self.batch.take().unwrap_or_default();
        let code = |i: usize| match &result {
            Ok(codes) => codes.get(i).copied().ok_or_else(|| {
                StoreError::Corrupt(format!("enqueue answered {} codes for {} jobs", codes.len(), i + 1))
            }),
            Err(e) => Err(e.clone()),
        };
        let mut own = Err(abandoned());
        for (i, w) in batch.into_iter().enumerate() {
            match w.tx {
                Some(tx) => {
                    let _ = tx.send(Turn::Done(code(i)));
                }
                None => own = code(i),
            }
        }
        self.groups.hand_over(self.index);
        own
    }
}

impl Drop for Leading<'_> {
    fn drop(&mut self) {
        if let Some(batch) = self.batch.take() {
            for w in batch {
                if let Some(tx) = w.tx {
                    let _ = tx.send(Turn::Done(Err(abandoned())));
                }
            }
            self.groups.hand_over(self.index);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    fn item(n: i64) -> Item {
        Item {
            id: format!("job-{n}"),
            kind: "import_order",
            payload: "{}".into(),
            mode: "now",
            value: n,
            earlier: false,
            dedupe: None,
        }
    }

    /// A fake script: answers each job's `value`, after a pause, counting calls and batch sizes.
    async fn run(groups: Arc<Groups>, calls: Arc<AtomicUsize>, n: i64) -> Result<i64, StoreError> {
        groups
            .commit(0, item(n), |items| {
                let calls = calls.clone();
                async move {
                    calls.fetch_add(1, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    Ok(items.iter().map(|i| i.value).collect())
                }
            })
            .await
    }

    #[tokio::test]
    async fn callers_woken_together_share_one_call_and_each_gets_its_own_answer() {
        let (groups, calls) = (Arc::new(Groups::new(1)), Arc::new(AtomicUsize::new(0)));
        let tasks: Vec<_> = (0..50).map(|n| tokio::spawn(run(groups.clone(), calls.clone(), n))).collect();
        for (n, t) in tasks.into_iter().enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), n as i64);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the leader took the others along");
    }

    #[tokio::test]
    async fn callers_arriving_during_a_call_share_the_next_one() {
        let (groups, calls) = (Arc::new(Groups::new(1)), Arc::new(AtomicUsize::new(0)));
        let spawn = |range: std::ops::Range<i64>| -> Vec<_> {
            range.map(|n| tokio::spawn(run(groups.clone(), calls.clone(), n))).collect()
        };
        let first = spawn(0..10);
        // The first call takes 20 ms; these arrive while it is in flight.
        tokio::time::sleep(Duration::from_millis(5)).await;
        let second = spawn(10..50);
        for (n, t) in first.into_iter().chain(second).enumerate() {
            assert_eq!(t.await.unwrap().unwrap(), n as i64);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        // Idle again: a lone caller leads at once.
        assert_eq!(run(groups, calls.clone(), 7).await.unwrap(), 7);
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test]
    async fn a_failed_call_fails_every_job_in_it_and_the_next_call_goes_on() {
        let groups = Arc::new(Groups::new(1));
        let fail = |items: Vec<Item>| async move {
            tokio::time::sleep(Duration::from_millis(20)).await;
            if items.iter().any(|i| i.value < 10) {
                Err(StoreError::Unavailable("down".into()))
            } else {
                Ok(vec![1; items.len()])
            }
        };
        let first: Vec<_> = (0..5)
            .map(|n| {
                let g = groups.clone();
                tokio::spawn(async move { g.commit(0, item(n), fail).await })
            })
            .collect();
        for t in first {
            assert!(t.await.unwrap().is_err());
        }
        assert_eq!(groups.commit(0, item(10), fail).await.unwrap(), 1);
    }

    #[tokio::test]
    async fn a_cancelled_leader_answers_its_batch_and_frees_the_partition() {
        let (groups, calls) = (Arc::new(Groups::new(1)), Arc::new(AtomicUsize::new(0)));
        let stuck = {
            let g = groups.clone();
            tokio::spawn(async move { g.commit(0, item(1), |_| std::future::pending()).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        let waiter = tokio::spawn(run(groups.clone(), calls.clone(), 2));
        tokio::time::sleep(Duration::from_millis(10)).await;
        stuck.abort();
        // The waiter was handed the lead and sent its own job.
        assert_eq!(waiter.await.unwrap().unwrap(), 2);
        assert_eq!(run(groups, calls, 3).await.unwrap(), 3);
    }
}
