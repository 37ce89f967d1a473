//! The conformance suite's bodies, each taking the [`crate::support::Harness`] of one store.

pub mod pool;
pub mod queue;
