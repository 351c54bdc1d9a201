//! What a workload sends: the commands of its mix, drawn by weight, on keys
//! drawn from its key set, and the command line each draw becomes.

use rand::RngExt;

use crate::history::{KeySet, OpKind};
use crate::proto::{Cmd, Key, Value, WriteTag};
use crate::sim::rng::Rng;
use crate::time::Micros;

/// How a workload chooses among commands.
#[derive(Clone, Debug, PartialEq)]
pub enum Mix {
    /// SETs, and GETs with this probability (a scenario's `reads`).
    Reads(f64),
    /// Each command with its weight (a scenario's `mix`), in
    /// [`OpKind::ALL`]'s order, zero weights left out.
    Weighted(Vec<(OpKind, f64)>),
}

impl Mix {
    /// The share of operations that are writes ([`OpKind::is_write`]).
    pub fn writes(&self) -> f64 {
        match self {
            Mix::Reads(r) => 1.0 - r,
            Mix::Weighted(w) => share(w, OpKind::is_write),
        }
    }

    /// The share of operations that are GETs or MGETs.
    pub fn reads(&self) -> f64 {
        match self {
            Mix::Reads(r) => *r,
            Mix::Weighted(w) => share(w, OpKind::is_read),
        }
    }

    /// In words, for explanations: `25% reads`, or each command's share
    /// (`SET 50%, GET 30%, INCR 20%`).
    pub fn describe(&self) -> String {
        match self {
            Mix::Reads(r) => format!("{:.0}% reads", r * 100.0),
            Mix::Weighted(w) => {
                let total: f64 = w.iter().map(|(_, x)| x).sum();
                w.iter()
                    .map(|(k, x)| format!("{} {:.0}%", k.key().to_uppercase(), 100.0 * x / total))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        }
    }

    /// Draws the next command (one draw from the client's stream).
    fn draw(&self, rng: &mut Rng) -> OpKind {
        match self {
            Mix::Reads(r) => {
                if *r > 0.0 && rng.random_bool(r.min(1.0)) {
                    OpKind::Get
                } else {
                    OpKind::Set
                }
            }
            Mix::Weighted(w) => {
                let total: f64 = w.iter().map(|(_, x)| x).sum();
                let mut at = rng.random::<f64>() * total;
                for &(kind, weight) in w {
                    if at < weight {
                        return kind;
                    }
                    at -= weight;
                }
                w.last().map_or(OpKind::Set, |(k, _)| *k)
            }
        }
    }
}

/// The weight of the commands `which` picks, as a share of all.
fn share(weights: &[(OpKind, f64)], which: fn(OpKind) -> bool) -> f64 {
    let total: f64 = weights.iter().map(|(_, x)| x).sum();
    let picked: f64 = weights
        .iter()
        .filter(|(k, _)| which(*k))
        .map(|(_, x)| x)
        .sum();
    if total > 0.0 { picked / total } else { 0.0 }
}

/// One drawn operation: its command and keys (for PUBLISH, `key` names the
/// channel).
#[derive(Clone, Debug, PartialEq)]
pub struct Draw {
    pub kind: OpKind,
    pub key: Key,
    /// `key`'s number in the key set: the history keeps the key by it
    /// rather than hashing the name.
    pub key_index: u32,
    /// MSET's and MGET's other keys.
    pub more_keys: Vec<Key>,
}

/// The parts of a workload that decide its commands.
#[derive(Clone, Debug, PartialEq)]
pub struct Commands {
    pub keys: KeySet,
    pub mix: Mix,
    /// How many keys an MSET or MGET names.
    pub multi_keys: u32,
    /// The TTL an EXPIRE sets.
    pub ttl: Micros,
    pub value_size: u32,
}

impl Commands {
    /// The next operation: the key first, then the command, then a
    /// multi-key command's other keys, each drawn from the client's stream
    /// in this order. (A `reads` workload draws exactly as it always has:
    /// the key, then GET or SET.)
    pub fn draw(&self, rng: &mut Rng) -> Draw {
        let n = self.keys.len().max(1);
        let key_index = rng.random_range(0..n);
        let key = self.keys.name(key_index);
        let kind = self.mix.draw(rng);
        let more_keys = if kind.is_multi_key() {
            (1..self.multi_keys)
                .map(|_| self.keys.name(rng.random_range(0..n)))
                .collect()
        } else {
            Vec::new()
        };
        Draw {
            kind,
            key,
            key_index,
            more_keys,
        }
    }

