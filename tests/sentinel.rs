use redsim::scenario;
use redsim::world::World;
#[test]
fn timing() {
    let p = scenario::parse(
        "t.toml",
        r#"
name = "t"
duration = "180s"
[topology]
masters = 1
replicas = 2
sentinels = 3
[sentinel]
quorum = 2
down-after-milliseconds = 5000
failover-timeout = 10000
[[workload]]
sentinel = true
rate = 50
keys = 200
[[fault]]
at = "20s"
kill = "master"
[[fault]]
at = "60s"
restart = "master"
"#,
    )
    .unwrap();
    let t0 = std::time::Instant::now();
    let mut w = World::new(&p, 1);
    let mut t = 0;
    while t < p.duration {
        t += 500_000;
        w.run_until(t).unwrap();
    }
    eprintln!(
        "elapsed {:?} events {}",
        t0.elapsed(),
        w.sim.kernel.trace.events.len()
    );
}
