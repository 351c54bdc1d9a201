use std::path::{Path, PathBuf};

use super::*;
use crate::scenario::bundled::BUNDLED;

fn plan(text: &str) -> crate::scenario::Plan {
    crate::scenario::parse("t.toml", text).expect("a valid scenario")
}

fn export_import(text: &str, dir: &Path) -> Result<(crate::scenario::Plan, Imported), String> {
    let p = plan(text);
    export(&p, text, dir, 7000)?;
    let back = import(&[dir.to_path_buf()], &ImportOptions::default())?;
    Ok((plan(&back.text), back))
}

/// Every bundled scenario a real deployment can run comes back from its
/// exported files as the same plan, so its run is the same, trace and
/// all; those refused say why.
#[test]
fn every_bundled_scenario_round_trips_through_real_config_files() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (mut same, mut refused) = (0, Vec::new());
    for (i, (name, text)) in BUNDLED.iter().enumerate() {
        let dir = tmp.path().join(i.to_string());
        let original = plan(text);
        match export_import(text, &dir) {
            Ok((back, imported)) => {
                assert_eq!(back, original, "{name}: {}", imported.text);
                assert!(
                    imported.left_out.is_empty(),
                    "{name}: {:?}",
                    imported.left_out
                );
                same += 1;
            }
            Err(e) => {
                assert!(
                    crate::conform::topology::refused(&original).is_some(),
                    "{name}: {e}"
                );
                refused.push(*name);
            }
        }
    }
    assert!(same > 100, "{same} round-tripped, refused: {refused:?}");
    eprintln!("{same} round-tripped; refused: {refused:?}");
}

#[test]
fn export_writes_each_server_its_file_and_the_scripts() {
    let (_, text) = crate::scenario::bundled::find("interview/how-sentinel-picks-the-new-master")
        .expect("bundled");
    let tmp = tempfile::tempdir().expect("tempdir");
    let p = plan(text);
    let out = export(&p, text, tmp.path(), 7100).expect("exported");
    let names: Vec<String> = out.files.iter().map(|f| f.display().to_string()).collect();
    assert!(
        names.contains(&"master/redis.conf".to_string()),
        "{names:?}"
    );
    assert!(names.contains(&"sentinel-1/sentinel.conf".to_string()));
    assert!(names.contains(&"start.sh".to_string()) && names.contains(&"stop.sh".to_string()));
    let replica = std::fs::read_to_string(tmp.path().join("replica-1/redis.conf")).unwrap();
    assert!(replica.contains("port 7101\n") && replica.contains("replicaof 127.0.0.1 7100\n"));
    assert!(replica.contains("dir \".\"\n"), "{replica}");
    let sentinel = std::fs::read_to_string(tmp.path().join("sentinel-1/sentinel.conf")).unwrap();
    assert!(sentinel.contains("sentinel monitor \"mymaster\" 127.0.0.1 7100 "));
    let start = std::fs::read_to_string(tmp.path().join("start.sh")).unwrap();
    assert!(start.contains("start master \"$REDIS_SERVER\" redis.conf\n"));
    let experiment = std::fs::read_to_string(tmp.path().join(EXPERIMENT)).unwrap();
    assert!(!experiment.contains("[sentinel]") && experiment.contains("[[workload]]"));
    // It never writes into a directory that has files.
    let again = export(&p, text, tmp.path(), 7100).unwrap_err();
    assert!(again.contains("is not empty"), "{again}");
}

/// A learner's own files, as a tutorial writes them: three servers on
/// 6379-6381 with `replicaof`, three Sentinels, and settings Redis has
/// but redsim does not model.
#[test]
fn hand_written_files_become_a_scenario_with_a_starting_workload() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let write = |name: &str, text: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let mut paths = vec![
        write(
            "6379.conf",
            "port 6379\nmaxmemory 100mb\nrepl-backlog-size 16kb\n",
        ),
        write(
            "6380.conf",
            "port 6380\nreplicaof 127.0.0.1 6379\nrepl-backlog-size 16384\nreplica-priority 50\n",
        ),
        write(
            "6381.conf",
            "port 6381\nREPLICAOF localhost 6379\nrepl-backlog-size 16kb\n",
        ),
    ];
    for port in [26379, 26380, 26381] {
        paths.push(write(
            &format!("sentinel-{port}.conf"),
            &format!(
                "port {port}\nsentinel monitor mymaster 127.0.0.1 6379 2\n\
                 sentinel down-after-milliseconds mymaster 5000\nsentinel myid {port}abc\n"
            ),
        ));
    }
    let out = import(&paths, &ImportOptions::default()).expect("imported");
    let p = plan(&out.text);
    let names: Vec<&str> = p.nodes.iter().map(|n| n.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "master",
            "replica-1",
            "replica-2",
            "sentinel-1",
            "sentinel-2",
            "sentinel-3",
            "client-1"
        ]
    );
    // The same backlog everywhere is one [redis] setting; the priority is
    // the replica's own.
    assert!(
        out.text.contains("[redis]\nrepl-backlog-size = \"16kb\"\n"),
        "{}",
        out.text
    );
    assert!(
        out.text
            .contains("[node.replica-1]\nreplica-priority = 50\n"),
        "{}",
        out.text
    );
    let NodeKind::Sentinel(s) = &p.nodes[3].kind else {
        panic!("a Sentinel")
    };
    assert_eq!((s.masters[0].down_after, s.masters[0].quorum), (5000, 2));
    assert_eq!(out.left_out.len(), 1, "{:?}", out.left_out);
    assert!(
        out.left_out[0].ends_with("6379.conf:2:1: maxmemory 100mb"),
        "{:?}",
        out.left_out
    );
    assert!(
        out.text.contains("#   "),
        "the left-out directive is listed in the scenario"
    );
}

