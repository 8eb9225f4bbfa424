//! The ports are synchronous (the engine's driver is plain code); the SDK
//! is async. An adapter holds the runtime's [`Handle`] and blocks on one
//! SDK call at a time. Callers run the driver on a blocking thread
//! (`tokio::task::spawn_blocking`) or outside the runtime (tests), never
//! on a runtime worker.

use std::future::Future;

use tokio::runtime::Handle;

#[derive(Clone, Debug)]
pub struct Bridge {
    handle: Handle,
}

impl Bridge {
    pub fn new(handle: Handle) -> Bridge {
        Bridge { handle }
    }

    /// The bridge of the runtime the caller is in.
    pub fn current() -> Bridge {
        Bridge::new(Handle::current())
    }

    /// Runs `future` to completion. On a runtime worker thread of a
    /// multi-threaded runtime it first moves off the worker
    /// (`block_in_place`), so a misplaced call degrades instead of
    /// panicking.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        match Handle::try_current() {
            Ok(h) if h.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| self.handle.block_on(future))
            }
            _ => self.handle.block_on(future),
        }
    }
}
