//! Redis Cluster events in plain words: failure detection (PFAIL, failure
//! reports, FAIL), the cluster state and what clients see, replica
//! elections and votes, configuration changes (UPDATE, configEpoch), manual
//! failover, resharding and client redirects. Node IDs in the log lines are
//! told as node names.

use crate::check::RunView as _;
use crate::trace::Event;
use crate::trace::names;

use super::context::{Context, thousands};
use super::line::Line;

/// The families of Cluster events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Family {
    Operator,
    Detection,
    State,
    Election,
    Config,
    Manual,
    Reshard,
    Redirect,
}

fn family(event: &str) -> Option<Family> {
    use Family::*;
    Some(match event {
        "cluster-failover" | "reshard" | "CLUSTER FAILOVER refused" => Operator,
        names::redis::POSSIBLY_FAILING
        | "reported node as not reachable"
        | names::redis::MARKED_FAILING
        | "FAIL message received from"
        | "Clear FAIL state for node: is reachable again."
        | names::redis::FAIL_CLEARED_NO_SERVER => Detection,
        "Cluster state changed" => State,
        "Start of election delayed for"
        | names::redis::REPLICA_RANK_UPDATED
        | names::redis::ELECTION_STARTED
        | names::redis::AUTH_GRANTED
        | names::redis::AUTH_DENIED
        | names::redis::ELECTION_WON
        | "configEpoch set to after successful failover"
        | names::redis::UNABLE_TO_FAILOVER => Election,
        "has old slots configuration, sending an UPDATE message"
        | names::redis::RECONFIGURED_AS_REPLICA
        | "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster"
        | names::redis::CONFIG_EPOCH_COLLISION
        | "New configEpoch set to"
        | "configEpoch updated after importing slot"
        | "Migrating to orphaned master" => Config,
        "Manual failover user request accepted."
        | "Forced failover user request accepted."
        | "Taking over the master (user request)."
        | "Manual failover requested by replica"
        | "Received replication offset for paused master manual failover"
        | "All master replication stream processed, manual failover can start."
        | "Manual failover timed out." => Manual,
        "Moving slot" | names::redis::RESHARDING_DONE => Reshard,
        "MOVED redirect" | "ASK redirect" => Redirect,
        _ => return None,
    })
}

/// The narration of a Cluster event, or None for events no family knows
/// (or that a learner can skip).
pub fn narrate(cx: &Context, e: &Event) -> Option<Line> {
    let fam = family(&e.event)?;
    let mut l = Line {
        t: e.t,
        who: cx.name(e.node).to_string(),
        what: String::new(),
        merge: None,
        repeat: false,
    };
    let (what, merge) = match fam {
        Family::Operator => (operator(cx, e), None),
        Family::Detection => detection(cx, e)?,
        Family::State => state(cx, e),
        Family::Election => election(cx, e)?,
        Family::Config => config(cx, e)?,
        Family::Manual => (manual(cx, e), None),
        Family::Reshard => {
            l.repeat = e.event == "Moving slot";
            (reshard(cx, e), None)
        }
        Family::Redirect => {
            l.repeat = true;
            (redirect(cx, e), None)
        }
    };
    l.what = what;
    l.merge = merge;
    if e.event == names::redis::UNABLE_TO_FAILOVER {
        l.repeat = true;
    }
    Some(l)
}

/// Facts about the cluster at a time, read from the plan and the trace.
struct View<'a> {
    cx: &'a Context<'a>,
}

