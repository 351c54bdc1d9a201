//! `redsim import`: real configuration files read into a scenario. Each
//! redis.conf is a Redis server and each sentinel.conf (a file with a
//! `sentinel monitor` line) a Sentinel. `replicaof` lines make the
//! replication groups; settings the same on every server go to `[redis]`,
//! the others to each server's `[node.<name>]`; the Sentinels' masters and
//! settings go to `[sentinel]`. What files cannot hold (the workload, the
//! faults, the duration) comes from a `redsim.toml` beside them, as
//! [`super::export`] writes it, or else is a starting workload of 100
//! operations a second for 60 seconds. Directives redsim does not model
//! are listed, never dropped in silence.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;

use crate::redis::config::{self, ConfValue, RedisConfig};
use crate::sentinel::MasterConf;

use super::conf_file::ConfFile;
use super::{EXPERIMENT, is_server_table};

/// What `redsim import` was asked.
#[derive(Clone, Debug, Default)]
pub struct ImportOptions {
    /// Replicas per master of a cluster (`redis-cli --cluster create
    /// --cluster-replicas`): files do not say which node replicates whom
    /// until the cluster exists.
    pub cluster_replicas: Option<u32>,
    /// The scenario's name (else the experiment's, else the directory's).
    pub name: Option<String>,
}

/// An imported scenario: its text and what was left out of it.
#[derive(Debug)]
pub struct Imported {
    pub text: String,
    /// Each directive not carried over, with its file and line.
    pub left_out: Vec<String>,
}

/// Directives about where and how a process runs, which the simulator
/// decides for itself: read past without a note.
const PLACEMENT: &[&str] = &[
    "bind",
    "port",
    "daemonize",
    "protected-mode",
    "dir",
    "logfile",
    "pidfile",
    "supervised",
    "cluster-config-file",
    "dbfilename",
    "appendfilename",
    "appenddirname",
    "unixsocket",
    "unixsocketperm",
    "always-show-logo",
    "set-proc-title",
    "proc-title-template",
    "loglevel",
];

/// sentinel.conf lines a Sentinel writes about its own state.
const SENTINEL_STATE: &[&str] = &[
    "myid",
    "current-epoch",
    "config-epoch",
    "leader-epoch",
    "known-replica",
    "known-slave",
    "known-sentinel",
];

/// Lines Redis 7.0's config rewrite (a Sentinel's after every change of
/// state) writes with their default values: they set nothing.
const REWRITTEN_DEFAULTS: &[&str] = &[
    "user default on nopass ~* &* +@all",
    "latency-tracking-info-percentiles 50 99 99.9",
];

/// Whether a directive only restates a default the rewrite writes.
fn rewritten_default(l: &super::conf_file::Line) -> bool {
    let line = format!("{} {}", l.name, l.args.join(" "));
    REWRITTEN_DEFAULTS.contains(&line.as_str())
}

/// One Redis server's file, read.
struct Server {
    file: ConfFile,
    port: u16,
    /// `replicaof <host> <port>`, with its line.
    replicaof: Option<(u16, String)>,
    /// Each setting's value as redis.conf's text, last one kept.
    settings: IndexMap<String, String>,
}

/// One `sentinel monitor` and the options that name its master.
#[derive(Clone, Debug, PartialEq)]
struct Monitor {
    name: String,
    port: u16,
    conf: MasterConf,
}

