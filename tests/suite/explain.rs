//! `redsim explain`: the narration names what happened and why, with the
//! numbers from the run, and it is the same text every time.
use redsim::check::RunView as _;

use redsim::{explain, golden, scenario, world};

use super::common::{Scenario, root};

fn narrate(rel: &str) -> (scenario::Plan, String) {
    let plan = scenario::load(&root().join(rel)).expect("bundled scenarios are valid");
    let text = explain::explain(&plan, plan.seed).expect("the run finishes");
    (plan, text)
}

#[test]
fn failover_names_the_promoted_replica_and_why() {
    let (_, text) = narrate("scenarios/interview/how-sentinel-picks-the-new-master.toml");
    let line = text
        .lines()
        .find(|l| l.contains("(+selected-slave)"))
        .expect("the selection is narrated");
    assert!(line.contains("selects replica-3 for promotion"), "{line}");
    assert!(
        line.contains("replica-1 was excluded (replica-priority 0 means never promote)"),
        "{line}"
    );
    assert!(
        line.contains("replica-2 lost on replication offset"),
        "{line}"
    );
    // The answer closes with the measured failover times.
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    assert!(answer.contains("+switch-master after"), "{answer}");
    assert!(answer.contains("chose replica-3"), "{answer}");
}

#[test]
fn a_crash_failover_is_told_step_by_step_with_times() {
    let (_, text) = narrate("scenarios/sentinel/master-crash-failover.toml");
    for needle in [
        "at 20.000 s master is killed (SIGKILL)",
        "subjectively down (+sdown): its PINGs have had no valid reply for \
         down-after-milliseconds = 5,000 ms",
        "objectively down (+odown)",
        "and the quorum is 2",
        "wins the election (+elected-leader)",
        "(+switch-master)",
        "Question: What happens when the master crashes under Sentinel?",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn a_backlog_overrun_names_the_full_resync_reason_with_offsets() {
    let (plan, text) = narrate("scenarios/interview/backlog-too-small.toml");
    // The offset the replica asked for, as the master logged it.
    let o = world::run(&plan, plan.seed).expect("the run finishes");
    let refusal = o
        .world
        .sim
        .kernel
        .trace
        .named("Unable to partial resync with replica for lack of backlog")
        .next()
        .expect("the master refuses once");
    let asked: u64 = refusal
        .detail
        .rsplit(": ")
        .next()
        .and_then(|s| s.trim_end_matches(").").parse().ok())
        .expect("the request offset");
    let line = text
        .lines()
        .find(|l| l.contains("cannot serve replica-1 a partial resync"))
        .expect("the refusal is narrated");
    assert!(
        line.contains(&format!(
            "it asked to continue at offset {}",
            explain::thousands(asked)
        )),
        "{line}"
    );
    assert!(line.contains("but the 16,384 byte backlog"), "{line}");
    assert!(line.contains("now holds only offsets"), "{line}");
    assert!(line.contains("so it gets a full resync"), "{line}");
    assert!(text.contains("replica-1 gets +FULLRESYNC"), "{text}");
}

#[test]
fn explaining_every_bundled_scenario_is_deterministic() {
    for file in golden::scenario_files(&[root().join("scenarios")]).expect("readable") {
        let plan = scenario::load(&file).expect("valid");
        let a = explain::explain(&plan, plan.seed).expect("finishes");
        let b = explain::explain(&plan, plan.seed).expect("finishes");
        assert_eq!(a, b, "{} narrates differently twice", file.display());
        assert!(a.contains("## What happens"), "{}", file.display());
        assert!(a.contains("## Answer"), "{}", file.display());
    }
}

/// The narration's line that contains `needle`.
fn line_with<'a>(text: &'a str, needle: &str) -> &'a str {
    text.lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with `{needle}` in:\n{text}"))
}

