//! Read-through caches kept in the isolate's memory for data that changes rarely and
//! is read on every request: locations, the catalog's SKUs and API keys. A write made
//! through this isolate clears the entry at once; other isolates see it within the TTL
//! (stock itself is never cached: it always comes from the SKU's Durable Object).

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;
use std::rc::Rc;

/// How long an entry is served before it is read again.
pub const TTL_MS: u64 = 30_000;

pub struct TtlCache<K, V> {
    entries: RefCell<HashMap<K, (u64, Rc<V>)>>,
}

impl<K: Eq + Hash + Clone, V> TtlCache<K, V> {
    pub fn new() -> Self {
        TtlCache { entries: RefCell::new(HashMap::new()) }
    }

    /// The live entry for `key`, if any.
    pub fn get(&self, key: &K) -> Option<Rc<V>> {
        let now = worker::Date::now().as_millis();
        self.entries.borrow().get(key).filter(|(expires, _)| *expires > now).map(|(_, value)| Rc::clone(value))
    }

    pub fn put(&self, key: K, value: V) -> Rc<V> {
        let value = Rc::new(value);
        self.entries.borrow_mut().insert(key, (worker::Date::now().as_millis() + TTL_MS, Rc::clone(&value)));
        value
    }

    pub fn forget(&self, key: &K) {
        self.entries.borrow_mut().remove(key);
    }

    pub fn clear(&self) {
        self.entries.borrow_mut().clear();
    }
}

impl<K: Eq + Hash + Clone, V> Default for TtlCache<K, V> {
    fn default() -> Self {
        Self::new()
    }
}
