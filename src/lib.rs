//! redsim: a deterministic discrete-event simulator of Redis high availability.
//!
//! A scenario ([`scenario`]) describes processes, configuration, workload and
//! faults; [`world`] runs it on the deterministic kernel ([`sim`]) with Redis
//! servers ([`redis`]) and clients ([`client`]) as state machines, recording a
//! [`trace`] and checking the scenario's expectations ([`check`]).

pub mod bench;
pub mod check;
pub mod client;
pub mod conform;
pub mod coverage;
pub mod dashboard;
pub mod exit;
pub mod explain;
pub mod fuzz;
pub mod golden;
pub mod history;
pub mod interop;
pub mod interrupt;
pub mod junit;
pub mod lab;
pub mod malloc;
pub mod out;
pub mod plots;
pub mod progress;
pub mod proto;
pub mod redis;
pub mod report;
pub mod scenario;
pub mod sentinel;
pub mod sim;
pub mod store;
pub mod sweep;
pub mod time;
pub mod trace;
pub mod world;
