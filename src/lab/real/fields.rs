//! A real process's state in the fields the dashboard shows for a
//! simulated one (`dashboard::snapshot`), read from what the process
//! answers: a server's `INFO` (replication with Redis's own field names,
//! its run id and key count) and, in a cluster, `CLUSTER INFO` and `CLUSTER
//! NODES`; a Sentinel's `SENTINEL MASTER`, `REPLICAS` and `SENTINELS` for
//! each master it monitors, its `INFO sentinel` and `SENTINEL MYID`. What
//! no command shows (a Sentinel's current epoch and vote) comes from what
//! it published ([`from_events`]). Addresses become node names through
//! `name_of`, as the simulated page names nodes.

use crate::conform::resp::{Frame, text};
use crate::dashboard::snapshot::Fields;

/// Finds the node at a real address.
pub type NameOf<'a> = &'a dyn Fn(&str, u16) -> Option<String>;

fn put(f: &mut Fields, k: &str, v: impl Into<String>) {
    f.insert(k.to_string(), v.into());
}

/// A server's fields from its `INFO server replication keyspace` and, in a
/// cluster, its `CLUSTER INFO` and `CLUSTER NODES`.
pub fn redis(info: &str, cluster: Option<(&str, &str)>, name_of: NameOf) -> Fields {
    let mut f = Fields::new();
    put(&mut f, "status", "running");
    let field = |k: &str| crate::redis::info::field(info, k);
    let mut section = "";
    let mut keys = 0u64;
    for line in info.lines().map(str::trim_end) {
        if let Some(s) = line.strip_prefix("# ") {
            section = s;
            continue;
        }
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        match section {
            "Replication" => put(&mut f, k, v),
            "Keyspace" => {
                keys += (v.split(',').find_map(|kv| kv.strip_prefix("keys=")))
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
            _ => {}
        }
    }
    if let Some(id) = field("run_id") {
        put(&mut f, "run_id", &id[..id.len().min(8)]);
    }
    put(&mut f, "keys", keys.to_string());
    if let (Some(host), Some(port)) = (field("master_host"), field("master_port"))
        && let Some(name) = port.parse().ok().and_then(|p| name_of(host, p))
    {
        put(&mut f, "master_node", name);
    }
    for i in 0.. {
        let Some(line) = field(&format!("slave{i}")) else {
            break;
        };
        let kv = |k: &str| {
            line.split(',')
                .find_map(|p| p.strip_prefix(k)?.strip_prefix('='))
        };
        if let (Some(ip), Some(port), Some(state)) = (kv("ip"), kv("port"), kv("state"))
            && let Some(name) = port.parse().ok().and_then(|p| name_of(ip, p))
        {
            put(&mut f, &format!("replica_node:{name}"), state);
        }
    }
    if let Some((info, nodes)) = cluster {
        cluster_fields(info, nodes, name_of, &mut f);
    }
    f
}

/// `CLUSTER INFO`'s fields, the slots the node serves as a master, and its
/// view of every other node (`view:<name>`: master or slave, with `fail?`
/// or `fail`), as the simulated page shows them.
fn cluster_fields(info: &str, nodes: &str, name_of: NameOf, f: &mut Fields) {
    for line in info.lines() {
        if let Some((k, v)) = line.trim_end().split_once(':') {
            put(f, k, v);
        }
    }
    for line in nodes.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let [_, addr, flags, ..] = words[..] else {
            continue;
        };
        let flags: Vec<&str> = flags.split(',').collect();
        if flags.contains(&"myself") {
            if flags.contains(&"master") {
                let slots: Vec<&str> = (words.iter().skip(8).copied())
                    .filter(|s| !s.starts_with('['))
                    .collect();
                put(f, "cluster_slots", slots.join(" "));
            }
            continue;
        }
        let Some((ip, port)) = addr.split('@').next().and_then(|a| a.rsplit_once(':')) else {
            continue;
        };
        let Some(name) = port.parse().ok().and_then(|p| name_of(ip, p)) else {
            continue;
        };
        let mut view = vec![if flags.contains(&"master") {
            "master"
        } else {
            "slave"
        }];
        view.extend(["fail?", "fail"].into_iter().filter(|x| flags.contains(x)));
        put(f, &format!("view:{name}"), view.join(","));
    }
}

