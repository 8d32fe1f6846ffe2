//! The chat load generator and scenarios S1–S3 of PERFORMANCE.md, and the null relay they
//! compare against.
//!
//! Shape: the coordinator (this process) starts the system under test (our server, or the null
//! relay) as a child, provisions conversations, and starts worker processes, each bound to its
//! own source address 127.0.0.(2+i) and holding at most ~19 k connections (the descriptor cap
//! is 20,000 per process). Workers are single-threaded: a lean frame-level WebSocket client,
//! one timing wheel driving precomputed Poisson schedules (open loop), live checks of loss,
//! duplicates and order, and HDR histograms of intended→receive and actual→receive latency,
//! which the coordinator merges.

pub(crate) mod coord;
pub(crate) mod hist;
pub(crate) mod mono;
pub(crate) mod overhead;
pub(crate) mod payload;
pub(crate) mod plan;
pub(crate) mod provision;
pub(crate) mod relay;
pub(crate) mod report;
pub(crate) mod s1;
pub(crate) mod s2;
pub(crate) mod s3;
pub(crate) mod session;
pub(crate) mod step;
pub(crate) mod sys;
pub(crate) mod target;
pub(crate) mod wheel;
pub(crate) mod worker;
pub(crate) mod wsproto;