use crate::scenario::NodeKind;

#[test]
fn files_that_no_scenario_can_hold_are_refused_with_the_reason() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let case = |files: &[(&str, &str)]| -> String {
        let dir = tmp.path().join(files[0].0.replace('/', "_"));
        std::fs::create_dir_all(&dir).unwrap();
        let paths: Vec<PathBuf> = files
            .iter()
            .map(|(n, t)| {
                let p = dir.join(n);
                std::fs::write(&p, t).unwrap();
                p
            })
            .collect();
        import(&paths, &ImportOptions::default()).unwrap_err()
    };
    let e = case(&[
        ("a.conf", "port 1\n"),
        ("b.conf", "port 2\nreplicaof 127.0.0.1 1\n"),
        ("c.conf", "port 3\nreplicaof 127.0.0.1 2\n"),
    ]);
    assert!(e.contains("names a replica"), "{e}");
    let e = case(&[("d.conf", "port 1\nreplicaof 127.0.0.1 9\n")]);
    assert!(e.contains("no file here listens on port 9"), "{e}");
    let e = case(&[("e.conf", "port 1\n"), ("f.conf", "port 1\n")]);
    assert!(e.contains("both listen on port 1"), "{e}");
    let e = case(&[("g.conf", "port 1\nrepl-backlog-size lots\n")]);
    assert!(e.contains("g.conf:2:1: `repl-backlog-size lots`"), "{e}");
    let e = case(&[("g2.conf", "port 1\nsave 900\n")]);
    assert!(
        e.contains("g2.conf:2:1: `save 900`: save `900`: expected pairs"),
        "{e}"
    );
    let e = case(&[("h.conf", "port 1\nrequirepass \"x\n")]);
    assert!(
        e.ends_with("h.conf:2:1: unbalanced quotes in configuration line"),
        "{e}"
    );
    let e = case(&[
        ("i.conf", "port 1\n"),
        ("s1.conf", "sentinel monitor m 127.0.0.1 1 1\n"),
        ("s2.conf", "sentinel monitor m 127.0.0.1 1 2\n"),
    ]);
    assert!(e.contains("share one configuration"), "{e}");
    let three: Vec<PathBuf> = (1..=3)
        .map(|port| {
            let p = tmp.path().join(format!("c{port}.conf"));
            std::fs::write(&p, format!("port {port}\ncluster-enabled yes\n")).unwrap();
            p
        })
        .collect();
    let opts = ImportOptions {
        cluster_replicas: Some(1),
        name: None,
    };
    let e = import(&three, &opts).unwrap_err();
    assert!(
        e.contains("3 cluster nodes cannot be masters with 1 replica(s) each"),
        "{e}"
    );
    let e = case(&[
        ("m.conf", "port 1\ncluster-enabled yes\n"),
        ("n.conf", "port 2\n"),
    ]);
    assert!(e.contains("a cluster or not"), "{e}");
}

/// A cluster's replicas are not in its files: `--cluster-replicas` says
/// how many, and the nodes in port order are masters first, as
/// `redis-cli --cluster create` takes them.
#[test]
fn a_cluster_takes_its_replicas_from_the_option() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let paths: Vec<PathBuf> = (7000..7006)
        .map(|port| {
            let p = tmp.path().join(format!("{port}.conf"));
            std::fs::write(
                &p,
                format!("port {port}\ncluster-enabled yes\ncluster-node-timeout 5000\n"),
            )
            .unwrap();
            p
        })
        .collect();
    let opts = ImportOptions {
        cluster_replicas: Some(1),
        name: Some("my-cluster".into()),
    };
    let out = import(&paths, &opts).expect("imported");
    let p = plan(&out.text);
    assert_eq!(p.name, "my-cluster");
    let c = p.cluster.as_ref().expect("a cluster");
    assert_eq!(c.replica_of, [None, None, None, Some(0), Some(1), Some(2)]);
    assert!(
        out.text.contains("cluster-node-timeout = 5000"),
        "{}",
        out.text
    );
}