/// A reply of field and value pairs (SENTINEL MASTER's, each entry of
/// SENTINEL REPLICAS') as pairs, in RESP2's flat form or RESP3's map.
pub fn pairs(reply: &Frame) -> Vec<(String, String)> {
    match reply {
        Frame::Array(Some(items)) => (items.chunks(2))
            .filter_map(|kv| Some((text(kv.first()?)?, text(kv.get(1)?)?)))
            .collect(),
        Frame::Map(kv) => (kv.iter())
            .filter_map(|(k, v)| Some((text(k)?, text(v)?)))
            .collect(),
        _ => Vec::new(),
    }
}

/// What a Sentinel says of one master it monitors.
pub struct Monitored {
    /// SENTINEL MASTER's fields.
    pub master: Vec<(String, String)>,
    /// Each replica's fields (SENTINEL REPLICAS).
    pub replicas: Vec<Vec<(String, String)>>,
    /// Each other Sentinel's fields (SENTINEL SENTINELS).
    pub sentinels: Vec<Vec<(String, String)>>,
}

fn get<'a>(kv: &'a [(String, String)], k: &str) -> Option<&'a str> {
    kv.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str())
}

fn flags(kv: &[(String, String)]) -> Vec<&str> {
    get(kv, "flags").map_or(Vec::new(), |f| f.split(',').collect())
}

/// A Sentinel's fields: its id and tilt, then per monitored master (the
/// first under plain names, each other's with `:<master name>` after) its
/// master, status, epoch, failover state, the replica being promoted, who
/// it sees down, and the replicas and Sentinels it knows.
pub fn sentinel(myid: &str, tilt: Option<&str>, masters: &[Monitored], name_of: NameOf) -> Fields {
    let mut f = Fields::new();
    put(&mut f, "status", "running");
    put(&mut f, "role", "sentinel");
    put(&mut f, "myid", &myid[..myid.len().min(8)]);
    let name = |kv: &[(String, String)]| {
        let (ip, port) = (get(kv, "ip")?, get(kv, "port")?.parse().ok()?);
        name_of(ip, port).or_else(|| Some(format!("{ip}:{port}")))
    };
    for (k, m) in masters.iter().enumerate() {
        let suffix = match k {
            0 => String::new(),
            _ => format!(":{}", get(&m.master, "name").unwrap_or("?")),
        };
        let mut put = |k: &str, v: String| {
            f.insert(format!("{k}{suffix}"), v);
        };
        put(
            "config_epoch",
            get(&m.master, "config-epoch").unwrap_or("0").into(),
        );
        put("master_node", name(&m.master).unwrap_or_default());
        let fl = flags(&m.master);
        let status = match () {
            _ if fl.contains(&"o_down") => "odown",
            _ if fl.contains(&"s_down") => "sdown",
            _ => "ok",
        };
        put("master_status", status.into());
        put("tilt", tilt.unwrap_or("0").into());
        put(
            "failover_state",
            get(&m.master, "failover-state").unwrap_or("none").into(),
        );
        if let Some(r) = m.replicas.iter().find(|r| flags(r).contains(&"promoted")) {
            put("promoting", name(r).unwrap_or_default());
        }
        let down: Vec<String> = std::iter::once(&m.master)
            .chain(&m.replicas)
            .chain(&m.sentinels)
            .filter(|kv| flags(kv).contains(&"s_down"))
            .filter_map(|kv| name(kv))
            .collect();
        put("sees_sdown", down.join(","));
        let replicas: Vec<String> = m.replicas.iter().filter_map(|r| name(r)).collect();
        put("known_replicas", replicas.join(","));
        put("known_sentinels", m.sentinels.len().to_string());
    }
    f
}

