//! The `redsim export` and `redsim import` command lines.

use std::path::PathBuf;

use crate::exit::{BAD_INPUT, OK};

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The scenario whose deployment to write.
    pub scenario: PathBuf,
    /// A new or empty directory for the files.
    #[arg(long)]
    pub dir: PathBuf,
    /// The first server's port on 127.0.0.1; the others follow it.
    #[arg(long, default_value_t = 7000)]
    pub port_base: u16,
    /// Override a scenario setting first, as `run --set` does. Repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    pub set: Vec<String>,
}

#[derive(clap::Args)]
pub struct ImportArgs {
    /// redis.conf and sentinel.conf files, or directories holding them
    /// (and the `redsim.toml` an export writes), one level of folders down.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Write the scenario here (never over an existing file) instead of
    /// printing it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A cluster's replicas per master, as `redis-cli --cluster create
    /// --cluster-replicas` takes it: the nodes' files do not say.
    #[arg(long)]
    pub cluster_replicas: Option<u32>,
    /// The scenario's name.
    #[arg(long)]
    pub name: Option<String>,
}

pub fn export(args: &ExportArgs) -> u8 {
    let (plan, text) = match crate::scenario::load_text_with(&args.scenario, &args.set) {
        Ok(p) => p,
        Err(e) => {
            crate::errln!("{e}");
            return BAD_INPUT;
        }
    };
    match super::export(&plan, &text, &args.dir, args.port_base) {
        Ok(out) => {
            let dir = args.dir.display();
            crate::outln!(
                "wrote {} files into {dir}: {} on 127.0.0.1 ports {}-{}",
                out.files.len(),
                plan.name,
                out.ports.0,
                out.ports.1
            );
            crate::outln!("start it with {dir}/start.sh and stop it with {dir}/stop.sh;");
            crate::outln!("`redsim import {dir}` reads it back into a scenario");
            OK
        }
        Err(e) => {
            crate::errln!("redsim export: {e}");
            BAD_INPUT
        }
    }
}

pub fn import(args: &ImportArgs) -> u8 {
    let opts = super::ImportOptions {
        cluster_replicas: args.cluster_replicas,
        name: args.name.clone(),
    };
    let imported = match super::import(&args.paths, &opts) {
        Ok(i) => i,
        Err(e) => {
            crate::errln!("redsim import: {e}");
            return BAD_INPUT;
        }
    };
    for l in &imported.left_out {
        crate::errln!("not carried over (not modelled): {l}");
    }
    let Some(out) = &args.out else {
        print!("{}", imported.text);
        return OK;
    };
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(out);
    match file.and_then(|mut f| std::io::Write::write_all(&mut f, imported.text.as_bytes())) {
        Ok(()) => {
            crate::outln!(
                "wrote {}; try `redsim run {}`",
                out.display(),
                out.display()
            );
            OK
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            crate::errln!(
                "redsim import: {} already exists; it is left as it is",
                out.display()
            );
            BAD_INPUT
        }
        Err(e) => {
            crate::errln!("redsim import: {}: {e}", out.display());
            BAD_INPUT
        }
    }
}