impl<'a> View<'a> {
    fn events(&self) -> &'a [Event] {
        &self.cx.world.trace().events
    }

    fn index(&self, name: &str) -> Option<usize> {
        self.cx.world.plan.node_index(name)
    }

    fn node_timeout(&self) -> u64 {
        self.cx
            .world
            .plan
            .nodes
            .iter()
            .find_map(|n| self.cx.redis_conf(&n.name))
            .map_or(15_000, |c| c.cluster.node_timeout)
    }

    /// The master a node replicates from just before `t` (None: a master).
    fn master_of(&self, n: usize, t: u64) -> Option<String> {
        let plan = self.cx.world.plan.cluster.as_ref()?;
        let mut master = plan
            .replica_of
            .get(n)
            .copied()
            .flatten()
            .map(|m| self.cx.world.names.get(m).cloned().unwrap_or_default());
        for e in self.events().iter().take_while(|e| e.t < t) {
            if e.node as usize != n {
                continue;
            }
            match e.event.as_ref() {
                names::redis::ELECTION_WON => master = None,
                names::redis::RECONFIGURED_AS_REPLICA
                | "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster"
                | "Migrating to orphaned master" => {
                    master = self.cx.node_ids_in(&e.detail).pop();
                }
                _ => {}
            }
        }
        master
    }

    /// When a node last won an election before `t`.
    fn won_at(&self, n: usize, t: u64) -> Option<u64> {
        self.events()
            .iter()
            .take_while(|e| e.t < t)
            .filter(|e| e.node as usize == n && e.event == names::redis::ELECTION_WON)
            .map(|e| e.t)
            .last()
    }

    /// The slots a node serves as a master at `t`: its own from the plan,
    /// or, once promoted, those of the master it replaced.
    fn slots_of(&self, n: usize, t: u64, depth: u8) -> String {
        let Some(plan) = self.cx.world.plan.cluster.as_ref() else {
            return String::new();
        };
        if let Some(s) = plan.slots.get(n).filter(|s| !s.is_empty()) {
            return s.ranges_text();
        }
        match (self.won_at(n, t), depth) {
            (Some(w), 0..=7) => self
                .master_of(n, w)
                .and_then(|m| self.index(&m))
                .map_or(String::new(), |m| self.slots_of(m, w, depth + 1)),
            _ => String::new(),
        }
    }

    /// The number of shards: masters created with slots. A failover hands
    /// a shard's slots to another node, so this is how many masters serve
    /// slots (the `size` of clusterUpdateState()).
    fn size(&self) -> usize {
        self.cx
            .world
            .plan
            .cluster
            .as_ref()
            .map_or(0, |p| p.slots.iter().filter(|s| !s.is_empty()).count())
    }

    /// The shard a node belongs to: the master it was created as or for.
    fn shard_of(&self, n: usize) -> Option<usize> {
        let plan = self.cx.world.plan.cluster.as_ref()?;
        match plan.replica_of.get(n)? {
            Some(m) => Some(*m),
            None => (!plan.slots.get(n)?.is_empty()).then_some(n),
        }
    }

    /// Whether a node serves slots just before `t`: a master created with
    /// slots that no replica replaced since, or a replica that won since.
    fn serves(&self, n: usize, t: u64) -> bool {
        let Some(plan) = self.cx.world.plan.cluster.as_ref() else {
            return false;
        };
        if self.master_of(n, t).is_some() {
            return false;
        }
        let since = self.won_at(n, t);
        if since.is_none() && plan.slots.get(n).is_none_or(|s| s.is_empty()) {
            return false;
        }
        let name = self.cx.name(n as u32);
        !self
            .events()
            .iter()
            .take_while(|e| e.t < t)
            .filter(|e| e.t > since.unwrap_or(0) && e.event == names::redis::ELECTION_WON)
            .any(|e| self.master_of(e.node as usize, e.t).as_deref() == Some(name))
    }

    /// Names of a list of nodes: `a`, `a and b`, `a, b and c`.
    fn names(list: &[String]) -> String {
        match list {
            [] => "nobody".to_string(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }
}

fn operator(cx: &Context, e: &Event) -> String {
    if e.event == "reshard" {
        let what = e.detail.split(": ").nth(1).unwrap_or(&e.detail);
        let what = match what.split_once(" slots ") {
            Some(("1", rest)) => format!("1 slot {rest}"),
            Some((n, rest)) => format!("{n} slots {rest}, one slot at a time"),
            None => what.to_string(),
        };
        return format!("is run by an operator (redis-cli --cluster reshard) to move {what}");
    }
    if e.event == "CLUSTER FAILOVER refused" {
        let why = e.detail.split(": ").nth(1).unwrap_or(&e.detail);
        return format!("refuses CLUSTER FAILOVER: {why}");
    }
    let cmd = e.detail.split(" on ").next().unwrap_or(&e.detail);
    let node = cx.name(e.node);
    match cmd {
        "CLUSTER FAILOVER FORCE" => format!(
            "is sent {cmd} by an operator: {node} will not wait for its master's offset and \
             starts an election at once"
        ),
        "CLUSTER FAILOVER TAKEOVER" => format!(
            "is sent {cmd} by an operator: {node} will take its master's slots without asking \
             anyone for a vote"
        ),
        _ => format!(
            "is sent {cmd} by an operator: a manual failover, coordinated with its master so no \
             acknowledged write is lost"
        ),
    }
}

/// PFAIL, failure reports, FAIL and clearing it. Returns the text and the
/// merge key (the same step by several nodes is told once).
fn detection(cx: &Context, e: &Event) -> Option<(String, Option<String>)> {
    let v = View { cx };
    let nt = v.node_timeout();
    let ids = cx.node_ids_in(&e.detail);
    let first = ids.first().cloned().unwrap_or_else(|| "a node".into());
    let key = Some(format!("{} {}", e.event, e.detail));
    // PFAIL of a replica changes neither the cluster state nor a failover.
    let serving = |name: &str| v.index(name).is_some_and(|i| v.serves(i, e.t));
    Some(match e.event.as_ref() {
        names::redis::POSSIBLY_FAILING if !serving(&first) => return None,
        names::redis::POSSIBLY_FAILING => (
            format!(
                "has had no answer to its PING to {first} for more than cluster-node-timeout \
                 ({} ms): it flags {first} PFAIL (possibly failing), its own suspicion, which it \
                 gossips to the others in its PINGs{}",
                thousands(nt),
                cx.since_fault(e.t, Some(first.as_str()))
            ),
            key,
        ),
        "reported node as not reachable" => {
            let (Some(from), Some(about)) = (ids.first(), ids.get(1)) else {
                return None;
            };
            // Told only on the way to a FAIL of a master: after it, or
            // when no FAIL follows, reports change nothing.
            let fail_follows = cx.world.trace().events.iter().any(|x| {
                x.t >= e.t
                    && x.t <= e.t + 2 * nt * 1000
                    && x.event == names::redis::MARKED_FAILING
                    && cx.node_ids_in(&x.detail).first() == Some(about)
            });
            if !serving(about) || !fail_follows || failed_before(cx, about, e.t) {
                return None;
            }
            (
                format!(
                    "receives a failure report: the gossip of {from}, a master, says {from} \
                     flags {about} PFAIL too (reports stay valid for 2 × cluster-node-timeout, \
                     {} ms)",
                    thousands(2 * nt)
                ),
                key,
            )
        }
        names::redis::MARKED_FAILING => {
            let reporters = reporters(cx, e, &first);
            let me_master = v.master_of(e.node as usize, e.t).is_none();
            let size = v.size();
            let quorum = size / 2 + 1;
            let count = reporters.len() + usize::from(me_master);
            let mut who = reporters.clone();
            if me_master {
                who.push(format!("{} itself", cx.name(e.node)));
            }
            (
                format!(
                    "marks {first} FAIL: {count} of the {size} slot-serving masters flag it \
                     PFAIL ({}), at least the majority {size}/2+1 = {quorum}; it broadcasts a \
                     FAIL message so every node marks {first} FAIL at once{}",
                    View::names(&who),
                    cx.since_fault(e.t, Some(first.as_str()))
                ),
                None,
            )
        }
        "FAIL message received from" => {
            let from = first.clone();
            let about = ids.get(1).cloned().unwrap_or_else(|| "a node".into());
            (
                format!("gets {from}'s FAIL message and marks {about} FAIL too"),
                key,
            )
        }
        "Clear FAIL state for node: is reachable again." => {
            let what = if e.detail.contains("replica is reachable") {
                "it is a replica"
            } else {
                "it is a master that no longer serves slots (its replica took them over)"
            };
            (
                format!("hears from {first} again and clears its FAIL flag at once: {what}"),
                key,
            )
        }
        _ => (
            format!(
                "hears from {first} again and clears its FAIL flag: {first} still serves its \
                 slots and nobody took them over within 2 × cluster-node-timeout ({} ms)",
                thousands(2 * nt)
            ),
            key,
        ),
    })
}

/// Whether `about` (a node name) was marked FAIL, and not cleared, before `t`.
fn failed_before(cx: &Context, about: &str, t: u64) -> bool {
    let mut failed = false;
    for e in cx
        .world
        .sim
        .kernel
        .trace
        .events
        .iter()
        .take_while(|e| e.t < t)
    {
        let subject = match e.event.as_ref() {
            names::redis::MARKED_FAILING => cx.node_ids_in(&e.detail).pop(),
            "FAIL message received from" => cx.node_ids_in(&e.detail).get(1).cloned(),
            ev if ev.starts_with("Clear FAIL state for node") => {
                // Cleared on one node is not cleared everywhere, but the
                // story of this failure is over.
                if cx.node_ids_in(&e.detail).first().map(String::as_str) == Some(about) {
                    failed = false;
                }
                continue;
            }
            _ => continue,
        };
        if subject.as_deref() == Some(about) {
            failed = true;
        }
    }
    failed
}

/// The masters whose failure reports about `about` a node holds at `e`:
/// those it logged since it last cleared `about`, less those that reported
/// it back online.
fn reporters(cx: &Context, e: &Event, about: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for x in own_events_until(cx, e) {
        let ids = cx.node_ids_in(&x.detail);
        match x.event.as_ref() {
            "reported node as not reachable" if ids.get(1).map(String::as_str) == Some(about) => {
                if let Some(r) = ids.first()
                    && !out.contains(r)
                {
                    out.push(r.clone());
                }
            }
            "reported node is back online" if ids.get(1).map(String::as_str) == Some(about) => {
                out.retain(|r| Some(r) != ids.first());
            }
            ev if ev.starts_with("Clear FAIL state for node")
                && ids.first().map(String::as_str) == Some(about) =>
            {
                out.clear();
            }
            _ => {}
        }
    }
    out
}

/// The cluster state turning FAIL or OK on a node, with the reason and
/// what clients of that node see.
fn state(cx: &Context, e: &Event) -> (String, Option<String>) {
    let v = View { cx };
    let n = e.node as usize;
    let ok = e.detail.ends_with("ok");
    let size = v.size();
    let quorum = size / 2 + 1;
    // What this node flagged since its state was last OK.
    let mut flagged: Vec<String> = Vec::new();
    let mut failed: Vec<String> = Vec::new();
    // Whether its state was FAIL after a state change (not just at start).
    let mut was_fail = false;
    for x in own_events_until(cx, e) {
        let ids = cx.node_ids_in(&x.detail);
        match x.event.as_ref() {
            "Cluster state changed" if x.detail.ends_with("ok") => {
                if x.t < e.t {
                    was_fail = false;
                }
                flagged.clear();
                failed.clear();
            }
            "Cluster state changed" => was_fail = true,
            "restart" => {
                was_fail = false;
                flagged.clear();
                failed.clear();
            }
            names::redis::POSSIBLY_FAILING => flagged.extend(ids.first().cloned()),
            names::redis::MARKED_FAILING => failed.extend(ids.first().cloned()),
            "FAIL message received from" => failed.extend(ids.get(1).cloned()),
            ev if ev.starts_with("Clear FAIL state for node") => {
                let id = ids.first().cloned().unwrap_or_default();
                failed.retain(|f| *f != id);
                flagged.retain(|f| *f != id);
            }
            _ => {}
        }
    }
    // Shards whose serving master this node flagged; a master does not
    // count its own shard (it is that shard's master in its own view).
    let own = (v.master_of(n, e.t).is_none())
        .then(|| v.shard_of(n))
        .flatten();
    let mut shards: Vec<usize> = Vec::new();
    let mut unreachable: Vec<String> = Vec::new();
    for f in flagged.iter().chain(&failed) {
        let Some(i) = v.index(f) else { continue };
        let shard = v.shard_of(i);
        if v.serves(i, e.t) && shard != own && !unreachable.contains(f) {
            if let Some(s) = shard.filter(|s| !shards.contains(s)) {
                shards.push(s);
            }
            unreachable.push(f.clone());
        }
    }
    let failed_owner = failed
        .iter()
        .find(|f| v.index(f).is_some_and(|i| v.serves(i, e.t)))
        .cloned();
    let full_coverage = cx
        .redis_conf(cx.name(e.node))
        .is_none_or(|c| c.cluster.require_full_coverage);
    if ok {
        let text = if !was_fail {
            let wait = if v.master_of(n, e.t + 1).is_none() {
                " (a master waits 2 s after starting before it does)"
            } else {
                ""
            };
            format!(
                "sets its cluster state to OK{wait}: every slot is served and a majority of \
                 masters is reachable, so it starts serving keys"
            )
        } else {
            "sets its cluster state back to OK: every slot is served by a reachable master again \
             and a majority of masters is reachable, so it serves keys again"
                .to_string()
        };
        return (
            text,
            Some(format!(
                "cluster state ok {was_fail} {}",
                wait_key(&v, n, e.t)
            )),
        );
    }
    let reachable = size.saturating_sub(shards.len());
    let (why, key) = if reachable < quorum {
        (
            format!(
                "it reaches only {reachable} of the {size} slot-serving masters ({} {} PFAIL \
                 or FAIL in its view), fewer than the majority {size}/2+1 = {quorum}, so it may \
                 be on the minority side of a partition{}",
                View::names(&unreachable),
                if unreachable.len() == 1 { "is" } else { "are" },
                acked_since_fault(cx, e)
            ),
            format!("minority {}", acked_since_fault(cx, e)),
        )
    } else if let (Some(owner), true) = (&failed_owner, full_coverage) {
        let idx = v.index(owner).unwrap_or(0);
        (
            format!(
                "{owner}, which serves slots {}, is FAIL, and with cluster-require-full-coverage \
                 yes one unserved slot stops the whole cluster",
                v.slots_of(idx, e.t, 0)
            ),
            format!("owner {owner}"),
        )
    } else {
        (
            "in its view some slot has no working owner (its view can lag behind the others': \
             a delayed or stale bus message changes it too)"
                .to_string(),
            "other".to_string(),
        )
    };
    (
        format!(
            "sets its cluster state to FAIL: {why}; until it is OK again it answers every key \
             command with -CLUSTERDOWN The cluster is down{}",
            cx.since_fault(e.t, None)
        ),
        Some(format!("cluster state fail {key}")),
    )
}

fn election(cx: &Context, e: &Event) -> Option<(String, Option<String>)> {
    let v = View { cx };
    let n = e.node as usize;
    let nt = v.node_timeout();
    let ids = cx.node_ids_in(&e.detail);
    let nums = numbers(&e.detail);
    let master = v
        .master_of(n, e.t)
        .unwrap_or_else(|| "its master".to_string());
    Some(match e.event.as_ref() {
        "Start of election delayed for" => {
            let (delay, rank, offset) = match nums.as_slice() {
                [d, r, o, ..] => (*d, *r, *o),
                _ => return None,
            };
            let text = if delay == 0 {
                format!(
                    "starts its election at once (rank #{rank}, offset {}): a manual failover \
                     skips the delay",
                    thousands(offset)
                )
            } else {
                let random = delay.saturating_sub(500 + rank * 1000);
                let siblings = match rank {
                    0 => "no other replica of its master has a larger replication offset".into(),
                    1 => "one other replica has a larger replication offset".into(),
                    r => format!("{r} other replicas have a larger replication offset"),
                };
                format!(
                    "sees its master {master} FAIL and schedules its election in {} ms = 500 ms \
                     + {random} ms random (0 to 499) + rank #{rank} × 1,000 ms; rank #{rank} \
                     because {siblings} than its {}, so the most up-to-date replica asks first",
                    thousands(delay),
                    thousands(offset)
                )
            };
            (text, None)
        }
        names::redis::REPLICA_RANK_UPDATED => {
            let (rank, added) = match nums.as_slice() {
                [r, a, ..] => (*r, *a),
                _ => return None,
            };
            (
                format!(
                    "learns that a sibling replica is further ahead: its rank becomes #{rank}, \
                     adding {} ms to its election delay",
                    thousands(added)
                ),
                None,
            )
        }
        names::redis::ELECTION_STARTED => {
            let epoch = nums.first().copied().unwrap_or(0);
            (
                format!(
                    "starts its election: it bumps currentEpoch to {epoch} and asks every master \
                     for its vote (FAILOVER_AUTH_REQUEST), to replace {master}{}",
                    cx.since_fault(e.t, Some(master.as_str()))
                ),
                None,
            )
        }
        names::redis::AUTH_GRANTED => {
            let to = ids.first().cloned().unwrap_or_else(|| "a replica".into());
            let epoch = nums.last().copied().unwrap_or(0);
            let why = if manual_before(cx, &to, e.t) {
                format!(
                    "the request carries the manual-failover flag, so {to}'s master need not be \
                     FAIL"
                )
            } else {
                let to_master = v
                    .index(&to)
                    .and_then(|i| v.master_of(i, e.t))
                    .unwrap_or_else(|| "its master".into());
                format!("{to}'s master {to_master} is FAIL")
            };
            (
                format!(
                    "votes for {to} in epoch {epoch}: {why}, it has not voted in this epoch yet, \
                     and it has not voted for a replica of that master within 2 × \
                     cluster-node-timeout ({} ms)",
                    thousands(2 * nt)
                ),
                Some(format!("grant {to} {epoch}")),
            )
        }
        names::redis::AUTH_DENIED => {
            let to = ids.first().cloned().unwrap_or_else(|| "a replica".into());
            let reason = e.detail.split(": ").nth(1).unwrap_or("");
            (
                format!("refuses its vote to {to}: {}", denial(reason, &to)),
                Some(format!("deny {to} {reason}")),
            )
        }
        names::redis::ELECTION_WON => {
            let epoch = cx
                .world
                .sim
                .kernel
                .trace
                .events
                .iter()
                .take_while(|x| x.t <= e.t)
                .filter(|x| x.node == e.node && x.event == names::redis::ELECTION_STARTED)
                .filter_map(|x| numbers(&x.detail).first().copied())
                .last();
            let me = cx.name(e.node).to_string();
            let voters: Vec<String> = cx
                .world
                .sim
                .kernel
                .trace
                .named(names::redis::AUTH_GRANTED)
                .take_while(|x| x.t <= e.t)
                .filter(|x| {
                    cx.node_ids_in(&x.detail).first() == Some(&me)
                        && epoch.is_some()
                        && numbers(&x.detail).last().copied() == epoch
                })
                .map(|x| cx.name(x.node).to_string())
                .collect();
            let size = v.size();
            (
                format!(
                    "wins the election: {} of the {size} slot-serving masters voted for it ({}), \
                     at least the majority {size}/2+1 = {}; it stops replicating and becomes a \
                     master{}",
                    voters.len(),
                    View::names(&voters),
                    size / 2 + 1,
                    cx.since_fault(e.t, None)
                ),
                None,
            )
        }
        "configEpoch set to after successful failover" => {
            let epoch = nums.first().copied().unwrap_or(0);
            let slots = v.slots_of(n, e.t + 1, 0);
            (
                format!(
                    "takes {master}'s slots {slots} with configEpoch {epoch}, newer than \
                     {master}'s, and announces them in a PONG to every node: each switches the \
                     slots to the newer claim, and clients asking another node get -MOVED to it",
                ),
                None,
            )
        }
        names::redis::UNABLE_TO_FAILOVER => {
            let why = e.detail.split(": ").nth(1).unwrap_or(&e.detail);
            (
                format!(
                    "cannot fail over yet: {}",
                    match why {
                        "Waiting for votes, but majority still not reached." => {
                            "it waits for votes, and no majority of masters has voted for it yet"
                        }
                        "Failover attempt expired." => {
                            "its election expired without a majority (it may retry after \
                             2 × cluster-node-timeout)"
                        }
                        "Waiting the delay before I can start a new failover." => {
                            "it must wait before it can start a new election"
                        }
                        w if w.starts_with("Disconnected from master for longer") => {
                            "its data is too old: it was disconnected from its master for longer \
                             than cluster-replica-validity-factor allows"
                        }
                        w => w,
                    }
                ),
                None,
            )
        }
        _ => return None,
    })
}

/// "; since the partition began it acknowledged N writes": what a node cut
/// off from the majority accepted before it stopped, when a partition is
/// the latest fault.
fn acked_since_fault(cx: &Context, e: &Event) -> String {
    let events = &cx.world.trace().events;
    let Some(fault) = events
        .iter()
        .take_while(|x| x.t <= e.t)
        .filter(|x| matches!(x.event.as_ref(), "partition" | "heal"))
        .last()
        .filter(|x| x.event == "partition")
    else {
        return String::new();
    };
    let acked = cx
        .world
        .history()
        .iter()
        .filter(|o| {
            o.node == e.node
                && o.kind.is_write()
                && o.outcome.is_ok()
                && o.completed.is_some_and(|c| c >= fault.t && c <= e.t)
        })
        .count();
    match acked {
        0 => String::new(),
        n => format!(
            "; since the partition began it acknowledged {} write{}, which the majority side \
             never saw",
            thousands(n as u64),
            if n == 1 { "" } else { "s" }
        ),
    }
}

/// Whether a node is a master at `t` (masters wait before turning OK).
fn wait_key(v: &View, n: usize, t: u64) -> bool {
    v.master_of(n, t + 1).is_none()
}

/// Whether `replica` asked for a manual failover within the 5 s a manual
/// failover may take before `t`.
fn manual_before(cx: &Context, replica: &str, t: u64) -> bool {
    cx.world.trace().events.iter().any(|x| {
        x.t <= t
            && x.t + 5_000_000 > t
            && cx.name(x.node) == replica
            && matches!(
                x.event.as_ref(),
                "Manual failover user request accepted." | "Forced failover user request accepted."
            )
    })
}

/// A vote refusal's reason (clusterSendFailoverAuthIfNeeded()) in words.
fn denial(reason: &str, to: &str) -> String {
    let nums = numbers(reason);
    if reason.starts_with("already voted for epoch") {
        format!(
            "it already voted in epoch {} (a master votes once per epoch)",
            nums.first().copied().unwrap_or(0)
        )
    } else if reason == "its master is up" {
        format!("{to}'s master is not FAIL in its view")
    } else if reason.starts_with("can't vote about this master before") {
        format!(
            "it voted for a replica of the same master less than 2 × cluster-node-timeout ago \
             ({} ms to go)",
            thousands(nums.first().copied().unwrap_or(0))
        )
    } else if reason.starts_with("slot") {
        match nums.as_slice() {
            [slot, epoch, req, ..] => format!(
                "slot {slot} already has an owner with configEpoch {epoch}, newer than the \
                 configEpoch {req} of {to}'s master"
            ),
            _ => reason.to_string(),
        }
    } else if reason.starts_with("reqEpoch") {
        match nums.as_slice() {
            [req, cur, ..] => {
                format!("the request's epoch {req} is older than its own currentEpoch {cur}")
            }
            _ => reason.to_string(),
        }
    } else if reason == "it is a master node" {
        format!("{to} is a master")
    } else if reason == "I don't know its master" {
        format!("it does not know {to}'s master")
    } else {
        reason.to_string()
    }
}

fn config(cx: &Context, e: &Event) -> Option<(String, Option<String>)> {
    // The epoch bump SETSLOT NODE makes is told with the slot it is for.
    let same_time = |name: &str| {
        cx.world
            .sim
            .kernel
            .trace
            .events
            .iter()
            .skip_while(|x| x.t < e.t)
            .take_while(|x| x.t == e.t)
            .find(|x| x.node == e.node && x.event == name)
    };
    if e.event == "New configEpoch set to"
        && same_time("configEpoch updated after importing slot").is_some()
    {
        return None;
    }
    if e.event == "configEpoch updated after importing slot" {
        let epoch = same_time("New configEpoch set to")
            .and_then(|x| numbers(&x.detail).first().copied())
            .map_or(String::new(), |n| format!(" to {n}"));
        return Some((
            format!(
                "is assigned slot {} that it was importing (SETSLOT NODE) and bumps its \
                 configEpoch{epoch} without an election, so the other nodes accept the move",
                numbers(&e.detail).first().copied().unwrap_or(0)
            ),
            None,
        ));
    }
    Some(config_change(cx, e))
}

fn config_change(cx: &Context, e: &Event) -> (String, Option<String>) {
    let v = View { cx };
    let ids = cx.node_ids_in(&e.detail);
    let first = ids.first().cloned().unwrap_or_else(|| "a node".into());
    let nums = numbers(&e.detail);
    let key = Some(format!("{} {}", e.event, e.detail));
    match e.event.as_ref() {
        "has old slots configuration, sending an UPDATE message" => {
            let owner = ids.get(1).cloned().unwrap_or_else(|| "another node".into());
            (
                format!(
                    "sees {first} still claim slots that {owner} now serves with a newer \
                     configEpoch, and sends {first} an UPDATE message about {owner}"
                ),
                key,
            )
        }
        names::redis::RECONFIGURED_AS_REPLICA => {
            let text = if v.master_of(e.node as usize, e.t).is_none() {
                format!(
                    "learns that {first} now serves its slots with a newer configEpoch, so it \
                     gives them up and turns into a replica of {first}: it will resync from \
                     {first} and lose whatever it acknowledged that {first} does not have"
                )
            } else {
                format!(
                    "sees that its master's slots are now served by {first}, and follows it as \
                     a replica"
                )
            };
            (text, None)
        }
        "I'm a sub-replica! Reconfiguring myself as a replica of grandmaster" => (
            format!(
                "finds that its master became a replica itself, and replicates from {first} \
                 instead"
            ),
            None,
        ),
        names::redis::CONFIG_EPOCH_COLLISION => {
            let epoch = nums.last().copied().unwrap_or(0);
            (
                format!(
                    "finds that it and {first} are masters with the same configEpoch; the one \
                     with the smaller node ID (this one) bumps currentEpoch and takes configEpoch \
                     {epoch}, so no two masters share a configEpoch and slot conflicts always \
                     have a winner"
                ),
                None,
            )
        }
        "New configEpoch set to" => (
            format!(
                "bumps its configEpoch to {} without an election (no other master is asked), so \
                 its claim on its slots wins over older ones",
                nums.first().copied().unwrap_or(0)
            ),
            None,
        ),
        _ => {
            let barrier = cx
                .redis_conf(cx.name(e.node))
                .map_or(1, |c| c.cluster.migration_barrier);
            (
                format!(
                    "moves over to {first}, a master left without working replicas (replica \
                     migration; its own master keeps more than cluster-migration-barrier \
                     {barrier})"
                ),
                None,
            )
        }
    }
}

fn manual(cx: &Context, e: &Event) -> String {
    let v = View { cx };
    let master = v
        .master_of(e.node as usize, e.t)
        .unwrap_or_else(|| "its master".to_string());
    match e.event.as_ref() {
        "Manual failover user request accepted." => format!(
            "accepts the manual failover: it asks {master} to pause its clients (MFSTART) and \
             waits for {master}'s final replication offset"
        ),
        "Forced failover user request accepted." => format!(
            "accepts the forced failover: it does not wait for {master}'s offset and asks the \
             masters for votes at once, so writes {master} acknowledged but had not yet sent it \
             may be lost"
        ),
        "Taking over the master (user request)." => format!(
            "takes over {master}'s slots on its own: it bumps its configEpoch without an \
             election, which works even when no majority of masters can be reached; writes \
             {master} acknowledged but had not yet sent it may be lost"
        ),
        "Manual failover requested by replica" => {
            let r = cx
                .node_ids_in(&e.detail)
                .pop()
                .unwrap_or_else(|| "a replica".into());
            format!(
                "gets {r}'s manual-failover request: it pauses writes from its clients and \
                 sends {r} its replication offset, flagged as paused"
            )
        }
        "Received replication offset for paused master manual failover" => format!(
            "receives {master}'s replication offset {} with the paused flag, and waits until it \
             has applied that much",
            thousands(numbers(&e.detail).first().copied().unwrap_or(0))
        ),
        "All master replication stream processed, manual failover can start." => format!(
            "has applied {master}'s whole stream up to that offset, so it holds every write \
             {master} acknowledged: its election can start"
        ),
        _ => "gives up the manual failover: it did not complete within 5 s".to_string(),
    }
}

fn reshard(cx: &Context, e: &Event) -> String {
    let addrs: Vec<String> = e
        .detail
        .split_whitespace()
        .filter(|w| w.contains(':') && w.starts_with(|c: char| c.is_ascii_digit()))
        .map(|a| cx.at(a))
        .collect();
    let (from, to) = match addrs.as_slice() {
        [f, t, ..] => (f.clone(), t.clone()),
        _ => ("its source".into(), "its target".into()),
    };
    if e.event == "Moving slot" {
        return format!(
            "moves a slot from {from} to {to}: SETSLOT IMPORTING on {to}, SETSLOT MIGRATING on \
             {from}, MIGRATE of the slot's keys in batches (each key moves atomically), then \
             SETSLOT NODE on both"
        );
    }
    // Resharding done: what clients saw while the slots moved.
    let trace = &cx.world.trace();
    let start = trace
        .events
        .iter()
        .take_while(|x| x.t <= e.t)
        .filter(|x| x.node == e.node && x.event == "reshard")
        .map(|x| x.t)
        .last()
        .unwrap_or(0);
    let moved: Vec<u64> = trace
        .named("Moving slot")
        .filter(|x| x.node == e.node && x.t >= start && x.t <= e.t)
        .filter_map(|x| numbers(&x.detail).first().copied())
        .collect();
    let asks = trace
        .named("ASK redirect")
        .filter(|x| x.t >= start && x.t <= e.t)
        .count();
    let moves = trace
        .named("MOVED redirect")
        .filter(|x| {
            x.t >= start
                && numbers(&x.detail)
                    .first()
                    .is_some_and(|s| moved.contains(s))
        })
        .count();
    let times = |n: usize| match n {
        1 => "once".to_string(),
        n => format!("{} times", thousands(n as u64)),
    };
    format!(
        "finishes: {} moved from {from} to {to} in {}; meanwhile clients were redirected with \
         -ASK {} (a key already migrated out of a slot still being moved: the client sends \
         ASKING and the command to {to}, once, without changing its slot map), and with -MOVED \
         {} for the moved slots after SETSLOT NODE had assigned them (the client then updates \
         its slot map)",
        match moved.len() {
            1 => "1 slot".to_string(),
            n => format!("{} slots", thousands(n as u64)),
        },
        Context::span(e.t.saturating_sub(start)),
        times(asks),
        times(moves)
    )
}

fn redirect(cx: &Context, e: &Event) -> String {
    let to = e
        .detail
        .split_whitespace()
        .nth(2)
        .map_or_else(|| "another node".to_string(), |a| cx.at(a));
    if e.event == "ASK redirect" {
        format!(
            "is redirected with -ASK to {to}: its key has already moved out of a slot being \
             migrated, so it sends ASKING and the command to {to} once, without changing its slot \
             map"
        )
    } else {
        format!(
            "is redirected with -MOVED to {to}: the slot now belongs to {to}, so it updates its \
             slot map and retries there"
        )
    }
}

/// Every unsigned number in a text, in order (node IDs' digits included,
/// so callers read only details without IDs, or take positions after them).
fn numbers(s: &str) -> Vec<u64> {
    s.split_whitespace()
        .filter(|w| !(w.len() >= 40 && w.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.')))
        .flat_map(|w| {
            w.split(|c: char| !c.is_ascii_digit())
                .filter(|p| !p.is_empty())
                .filter_map(|p| p.parse().ok())
                .collect::<Vec<u64>>()
        })
        .collect()
}

/// What the node of `e` logged up to `e` (inclusive).
fn own_events_until<'a>(cx: &'a Context, e: &'a Event) -> impl Iterator<Item = &'a Event> + 'a {
    cx.world
        .sim
        .kernel
        .trace
        .events
        .iter()
        .take_while(move |x| x.t <= e.t)
        .filter(move |x| x.node == e.node)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_skip_node_ids() {
        assert_eq!(
            numbers(
                "Failover auth granted to 3cd2bd372abcbb419a16ae8f443305768c95686e for epoch 7"
            ),
            vec![7]
        );
        assert_eq!(
            numbers("Start of election delayed for 540 milliseconds (rank #0, offset 56015)."),
            vec![540, 0, 56015]
        );
    }

    #[test]
    fn refusals_are_explained() {
        assert_eq!(
            denial("already voted for epoch 7", "replica-2-1"),
            "it already voted in epoch 7 (a master votes once per epoch)"
        );
        assert_eq!(
            denial("its master is up", "master-2"),
            "master-2's master is not FAIL in its view"
        );
        assert!(denial("slot 12 epoch (9) > reqEpoch (3)", "r").contains("configEpoch 9"));
        assert_eq!(family("Ready to accept connections"), None);
        assert_eq!(family("Cluster state changed"), Some(Family::State));
    }
}