/// Reads the configuration files at `paths` (files, or directories whose
/// `*.conf` files and `redsim.toml` are read, one level of folders down).
pub fn import(paths: &[PathBuf], opts: &ImportOptions) -> Result<Imported, String> {
    let (confs, experiment) = gather(paths)?;
    if confs.is_empty() {
        return Err("no configuration files (*.conf) found".into());
    }
    let mut left_out = Vec::new();
    let mut servers = Vec::new();
    let mut sentinels = Vec::new();
    for path in &confs {
        let file = ConfFile::read(path)?;
        if file.is_sentinel() {
            sentinels.push(read_sentinel(&file, &mut left_out)?);
        } else {
            servers.push(read_server(file, &mut left_out)?);
        }
    }
    if servers.is_empty() {
        return Err("no Redis server's file among them (only Sentinels')".into());
    }
    servers.sort_by_key(|s| s.port);
    if let Some(w) = servers.windows(2).find(|w| w[0].port == w[1].port) {
        return Err(format!(
            "{} and {} both listen on port {}: import places servers by port, as on one host",
            w[0].file.path.display(),
            w[1].file.path.display(),
            w[0].port
        ));
    }
    let mut doc = match &experiment {
        Some(path) => read_experiment(path)?,
        None => toml::Table::new(),
    };
    let hint = match doc.remove("topology") {
        Some(toml::Value::Table(t)) => t,
        _ => toml::Table::new(),
    };
    let cluster = cluster_enabled(&servers)?;
    let shape = if cluster {
        cluster_shape(&servers, opts, &hint)?
    } else {
        replication_shape(&servers, &hint)?
    };
    let names = crate::scenario::redis_names(shape.masters, shape.replicas, cluster);
    let named: Vec<(&str, &Server)> = shape
        .order
        .iter()
        .map(|&i| &servers[i])
        .zip(&names)
        .map(|(s, n)| (n.as_str(), s))
        .collect();
    let mut topology = toml::Table::new();
    topology.insert("masters".into(), shape.masters.into());
    if shape.replicas > 0 || cluster {
        topology.insert("replicas".into(), shape.replicas.into());
    }
    if !sentinels.is_empty() {
        topology.insert("sentinels".into(), (sentinels.len() as i64).into());
    }
    if cluster {
        topology.insert("cluster".into(), true.into());
        if let Some(slots) = hint.get("slots").filter(|s| {
            s.as_array()
                .is_some_and(|a| a.len() == shape.masters as usize)
        }) {
            topology.insert("slots".into(), slots.clone());
        }
    }
    if !shape.linked {
        topology.insert("linked".into(), false.into());
    }
    doc.insert("topology".into(), topology.into());
    put_settings(&mut doc, &named, cluster);
    if let Some(sentinel) = sentinel_table(&sentinels, &named, &shape)? {
        doc.insert("sentinel".into(), sentinel.into());
    }
    if experiment.is_none() {
        starting_experiment(&mut doc, &sentinels, cluster, &names);
    }
    let name = opts
        .name
        .clone()
        .or_else(|| doc.get("name").and_then(|v| v.as_str()).map(String::from))
        .unwrap_or_else(|| default_name(paths));
    crate::scenario::limits::check_scenario_name(&name)?;
    doc.insert("name".into(), name.into());
    let body = toml::to_string(&doc).map_err(|e| e.to_string())?;
    let mut text = format!(
        "# Imported by `redsim import` from {} configuration file{}.\n",
        confs.len(),
        if confs.len() == 1 { "" } else { "s" }
    );
    if !left_out.is_empty() {
        text.push_str("# Not carried over (redsim does not model them):\n");
        for l in &left_out {
            text.push_str(&format!("#   {l}\n"));
        }
    }
    text.push('\n');
    text.push_str(&body);
    crate::scenario::parse("imported scenario", &text)
        .map_err(|e| format!("the imported scenario does not check: {e}"))?;
    Ok(Imported { text, left_out })
}

