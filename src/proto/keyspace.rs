//! The keyspace of one Redis database (db 0) and the string commands on it.

use indexmap::IndexMap;

use super::{Key, Value};

/// Keys in insertion order, so any iteration is deterministic (the hasher
/// only affects speed, never order).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    keys: IndexMap<Key, Value, rustc_hash::FxBuildHasher>,
}

/// Redis's error for INCR on a value that is not an integer.
pub const ERR_NOT_INTEGER: &str = "ERR value is not an integer or out of range";

impl Dataset {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(key)
    }

    pub fn set(&mut self, key: Key, value: Value) {
        self.keys.insert(key, value);
    }

    /// True if the key existed (a DEL of a missing key changes nothing and is
    /// not propagated).
    pub fn del(&mut self, key: &str) -> bool {
        self.keys.swap_remove(key).is_some()
    }

    pub fn incr(&mut self, key: &Key) -> Result<i64, &'static str> {
        let next = match self.keys.get(key) {
            None => 1,
            Some(Value::Int(i)) => i.checked_add(1).ok_or(ERR_NOT_INTEGER)?,
            Some(Value::Text(s)) => s
                .parse::<i64>()
                .ok()
                .and_then(|i| i.checked_add(1))
                .ok_or(ERR_NOT_INTEGER)?,
            Some(Value::Blob { .. }) => return Err(ERR_NOT_INTEGER),
        };
        self.keys.insert(key.clone(), Value::Int(next));
        Ok(next)
    }

    pub fn keys(&self) -> impl Iterator<Item = &Key> {
        self.iter().map(|(k, _)| k)
    }

    pub fn len(&self) -> usize {
        self.keys.len()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub fn clear(&mut self) {
        self.keys.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.keys.iter()
    }

    /// The size of an RDB file holding this dataset: a header and footer, and
    /// per key a type byte, length-prefixed key and value.
    pub fn rdb_bytes(&self) -> u64 {
        const HEADER_AND_FOOTER: u64 = 9 + 100 + 9;
        HEADER_AND_FOOTER
            + self
                .keys
                .iter()
                .map(|(k, v)| 1 + 2 + k.len() as u64 + 5 + v.byte_len() as u64)
                .sum::<u64>()
    }

    /// Datasets are equal as sets of key/value pairs, whatever the order.
    pub fn same_contents(&self, other: &Dataset) -> bool {
        self.len() == other.len() && self.keys.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}
