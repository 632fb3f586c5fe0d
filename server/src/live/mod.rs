//! Live sessions: each world runs on its own OS thread (`runner`), fans its deltas out through a
//! `hub`, and speaks the observatory protocol (`protocol`, `view`) to WebSocket clients (`ws`).

pub mod hub;
pub mod protocol;
pub mod runner;
pub mod view;
pub mod ws;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

pub use runner::{SessionHandle, spawn};

/// The running sessions of this server, by id.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<RwLock<BTreeMap<i64, SessionHandle>>>,
}

impl Registry {
    /// The running session `id`.
    pub fn get(&self, id: i64) -> Option<SessionHandle> {
        self.read().get(&id).cloned()
    }

    /// Adds a running session.
    pub fn insert(&self, h: SessionHandle) {
        self.write().insert(h.id, h);
    }

    /// Removes a session (its thread stops when the last handle goes, or by `stop`).
    pub fn remove(&self, id: i64) -> Option<SessionHandle> {
        self.write().remove(&id)
    }

    /// Every running session, by id.
    pub fn all(&self) -> Vec<SessionHandle> {
        self.read().values().cloned().collect()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<i64, SessionHandle>> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<i64, SessionHandle>> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }
}
