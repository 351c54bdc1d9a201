//! The keyspace of one Redis database (db 0) and the string commands on it.

use indexmap::IndexMap;

use super::{Key, Value};

/// Keys in insertion order, so any iteration is deterministic (the hasher
/// only affects speed, never order). `expires` is Redis's `db->expires`:
/// the absolute unix time in milliseconds at which a key expires, for the
/// keys that have one.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    keys: IndexMap<Key, Value, rustc_hash::FxBuildHasher>,
    expires: IndexMap<Key, i64, rustc_hash::FxBuildHasher>,
    touched: Touched,
}

/// The keys modified since they were last read off, while some client
/// WATCHes a key (signalModifiedKey() reaching touchWatchedKey()); `None`
/// while nobody watches, so writes cost nothing then. Not part of the
/// data: two datasets compare equal whatever they recorded.
#[derive(Clone, Debug, Default)]
struct Touched(Option<Vec<Key>>);

impl PartialEq for Touched {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Redis's error for INCR on a value that is not an integer.
pub const ERR_NOT_INTEGER: &str = "ERR value is not an integer or out of range";

impl Dataset {
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(key)
    }

    /// Starts or stops recording which keys are modified (WATCH).
    pub fn track(&mut self, on: bool) {
        match (on, &self.touched.0) {
            (true, None) => self.touched.0 = Some(Vec::new()),
            (false, Some(_)) => self.touched.0 = None,
            _ => {}
        }
    }

    /// The keys modified since the last call, in order.
    pub fn take_touched(&mut self) -> Vec<Key> {
        self.touched
            .0
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    fn touch(&mut self, key: &str) {
        if let Some(t) = &mut self.touched.0 {
            t.push(key.into());
        }
    }

    /// setKey(): the value replaces any old one, and so does its TTL.
    pub fn set(&mut self, key: Key, value: Value) {
        self.touch(&key);
        if !self.expires.is_empty() {
            self.expires.swap_remove(&key);
        }
        self.keys.insert(key, value);
    }

    /// setKey() with SETKEY_KEEPTTL (`SET … KEEPTTL`).
    pub fn set_keep_ttl(&mut self, key: Key, value: Value) {
        self.touch(&key);
        self.keys.insert(key, value);
    }

    /// True if the key existed (a DEL of a missing key changes nothing and is
    /// not propagated).
    pub fn del(&mut self, key: &str) -> bool {
        if !self.expires.is_empty() {
            self.expires.swap_remove(key);
        }
        let existed = self.keys.swap_remove(key).is_some();
        if existed {
            self.touch(key);
        }
        existed
    }

    /// getExpire(): when the key expires (unix ms), if it has a TTL.
    pub fn expire_at(&self, key: &str) -> Option<i64> {
        if self.expires.is_empty() {
            return None;
        }
        self.expires.get(key).copied()
    }

    /// setExpire(): only an existing key can get a TTL.
    pub fn set_expire(&mut self, key: &str, when: i64) {
        if let Some((k, _)) = self.keys.get_key_value(key) {
            let k = k.clone();
            self.touch(&k);
            self.expires.insert(k, when);
        }
    }

    /// removeExpire(): true if the key had a TTL.
    pub fn remove_expire(&mut self, key: &str) -> bool {
        let had = self.expires.swap_remove(key).is_some();
        if had {
            self.touch(key);
        }
        had
    }

    /// The keys with a TTL and when they expire (`db->expires`).
    pub fn expires(&self) -> impl Iterator<Item = (&Key, i64)> {
        self.expires.iter().map(|(k, &t)| (k, t))
    }

    /// How many keys have a TTL (`dictSize(db->expires)`).
    pub fn expires_len(&self) -> usize {
        self.expires.len()
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
        self.touch(key);
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

    /// emptyData(): every key goes (signalFlushedDb() touches each).
    pub fn clear(&mut self) {
        if let Some(t) = &mut self.touched.0 {
            t.extend(self.keys.keys().cloned());
        }
        self.keys.clear();
        self.expires.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.keys.iter()
    }

    /// The size of an RDB file holding this dataset: a header and footer, and
    /// per key a type byte, length-prefixed key and value, and for a key with
    /// a TTL the RDB_OPCODE_EXPIRETIME_MS byte and 8 bytes of time
    /// (rdbSaveKeyValuePair()).
    pub fn rdb_bytes(&self) -> u64 {
        const HEADER_AND_FOOTER: u64 = 9 + 100 + 9;
        HEADER_AND_FOOTER
            + 9 * self.expires.len() as u64
            + self
                .keys
                .iter()
                .map(|(k, v)| 1 + 2 + k.len() as u64 + 5 + v.byte_len() as u64)
                .sum::<u64>()
    }

    /// Datasets are equal as sets of key/value pairs with their TTLs,
    /// whatever the order.
    pub fn same_contents(&self, other: &Dataset) -> bool {
        self.len() == other.len()
            && self.expires.len() == other.expires.len()
            && self.keys.iter().all(|(k, v)| other.get(k) == Some(v))
            && self
                .expires
                .iter()
                .all(|(k, t)| other.expire_at(k) == Some(*t))
    }
}