#[test]
fn a_cluster_failover_names_the_quorum_the_delay_and_the_winner() {
    let (_, text) = narrate("scenarios/cluster/master-killed-replica-promoted.toml");
    // No raw node IDs: Redis logs them, the narration names the nodes.
    let steps = text.split("## What happens").nth(1).expect("steps");
    assert!(
        !steps
            .split(|c: char| !c.is_ascii_hexdigit())
            .any(|w| w.len() == 40),
        "a node ID is left in:\n{steps}"
    );
    // replica-2-1 flags master-2 first, alone; the others, within a
    // second of one another, are told once, on master-1's line.
    let first = line_with(&text, "flags master-2 PFAIL (possibly failing)");
    assert!(
        first.contains("at 25.182 s replica-2-1 has had no answer"),
        "{first}"
    );
    assert!(
        first.contains("for more than cluster-node-timeout (5,000 ms)"),
        "{first}"
    );
    let pfail = line_with(&text, "master-1 has had no answer to its PING to master-2");
    assert!(
        pfail.contains(
            "(likewise replica-1-1 at 27.457 s, replica-3-1 at 27.495 s, master-3 at 27.501 s)"
        ),
        "{pfail}"
    );
    assert_eq!(
        text.matches("flags master-2 PFAIL (possibly failing)")
            .count(),
        2
    );
    let fail = line_with(&text, "marks master-2 FAIL:");
    assert!(
        fail.contains("2 of the 3 slot-serving masters flag it PFAIL (")
            && fail.contains("master-1")
            && fail.contains("master-3"),
        "{fail}"
    );
    assert!(fail.contains("the majority 3/2+1 = 2"), "{fail}");
    let delay = line_with(&text, "schedules its election in");
    assert!(
        delay.contains("replica-2-1 sees its master master-2 FAIL"),
        "{delay}"
    );
    // The delay is told as clusterHandleSlaveFailover() computes it.
    let words: Vec<&str> = delay.split_whitespace().collect();
    let after = |w: &str| {
        let i = words.iter().position(|x| *x == w).expect(w);
        words[i + 1].replace(',', "").parse::<u64>().expect(w)
    };
    let (total, random) = (after("in"), after("+"));
    assert!(random < 500 && total == 500 + random, "{delay}");
    assert!(
        delay.contains("random (0 to 499) + rank #0 × 1,000 ms"),
        "{delay}"
    );
    assert!(delay.contains("56,015"), "{delay}");
    let vote = line_with(&text, "votes for replica-2-1 in epoch 7");
    assert!(
        vote.contains("replica-2-1's master master-2 is FAIL"),
        "{vote}"
    );
    let won = line_with(&text, "replica-2-1 wins the election");
    assert!(
        won.contains("voted for it (master-1 and master-3)"),
        "{won}"
    );
    let slots = line_with(&text, "takes master-2's slots");
    assert!(
        slots.contains("slots 5461-10922 with configEpoch 7"),
        "{slots}"
    );
    let down = line_with(&text, "sets its cluster state to FAIL");
    assert!(
        down.contains("master-2, which serves slots 5461-10922, is FAIL"),
        "{down}"
    );
    assert!(down.contains("-CLUSTERDOWN"), "{down}");
    let rejoin = line_with(
        &text,
        "master-2 learns that replica-2-1 now serves its slots",
    );
    assert!(
        rejoin.contains("turns into a replica of replica-2-1"),
        "{rejoin}"
    );
    assert!(text.contains("sends master-2 an UPDATE message about replica-2-1"));
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    assert!(
        answer.contains("replica-2-1 won the election for epoch 7 at ")
            && answer.contains("with 2 votes (master-1, master-3)"),
        "{answer}"
    );
    assert!(
        answer.contains("replica-2-1 serves slots 5461-10922 and holds ")
            && answer.contains(" keys (replicas: master-2)"),
        "{answer}"
    );
    // Different shards' masters writing at once is what a cluster is for.
    assert!(
        !answer.contains("two nodes acknowledged writes"),
        "{answer}"
    );
    assert!(!answer.contains("final state on"), "{answer}");
}

#[test]
fn a_minority_master_is_told_to_answer_clusterdown() {
    let (_, text) = narrate("scenarios/cluster/minority-master-loses-writes.toml");
    let down = text
        .lines()
        .find(|l| l.contains("master-1 sets its cluster state to FAIL"))
        .expect("master-1's state change is narrated");
    assert!(
        down.contains("it reaches only 1 of the 3 slot-serving masters"),
        "{down}"
    );
    assert!(down.contains("fewer than the majority 3/2+1 = 2"), "{down}");
    assert!(down.contains("minority side of a partition"), "{down}");
    assert!(down.contains("-CLUSTERDOWN The cluster is down"), "{down}");
    // What it accepted while cut off is what the run loses.
    let (plan, _) = narrate("scenarios/cluster/minority-master-loses-writes.toml");
    let lost = world::run(&plan, plan.seed)
        .expect("the run finishes")
        .world
        .lost_writes()
        .len();
    assert!(
        down.contains(&format!(
            "since the partition began it acknowledged {} writes, which the majority side never \
             saw",
            explain::thousands(lost as u64)
        )),
        "{down}"
    );
    let won = line_with(&text, "replica-1-1 wins the election");
    assert!(won.contains("master-2 and master-3"), "{won}");
    let rejoin = line_with(
        &text,
        "master-1 learns that replica-1-1 now serves its slots",
    );
    assert!(rejoin.contains("lose whatever it acknowledged"), "{rejoin}");
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    assert!(answer.contains("CLUSTERDOWN error replies"), "{answer}");
    assert!(
        answer.contains("compared with each key as the master now serving its slot holds it"),
        "{answer}"
    );
}