/// The `*.conf` files and the experiment among `paths`, each in a stable
/// order.
fn gather(paths: &[PathBuf]) -> Result<(Vec<PathBuf>, Option<PathBuf>), String> {
    let mut confs = Vec::new();
    let mut experiments = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            let top = sorted_entries(p)?;
            for e in &top {
                if e.is_dir() {
                    confs.extend(
                        sorted_entries(e)?
                            .into_iter()
                            .filter(|f| f.extension().is_some_and(|x| x == "conf") && f.is_file()),
                    );
                } else if e.extension().is_some_and(|x| x == "conf") {
                    confs.push(e.clone());
                } else if e.file_name().is_some_and(|n| n == EXPERIMENT) {
                    experiments.push(e.clone());
                }
            }
        } else if p.extension().is_some_and(|x| x == "toml") {
            experiments.push(p.clone());
        } else {
            confs.push(p.clone());
        }
    }
    if experiments.len() > 1 {
        return Err(format!(
            "more than one experiment file: {}",
            experiments
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok((confs, experiments.pop()))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, String> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    v.sort();
    Ok(v)
}

/// The experiment file as a table, refused if it holds server settings
/// (the configuration files do).
fn read_experiment(path: &Path) -> Result<toml::Table, String> {
    let text = crate::scenario::read_text(path).map_err(|e| e.to_string())?;
    let file = path.display().to_string();
    let doc: toml::Table = toml::from_str(&text).map_err(|e| {
        crate::scenario::error::Source {
            file: &file,
            text: &text,
        }
        .from_toml(&e)
        .to_string()
    })?;
    if let Some(k) = doc.keys().find(|k| is_server_table(k)) {
        return Err(format!(
            "{}: has [{k}]; the servers' settings come from the .conf files",
            path.display()
        ));
    }
    Ok(doc)
}

/// A redis.conf: its port, `replicaof` and modelled settings; the rest
/// noted in `left_out`.
fn read_server(file: ConfFile, left_out: &mut Vec<String>) -> Result<Server, String> {
    let port = file.port()?;
    let mut replicaof = None;
    let mut settings: IndexMap<String, String> = IndexMap::new();
    let mut saves: Option<(Vec<String>, String)> = None;
    // A value redsim cannot take is refused at its own line.
    let check = |at: &str, k: &str, v: &str| {
        RedisConfig::default()
            .set(k, ConfValue::Text(v))
            .map_err(|e| format!("{at}: `{k} {v}`: {e}"))
    };
    for l in &file.lines {
        let at = file.at(l);
        match l.name.as_str() {
            "port" if !l.simulated => {}
            "replicaof" | "slaveof" => {
                replicaof = match l.args.as_slice() {
                    [no, one]
                        if no.eq_ignore_ascii_case("no") && one.eq_ignore_ascii_case("one") =>
                    {
                        None
                    }
                    [host, p] => Some((
                        p.parse()
                            .map_err(|_| format!("{at}: `{} {host} {p}`: not a port", l.name))?,
                        host.clone(),
                    )),
                    _ => return Err(format!("{at}: `{}` takes a host and a port", l.name)),
                };
            }
            "save" => {
                // Redis 7.0: `save ""` clears the save points, and each
                // `save` line adds its pairs to those read before.
                let (points, last) = saves.get_or_insert_with(Default::default);
                *last = at.clone();
                if l.args.len() == 1 && l.args[0].is_empty() {
                    points.clear();
                } else {
                    points.extend(l.args.iter().cloned());
                }
            }
            "client-output-buffer-limit" => match l.args.first().map(|c| c.to_ascii_lowercase()) {
                Some(c) if c == "replica" || c == "slave" => {
                    check(&at, &l.name, &l.args.join(" "))?;
                    settings.insert(l.name.clone(), l.args.join(" "));
                }
                _ => left_out.push(format!(
                    "{at}: client-output-buffer-limit {}",
                    l.args.join(" ")
                )),
            },
            name if PLACEMENT.contains(&name) || rewritten_default(l) => {}
            name if config::KEYS.contains(&name) && !name.starts_with("cluster-announce-") => {
                check(&at, name, &l.args.join(" "))?;
                settings.insert(name.to_string(), l.args.join(" "));
            }
            name => left_out.push(format!("{at}: {name} {}", l.args.join(" "))),
        }
    }
    if let Some((points, at)) = saves {
        let points = points.join(" ");
        check(&at, "save", &points)?;
        settings.insert("save".into(), points);
    }
    Ok(Server {
        file,
        port,
        replicaof,
        settings,
    })
}

/// A sentinel.conf's monitored masters, in its order.
fn read_sentinel(file: &ConfFile, left_out: &mut Vec<String>) -> Result<Vec<Monitor>, String> {
    let mut monitors: Vec<Monitor> = Vec::new();
    for l in &file.lines {
        let at = file.at(l);
        if l.name != "sentinel" {
            if !PLACEMENT.contains(&l.name.as_str()) && !rewritten_default(l) {
                left_out.push(format!("{at}: {} {}", l.name, l.args.join(" ")));
            }
            continue;
        }
        let sub = l
            .args
            .first()
            .map(|s| s.to_ascii_lowercase())
            .unwrap_or_default();
        let number = |s: &str| -> Result<u64, String> {
            s.parse()
                .map_err(|_| format!("{at}: `sentinel {sub}`: `{s}` is not a number"))
        };
        match (sub.as_str(), &l.args[1..]) {
            ("monitor", [name, _host, port, quorum]) => {
                let mut conf = MasterConf::new(0);
                conf.master_name = name.as_str().into();
                conf.quorum = number(quorum)? as u32;
                monitors.push(Monitor {
                    name: name.clone(),
                    port: number(port)? as u16,
                    conf,
                });
            }
            ("monitor", _) => {
                return Err(format!(
                    "{at}: `sentinel monitor` takes a name, a host, a port and a quorum"
                ));
            }
            (
                "down-after-milliseconds" | "failover-timeout" | "parallel-syncs" | "auth-pass",
                [name, value],
            ) => {
                let m = monitors
                    .iter_mut()
                    .find(|m| &m.name == name)
                    .ok_or_else(|| format!("{at}: no `sentinel monitor {name}` before it"))?;
                match sub.as_str() {
                    "down-after-milliseconds" => m.conf.down_after = number(value)?,
                    "failover-timeout" => m.conf.failover_timeout = number(value)?,
                    "parallel-syncs" => m.conf.parallel_syncs = number(value)? as u32,
                    _ => m.conf.auth_pass = Some(value.as_str().into()),
                }
            }
            (s, _) if SENTINEL_STATE.contains(&s) => {}
            _ => left_out.push(format!("{at}: sentinel {}", l.args.join(" "))),
        }
    }
    Ok(monitors)
}

/// Whether the servers form a cluster: all of them `cluster-enabled yes`,
/// or none.
fn cluster_enabled(servers: &[Server]) -> Result<bool, String> {
    let on: Vec<bool> = servers
        .iter()
        .map(|s| {
            s.settings
                .get("cluster-enabled")
                .is_some_and(|v| v == "yes")
        })
        .collect();
    match (on.iter().all(|&b| b), on.iter().any(|&b| b)) {
        (true, _) => Ok(true),
        (false, false) => Ok(false),
        (false, true) => Err(
            "some servers have `cluster-enabled yes` and some do not: a scenario is a cluster or not"
                .into(),
        ),
    }
}

/// The deployment's shape: groups, and the servers (by index in port
/// order) in the plan's order.
struct Shape {
    masters: u32,
    replicas: u32,
    linked: bool,
    order: Vec<usize>,
}

/// Groups from the `replicaof` lines: each master (by port) followed by
/// its replicas (by port). Without any, the experiment's `linked = false`
/// shape if it fits, else every server a master of its own.
fn replication_shape(servers: &[Server], hint: &toml::Table) -> Result<Shape, String> {
    let by_port = |p: u16| servers.iter().position(|s| s.port == p);
    if servers.iter().all(|s| s.replicaof.is_none()) {
        let int = |k: &str| hint.get(k).and_then(|v| v.as_integer());
        if let (Some(false), Some(m), r) = (
            hint.get("linked").and_then(|v| v.as_bool()),
            int("masters"),
            int("replicas").unwrap_or(0),
        ) && m > 0
            && r >= 0
            && (m * (1 + r)) as usize == servers.len()
        {
            return Ok(Shape {
                masters: m as u32,
                replicas: r as u32,
                linked: false,
                order: (0..servers.len()).collect(),
            });
        }
    }
    let mut order = Vec::new();
    let mut replicas = None;
    let masters: Vec<usize> = (0..servers.len())
        .filter(|&i| servers[i].replicaof.is_none())
        .collect();
    for &m in &masters {
        let mine: Vec<usize> = (0..servers.len())
            .filter(|&i| servers[i].replicaof.as_ref().map(|r| r.0) == Some(servers[m].port))
            .collect();
        match replicas {
            None => replicas = Some(mine.len()),
            Some(n) if n != mine.len() => {
                return Err(format!(
                    "the master on port {} has {} replica(s) and the one on port {} has {}: a scenario gives every master the same number",
                    servers[masters[0]].port,
                    n,
                    servers[m].port,
                    mine.len()
                ));
            }
            _ => {}
        }
        order.push(m);
        order.extend(mine);
    }
    for s in servers {
        if let Some((port, host)) = &s.replicaof {
            match by_port(*port) {
                None => {
                    return Err(format!(
                        "{}: `replicaof {host} {port}`: no file here listens on port {port}",
                        s.file.path.display()
                    ));
                }
                Some(t) if servers[t].replicaof.is_some() => {
                    return Err(format!(
                        "{}: `replicaof {host} {port}` names a replica: a scenario's replicas replicate their group's master",
                        s.file.path.display()
                    ));
                }
                Some(_) => {}
            }
        }
    }
    Ok(Shape {
        masters: masters.len() as u32,
        replicas: replicas.unwrap_or(0) as u32,
        linked: true,
        order,
    })
}

/// A cluster's shape: `--cluster-replicas`, else the experiment's
/// `replicas`, else none; the servers in port order, masters first, as
/// `redis-cli --cluster create` takes them.
fn cluster_shape(
    servers: &[Server],
    opts: &ImportOptions,
    hint: &toml::Table,
) -> Result<Shape, String> {
    let replicas = opts.cluster_replicas.unwrap_or_else(|| {
        hint.get("replicas")
            .and_then(|v| v.as_integer())
            .map_or(0, |r| r.max(0) as u32)
    });
    let n = servers.len() as u32;
    if !n.is_multiple_of(1 + replicas) {
        return Err(format!(
            "{n} cluster nodes cannot be masters with {replicas} replica(s) each; give --cluster-replicas"
        ));
    }
    Ok(Shape {
        masters: n / (1 + replicas),
        replicas,
        linked: true,
        order: (0..servers.len()).collect(),
    })
}

/// `[redis]` for each setting that does the same on every server, and
/// `[node.<name>]` for each server whose value differs from the default;
/// settings that leave a server as the default configures it are left out.
fn put_settings(doc: &mut toml::Table, named: &[(&str, &Server)], cluster: bool) {
    let base = RedisConfig {
        cluster_enabled: cluster,
        ..RedisConfig::default()
    };
    let effect = |k: &str, v: Option<&String>| {
        let mut c = base.clone();
        if let Some(v) = v {
            let _ = c.set(k, ConfValue::Text(v));
        }
        c
    };
    let mut common = toml::Table::new();
    let mut nodes: IndexMap<&str, toml::Table> = IndexMap::new();
    for &key in config::KEYS {
        if key == "cluster-enabled" {
            continue;
        }
        let values: Vec<Option<&String>> = named.iter().map(|(_, s)| s.settings.get(key)).collect();
        let effects: Vec<RedisConfig> = values.iter().map(|v| effect(key, *v)).collect();
        if effects.iter().all(|c| *c == base) {
            continue;
        }
        if effects.iter().all(|c| *c == effects[0]) {
            if let Some(v) = values.iter().flatten().next() {
                common.insert(key.into(), value(v));
            }
            continue;
        }
        for ((name, _), (v, c)) in named.iter().zip(values.iter().zip(&effects)) {
            if let (Some(v), false) = (v, *c == base) {
                nodes.entry(name).or_default().insert(key.into(), value(v));
            }
        }
    }
    if !common.is_empty() {
        doc.insert("redis".into(), common.into());
    }
    if !nodes.is_empty() {
        let t: toml::Table = nodes
            .into_iter()
            .map(|(n, t)| (n.to_string(), toml::Value::Table(t)))
            .collect();
        doc.insert("node".into(), t.into());
    }
}

/// A redis.conf value as the scenario writes it: a number as a number.
fn value(v: &str) -> toml::Value {
    match v.parse::<i64>() {
        Ok(n) if n.to_string() == v => n.into(),
        _ => v.into(),
    }
}

/// `[sentinel]` from the Sentinels' files, which must agree: one master
/// as `master-name` and its settings, several as `[sentinel.masters.*]`.
fn sentinel_table(
    sentinels: &[Vec<Monitor>],
    named: &[(&str, &Server)],
    shape: &Shape,
) -> Result<Option<toml::Table>, String> {
    let Some(first) = sentinels.first() else {
        return Ok(None);
    };
    if let Some(other) = sentinels.iter().position(|s| s != first) {
        return Err(format!(
            "Sentinel {} monitors other masters or with other settings than Sentinel 1: redsim's Sentinels share one configuration",
            other + 1
        ));
    }
    let group_master = |port: u16, name: &str| -> Result<&str, String> {
        let i = named
            .iter()
            .position(|(_, s)| s.port == port)
            .ok_or_else(|| {
                format!("`sentinel monitor {name}` names port {port}, where no server here listens")
            })?;
        if i % (1 + shape.replicas as usize) != 0 {
            return Err(format!(
                "`sentinel monitor {name}` names port {port}, which is a replica in the servers' files"
            ));
        }
        Ok(named[i].0)
    };
    let settings = |m: &MasterConf| {
        let d = MasterConf::new(0);
        let mut t = toml::Table::new();
        t.insert("quorum".into(), i64::from(m.quorum).into());
        if m.down_after != d.down_after {
            t.insert(
                "down-after-milliseconds".into(),
                (m.down_after as i64).into(),
            );
        }
        if m.failover_timeout != d.failover_timeout {
            t.insert(
                "failover-timeout".into(),
                (m.failover_timeout as i64).into(),
            );
        }
        if m.parallel_syncs != d.parallel_syncs {
            t.insert("parallel-syncs".into(), i64::from(m.parallel_syncs).into());
        }
        if let Some(p) = &m.auth_pass {
            t.insert("auth-pass".into(), p.as_str().into());
        }
        t
    };
    if let ([m], 1) = (first.as_slice(), shape.masters) {
        group_master(m.port, &m.name)?;
        let mut t = settings(&m.conf);
        if m.name != "mymaster" {
            t.insert("master-name".into(), m.name.as_str().into());
        }
        return Ok(Some(t));
    }
    let mut masters = toml::Table::new();
    for m in first {
        let mut t = settings(&m.conf);
        t.insert("node".into(), group_master(m.port, &m.name)?.into());
        masters.insert(m.name.clone(), t.into());
    }
    let mut t = toml::Table::new();
    t.insert("masters".into(), masters.into());
    Ok(Some(t))
}

/// Without an experiment file: 60 seconds of a client writing and
/// reading 100 times a second, through the Sentinels if there are any.
fn starting_experiment(
    doc: &mut toml::Table,
    sentinels: &[Vec<Monitor>],
    cluster: bool,
    names: &[String],
) {
    doc.insert("duration".into(), "60s".into());
    doc.insert(
        "description".into(),
        "Imported from configuration files. Add faults ([[fault]]) and expectations ([[expect]]) to make it an experiment."
            .into(),
    );
    let mut w = toml::Table::new();
    if cluster {
        w.insert("cluster".into(), true.into());
    } else if let Some(m) = sentinels.first().and_then(|s| s.first()) {
        w.insert("sentinel".into(), true.into());
        if sentinels[0].len() > 1 {
            w.insert("master-name".into(), m.name.as_str().into());
        }
    } else {
        w.insert("target".into(), names[0].as_str().into());
    }
    w.insert("rate".into(), 100.into());
    doc.insert("workload".into(), toml::Value::Array(vec![w.into()]));
}

/// The name of the first path given, as a scenario name.
fn default_name(paths: &[PathBuf]) -> String {
    paths
        .first()
        .and_then(|p| std::fs::canonicalize(p).ok())
        .and_then(|p| {
            let p = if p.is_dir() {
                p
            } else {
                p.parent()?.to_path_buf()
            };
            p.file_name().map(|n| n.to_string_lossy().into_owned())
        })
        .map(|n| {
            n.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect()
        })
        .filter(|n: &String| !n.is_empty())
        .unwrap_or_else(|| "imported".into())
}
