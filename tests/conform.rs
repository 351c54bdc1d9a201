//! Conformance against real Redis: runs one short scenario on real
//! redis-server processes and on the simulator and requires every compared
//! field to agree. Skipped, with a message, where redis-server and
//! redis-sentinel are not installed; `.ci/run` installs them and runs the
//! whole suite with `redsim conform scenarios/conform`.

use std::path::Path;

use redsim::conform::{self, Status, real::RealOptions, topology::Binaries};

#[test]
fn partial_resync_agrees_with_real_redis() {
    let (Some(server), Some(sentinel)) = (
        conform::find_program(None, "redis-server"),
        conform::find_program(None, "redis-sentinel"),
    ) else {
        eprintln!(
            "skipped: redis-server/redis-sentinel not installed (apt-get install redis-server redis-sentinel)"
        );
        return;
    };
    let plan = redsim::scenario::load(Path::new(
        "scenarios/conform/partial-resync-after-disconnect.toml",
    ))
    .expect("scenario parses");
    let mut spec = plan.conform.clone().expect("has [conform]");
    spec.seeds = 2;
    let opts = RealOptions {
        bins: Binaries {
            redis_server: server,
            redis_sentinel: sentinel,
        },
        port_base: 17400,
        root: std::env::temp_dir().join(format!("redsim-conform-test-{}", std::process::id())),
        keep: false,
        netns: false,
    };
    let out = conform::run(&plan, &spec, &opts);
    let _ = std::fs::remove_dir_all(&opts.root);
    let Status::Compared(rows) = &out.status else {
        panic!("not compared: {:?}", out.status);
    };
    let bad: Vec<_> = rows.iter().filter(|r| !r.ok).collect();
    assert!(bad.is_empty(), "fields differ: {bad:#?}");
    assert!(rows.iter().any(|r| r.field.starts_with("resyncs")));
}