#[test]
fn a_reshard_is_summarised_with_its_redirects() {
    let (_, text) = narrate("scenarios/cluster/resharding-under-load-asks.toml");
    let moving = line_with(&text, "redis-cli moves a slot from master-1 to master-2");
    assert!(moving.contains("(again 499 times"), "{moving}");
    let done = line_with(&text, "redis-cli finishes");
    assert!(
        done.contains("500 slots moved from master-1 to master-2"),
        "{done}"
    );
    assert!(done.contains("-ASK 237 times"), "{done}");
    assert!(done.contains("with -MOVED"), "{done}");
    assert!(text.contains("client-1 is redirected with -ASK to master-2"));
}

#[test]
fn a_manual_cluster_failover_is_told_step_by_step() {
    let (_, text) = narrate("scenarios/cluster/manual-failover-no-loss.toml");
    for needle in [
        "replica-1-1 accepts the manual failover: it asks master-1 to pause its clients",
        "master-1 gets replica-1-1's manual-failover request",
        "replica-1-1 receives master-1's replication offset 128,855 with the paused flag",
        "replica-1-1 starts its election at once",
        "the request carries the manual-failover flag",
        "replica-1-1 wins the election: 3 of the 3 slot-serving masters",
    ] {
        assert!(text.contains(needle), "missing `{needle}` in:\n{text}");
    }
}

#[test]
fn a_configepoch_collision_and_a_refused_vote_are_explained() {
    let (_, text) = narrate("scenarios/cluster/two-winners-same-epoch.toml");
    let collision = line_with(&text, "are masters with the same configEpoch");
    assert!(
        collision.starts_with("- at 22.231 s replica-2-1 finds that it and replica-1-1"),
        "{collision}"
    );
    assert!(collision.contains("takes configEpoch 9"), "{collision}");
    let denied = line_with(&text, "master-2 refuses its vote to replica-2-1");
    assert!(
        denied.contains("it already voted in epoch 7 (a master votes once per epoch)"),
        "{denied}"
    );
}

#[test]
fn keys_of_a_migrating_slot_on_two_masters_are_not_called_a_split_brain() {
    let (_, text) = narrate("scenarios/interview/moved-vs-ask-redirects.toml");
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    // Both masters served the moving slot (each key on one of them): the
    // checker leaves the reshard's writes out of its split-brain windows.
    assert!(
        !answer.contains("two nodes acknowledged writes"),
        "{answer}"
    );
    let done = line_with(&text, "redis-cli finishes: 1 slot moved");
    assert!(done.contains("with -MOVED once"), "{done}");
    // A failover's overlap is not excused by a reshard.
    let (_, text) = narrate("scenarios/cluster/minority-master-loses-writes.toml");
    assert!(!text.contains("not a split brain"), "{text}");
}

#[test]
fn the_answer_shows_the_bus_header_behind_16384_slots() {
    let (_, text) = narrate("scenarios/interview/myth-16384-slots-for-easy-modulo.toml");
    let answer = text.split("## Answer").nth(1).expect("an answer section");
    let bus = line_with(answer, "cluster bus: the running nodes sent");
    assert!(
        bus.contains("2,256-byte header, 2,048 bytes of which"),
        "{bus}"
    );
    assert!(
        answer.contains("all 3 expectations of the scenario hold"),
        "{answer}"
    );
}

#[test]
fn failover_times_count_from_the_fault_that_caused_them() {
    // The master is killed at 10 s; a Sentinel is paused at 12 s, which
    // leaves the other two (quorum 2) to fail over. The +odown is the
    // master's: its time counts from the kill, not from the later pause.
    let plan = Scenario::new("40s", "masters = 1, replicas = 1, sentinels = 3")
        .seed(3)
        .sentinel("quorum = 2, down-after-milliseconds = 5000")
        .fault("10s", r#"kill = "master""#)
        .fault("12s", r#"pause = "sentinel-3""#)
        .plan();
    let narration = explain::explain(&plan, plan.seed).expect("runs");
    let odown = narration
        .lines()
        .find(|l| l.contains("(+odown)"))
        .expect("an +odown");
    assert!(odown.contains("after master was killed)"), "{odown}");
    assert!(!odown.contains("sentinel-3 was paused"), "{odown}");
}
