//! `redsim new`: starting scenarios that pass, one per kind of deployment,
//! each commented where a newcomer edits first.

use super::limits;

/// The kinds of starting scenario, and what each deploys.
pub const KINDS: &[(&str, &str)] = &[
    (
        "sentinel",
        "a master, two replicas and three Sentinels; the master is killed",
    ),
    (
        "cluster",
        "a cluster of three masters with a replica each; a master is killed",
    ),
    (
        "replication",
        "a master and a replica; the replica is cut off for 5 s",
    ),
];

/// The starting scenario of `kind`, named `name`.
pub fn text(kind: &str, name: &str) -> Result<String, String> {
    limits::check_scenario_name(name)?;
    let template = match kind {
        "sentinel" => include_str!("templates/sentinel.toml"),
        "cluster" => include_str!("templates/cluster.toml"),
        "replication" => include_str!("templates/replication.toml"),
        _ => {
            let names: Vec<&str> = KINDS.iter().map(|(k, _)| *k).collect();
            return Err(format!(
                "no template `{kind}`: there are {}",
                names.join(", ")
            ));
        }
    };
    Ok(template.replacen("name = \"NAME\"", &format!("name = \"{name}\""), 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every template is a valid scenario, named as asked.
    #[test]
    fn every_template_parses_with_its_name() {
        for (kind, _) in KINDS {
            let text = text(kind, "my/first").expect("a template");
            let plan = crate::scenario::parse("first.toml", &text).expect("valid");
            assert_eq!(plan.name, "my/first", "{kind}");
        }
        assert!(text("sentinel", "../x").is_err());
        assert!(
            text("sentinal", "x")
                .unwrap_err()
                .contains("sentinel, cluster, replication")
        );
    }
}
