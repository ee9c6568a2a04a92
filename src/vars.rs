//! Variables (`set-var(scope.name)`, the `var()` fetch). A stream's
//! `sess`, `txn`, `req` and `res` variables live with its connection task;
//! `proc` ones are shared by the whole worker.
use crate::acl::Sample;
use std::sync::{Mutex, OnceLock};

/// A set of variables by full name (`txn.backend`).
#[derive(Debug, Default)]
pub struct Vars(Mutex<Vec<(String, Sample)>>);

impl Vars {
    pub fn set(&self, name: &str, value: Sample) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match v.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => v.push((name.to_string(), value)),
        }
    }
    pub fn unset(&self, name: &str) {
        let mut v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.retain(|(n, _)| n != name);
    }
    pub fn get(&self, name: &str) -> Option<Sample> {
        let v = self.0.lock().unwrap_or_else(|e| e.into_inner());
        v.iter().find(|(n, _)| n == name).map(|(_, s)| s.clone())
    }
}

/// The worker's `proc.*` variables.
pub fn process() -> &'static Vars {
    static PROC: OnceLock<Vars> = OnceLock::new();
    PROC.get_or_init(Vars::default)
}

/// The store a variable name belongs to: `proc.` names are process-wide,
/// the others are the stream's.
pub fn store<'a>(name: &str, stream: &'a Vars) -> &'a Vars {
    if name.starts_with("proc.") {
        process()
    } else {
        stream
    }
}