    /// The command that performs `draw` as write `tag`: written values
    /// carry the tag, so the final state names the write that left them.
    pub fn command(&self, draw: &Draw, tag: WriteTag) -> Cmd {
        let value = || Value::Blob {
            tag,
            len: self.value_size,
        };
        let key = draw.key.clone();
        match draw.kind {
            OpKind::Set => Cmd::Set(key, value()),
            OpKind::Get => Cmd::Get(key),
            OpKind::Incr => Cmd::Incr(key),
            OpKind::Del => Cmd::Del(key),
            OpKind::MSet => Cmd::MSet(
                std::iter::once(key)
                    .chain(draw.more_keys.iter().cloned())
                    .map(|k| (k, value()))
                    .collect(),
            ),
            OpKind::MGet => Cmd::MGet(
                std::iter::once(key)
                    .chain(draw.more_keys.iter().cloned())
                    .collect(),
            ),
            OpKind::Expire => Cmd::named(&self.expire_argv(&key)),
            OpKind::Publish => Cmd::Publish {
                channel: key,
                message: publish_message(tag),
            },
        }
    }

    /// `EXPIRE k <seconds>`, or `PEXPIRE k <ms>` for a TTL that is not
    /// whole seconds.
    pub fn expire_argv(&self, key: &str) -> [String; 3] {
        let ms = self.ttl / 1000;
        if ms.is_multiple_of(1000) {
            ["EXPIRE".into(), key.into(), (ms / 1000).to_string()]
        } else {
            ["PEXPIRE".into(), key.into(), ms.to_string()]
        }
    }
}

/// What a workload publishes: `<client>:<seq>`.
pub fn publish_message(tag: WriteTag) -> String {
    format!("{}:{}", tag.client, tag.seq)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn commands(mix: Mix) -> Commands {
        Commands {
            keys: KeySet::numbered(100),
            mix,
            multi_keys: 3,
            ttl: 2_000_000,
            value_size: 8,
        }
    }

    #[test]
    fn weighted_mix_draws_each_command_near_its_share() {
        let c = commands(Mix::Weighted(vec![
            (OpKind::Set, 2.0),
            (OpKind::Get, 1.0),
            (OpKind::MGet, 1.0),
        ]));
        let mut rng = Rng::seed_from_u64(7);
        let mut counts = std::collections::BTreeMap::new();
        for _ in 0..4000 {
            let d = c.draw(&mut rng);
            let keys = 1 + d.more_keys.len();
            assert_eq!(keys, if d.kind == OpKind::MGet { 3 } else { 1 });
            *counts.entry(d.kind).or_insert(0) += 1;
        }
        assert!((1850..2150).contains(&counts[&OpKind::Set]), "{counts:?}");
        assert!((880..1120).contains(&counts[&OpKind::Get]), "{counts:?}");
        assert!((880..1120).contains(&counts[&OpKind::MGet]), "{counts:?}");
        assert!((c.mix.writes() - 0.5).abs() < 1e-9);
    }

    #[test]
    fn reads_mix_draws_the_key_then_get_or_set() {
        // The same two draws, in the same order, as a `reads` workload has
        // always made: a changed order would change every bundled trace.
        let c = commands(Mix::Reads(0.25));
        let mut a = Rng::seed_from_u64(3);
        let mut b = Rng::seed_from_u64(3);
        for _ in 0..200 {
            let d = c.draw(&mut a);
            let key = b.random_range(0..100u32);
            let read = b.random_bool(0.25);
            assert_eq!(d.key, crate::history::key_name(key));
            assert_eq!(d.kind == OpKind::Get, read);
        }
    }

    #[test]
    fn commands_carry_the_tag_and_the_ttl() {
        let c = commands(Mix::Reads(0.0));
        let tag = WriteTag { client: 2, seq: 9 };
        let draw = |kind| Draw {
            kind,
            key: "k1".into(),
            key_index: 0,
            more_keys: vec!["k2".into()],
        };
        let Cmd::MSet(pairs) = c.command(&draw(OpKind::MSet), tag) else {
            panic!("MSET")
        };
        assert_eq!(pairs.len(), 2);
        assert!(pairs.iter().all(|(_, v)| *v == Value::Blob { tag, len: 8 }));
        let Cmd::Named { argv, .. } = c.command(&draw(OpKind::Expire), tag) else {
            panic!("EXPIRE")
        };
        assert_eq!(argv, ["EXPIRE", "k1", "2"]);
        let ms = Commands {
            ttl: 1_500_000,
            ..c.clone()
        };
        assert_eq!(ms.expire_argv("k"), ["PEXPIRE", "k", "1500"]);
        assert_eq!(
            c.command(&draw(OpKind::Publish), tag),
            Cmd::Publish {
                channel: "k1".into(),
                message: "2:9".into()
            }
        );
    }
}
