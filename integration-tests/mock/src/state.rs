//! Shared state of one mock process: the recording and the fault script.

use std::sync::{Mutex, MutexGuard};

use crate::faults::{FaultSpec, Faults};
use crate::record::Record;

pub struct State {
    /// The provider name used in answers (`--name`).
    pub name: String,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    records: Vec<Record>,
    /// Sequence number of the last provider request (reset by clear).
    seq: u64,
    faults: Faults,
}

impl State {
    pub fn new(name: String) -> Self {
        Self {
            name,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Starts a provider request: its sequence number (from 1) and its scripted fault.
    pub fn begin(&self) -> (u64, Option<FaultSpec>) {
        let mut inner = self.lock();
        inner.seq += 1;
        let fault = inner.faults.next();
        (inner.seq, fault)
    }

    pub fn record(&self, record: Record) {
        let mut inner = self.lock();
        let pos = inner.records.partition_point(|r| r.seq < record.seq);
        inner.records.insert(pos, record);
    }

    pub fn records_json(&self) -> String {
        serde_json::to_string(&self.lock().records).unwrap_or_else(|_| String::from("[]"))
    }

    /// Forgets all records, restarts numbering, and clears the fault queue and default.
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.records.clear();
        inner.seq = 0;
        inner.faults.clear();
    }

    pub fn push_faults(&self, specs: Vec<FaultSpec>) {
        self.lock().faults.push(specs);
    }

    pub fn set_default_fault(&self, spec: Option<FaultSpec>) {
        self.lock().faults.set_default(spec);
    }

    pub fn clear_faults(&self) {
        self.lock().faults.clear();
    }

    pub fn faults_json(&self) -> String {
        self.lock().faults.to_json().to_string()
    }
}