/// A Sentinel's current epoch and its vote, from the events it published
/// (`+new-epoch <epoch>`, `+vote-for-leader <runid> <epoch>`): no command
/// shows them. `name_of_id` names a Sentinel by its run id.
pub fn from_events<'a>(
    published: impl Iterator<Item = (&'a str, &'a str)>,
    name_of_id: &dyn Fn(&str) -> Option<String>,
    f: &mut Fields,
) {
    for (event, detail) in published {
        let words: Vec<&str> = detail.split_whitespace().collect();
        match event {
            "+new-epoch" => {
                if let Some(e) = words.last() {
                    put(f, "current_epoch", *e);
                }
            }
            "+vote-for-leader" => {
                if let [.., id, epoch] = words[..] {
                    let who = name_of_id(id).unwrap_or_else(|| id[..id.len().min(8)].to_string());
                    put(f, "vote", format!("{who} in epoch {epoch}"));
                }
            }
            _ => {}
        }
    }
    f.entry("current_epoch".into())
        .or_insert_with(|| "0".into());
    f.entry("vote".into()).or_insert_with(|| "none".into());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(host: &str, port: u16) -> Option<String> {
        (host == "127.0.0.1").then(|| match port {
            7000 => "master".into(),
            7001 => "replica-1".into(),
            7002 => "replica-2".into(),
            _ => format!("port-{port}"),
        })
    }

    /// What a real replica of Redis 7.0.15 answered (trimmed).
    const REPLICA_INFO: &str = "# Server\r\nredis_version:7.0.15\r\nrun_id:5b1c0f3e9d2a4c6b8e7f1a2b3c4d5e6f7a8b9c0d\r\n\r\n# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\nmaster_port:7000\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:1\r\nmaster_sync_in_progress:0\r\nslave_read_repl_offset:1234\r\nslave_repl_offset:1234\r\nslave_priority:100\r\nslave_read_only:1\r\nreplica_announced:1\r\nconnected_slaves:0\r\nmaster_failover_state:no-failover\r\nmaster_replid:3f1e\r\nmaster_repl_offset:1234\r\n\r\n# Keyspace\r\ndb0:keys=12,expires=0,avg_ttl=0\r\ndb3:keys=1,expires=0,avg_ttl=0\r\n";

    #[test]
    fn a_replica_shows_its_info_and_names_its_master() {
        let f = redis(REPLICA_INFO, None, &names);
        assert_eq!(f["status"], "running");
        assert_eq!(f["role"], "slave");
        assert_eq!(f["master_link_status"], "up");
        assert_eq!(f["master_repl_offset"], "1234");
        assert_eq!(f["master_node"], "master");
        assert_eq!(f["run_id"], "5b1c0f3e");
        assert_eq!(f["keys"], "13", "keys of every database");
        assert!(
            !f.contains_key("redis_version"),
            "only the replication section"
        );
    }

    #[test]
    fn a_master_names_its_replicas_with_their_state() {
        let info = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\nslave0:ip=127.0.0.1,port=7001,state=online,offset=98,lag=0\r\nslave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=1\r\nmaster_repl_offset:98\r\n";
        let f = redis(info, None, &names);
        assert_eq!(f["replica_node:replica-1"], "online");
        assert_eq!(f["replica_node:replica-2"], "wait_bgsave");
        assert_eq!(f["keys"], "0");
        assert!(!f.contains_key("master_node"));
    }

    #[test]
    fn a_cluster_node_shows_its_slots_and_its_view_of_the_others() {
        let info = "cluster_state:ok\r\ncluster_current_epoch:7\r\n";
        let nodes = "\
a1 127.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-5460 10923 [5461->-b2]\n\
b2 127.0.0.1:7001@17001 master,fail? - 0 0 2 connected 5461-10922\n\
c3 127.0.0.1:7002@17002 slave,fail b2 0 0 2 connected\n";
        let f = redis(
            "# Replication\r\nrole:master\r\n",
            Some((info, nodes)),
            &names,
        );
        assert_eq!(f["cluster_state"], "ok");
        assert_eq!(f["cluster_current_epoch"], "7");
        assert_eq!(f["cluster_slots"], "0-5460 10923");
        assert_eq!(f["view:replica-1"], "master,fail?");
        assert_eq!(f["view:replica-2"], "slave,fail");
    }

    fn kv(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_sentinel_in_a_failover() {
        let m = Monitored {
            master: kv(&[
                ("name", "mymaster"),
                ("ip", "127.0.0.1"),
                ("port", "7000"),
                ("flags", "s_down,o_down,master,failover_in_progress"),
                ("failover-state", "wait_promotion"),
                ("config-epoch", "0"),
            ]),
            replicas: vec![
                kv(&[("ip", "127.0.0.1"), ("port", "7001"), ("flags", "slave")]),
                kv(&[
                    ("ip", "127.0.0.1"),
                    ("port", "7002"),
                    ("flags", "slave,promoted"),
                ]),
            ],
            sentinels: vec![kv(&[
                ("ip", "127.0.0.1"),
                ("port", "7104"),
                ("flags", "sentinel"),
            ])],
        };
        let f = sentinel("0123456789abcdef", Some("0"), &[m], &names);
        assert_eq!(f["master_node"], "master");
        assert_eq!(f["master_status"], "odown");
        assert_eq!(f["failover_state"], "wait_promotion");
        assert_eq!(f["promoting"], "replica-2");
        assert_eq!(f["sees_sdown"], "master");
        assert_eq!(f["known_replicas"], "replica-1,replica-2");
        assert_eq!(f["known_sentinels"], "1");
        assert_eq!(f["myid"], "01234567");
    }

    #[test]
    fn a_second_master_has_its_name_after_each_field() {
        let m = |name: &str, port: &str| Monitored {
            master: kv(&[
                ("name", name),
                ("ip", "127.0.0.1"),
                ("port", port),
                ("flags", "master"),
            ]),
            replicas: Vec::new(),
            sentinels: Vec::new(),
        };
        let f = sentinel("x", None, &[m("a", "7000"), m("b", "7001")], &names);
        assert_eq!(f["master_node"], "master");
        assert_eq!(f["master_node:b"], "replica-1");
        assert_eq!(f["failover_state:b"], "none");
    }

    #[test]
    fn epoch_and_vote_come_from_what_the_sentinel_published() {
        let mut f = Fields::new();
        from_events(std::iter::empty(), &|_| None, &mut f);
        assert_eq!(
            (f["current_epoch"].as_str(), f["vote"].as_str()),
            ("0", "none")
        );
        let published = [
            ("+new-epoch", "1"),
            ("+vote-for-leader", "ab12cd34ef 1"),
            ("+sdown", "master mymaster 127.0.0.1 7000"),
        ];
        from_events(
            published.into_iter(),
            &|id| (id == "ab12cd34ef").then(|| "sentinel-2".to_string()),
            &mut f,
        );
        assert_eq!(f["current_epoch"], "1");
        assert_eq!(f["vote"], "sentinel-2 in epoch 1");
    }

    #[test]
    fn replies_in_both_protocols_read_as_pairs() {
        let flat = Frame::Array(Some(vec![
            Frame::bulk("name"),
            Frame::bulk("mymaster"),
            Frame::bulk("num-slaves"),
            Frame::bulk("2"),
        ]));
        let map = Frame::Map(vec![(Frame::bulk("name"), Frame::bulk("mymaster"))]);
        assert_eq!(pairs(&flat)[1], ("num-slaves".into(), "2".into()));
        assert_eq!(pairs(&map), [("name".to_string(), "mymaster".to_string())]);
    }
}
