//! redsim's integration tests, as one test binary: each module was a test
//! file of its own, and linking the whole library once instead of once per
//! file is most of what a first `cargo test` costs.
//!
//! Run one module with `cargo test --test suite <module>::`, for example
//! `cargo test --test suite golden::`.

mod aof;
mod browser;
mod campaign;
mod cli;
mod cluster;
mod command_table;
mod commands;
mod common;
mod concurrency;
mod conform;
mod coverage;
mod dashboard;
mod explain;
mod explore;
mod figures;
mod fsync_errors;
mod fuzz;
mod golden;
mod guided;
mod host_faults;
mod input_limits;
mod input_mutations;
mod interop;
mod lab;
mod layers;
mod multimaster;
mod properties;
mod readme;
mod redis_commands;
mod replication;
mod schedule;
mod sentinel;
mod sentinel_commands;
mod sweep;
mod workloads;
