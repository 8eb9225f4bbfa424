//! Clocks of the Lambda runtime: the system clock, or (replays and tests,
//! `FLOWC_CLOCK=events`) the latest event time seen by this process.

use std::sync::atomic::{AtomicI64, Ordering};

use crate::engine::Millis;
use crate::ports::Clock;

#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Never goes back; shared by the invocations of one process.
#[derive(Debug)]
pub struct EventClock {
    now: AtomicI64,
}

impl EventClock {
    pub fn new() -> EventClock {
        EventClock {
            now: AtomicI64::new(Millis::MIN),
        }
    }

    /// Moves to `to` if that is later; returns the time after.
    pub fn advance_to(&self, to: Millis) -> Millis {
        self.now.fetch_max(to, Ordering::SeqCst).max(to)
    }
}

impl Default for EventClock {
    fn default() -> Self {
        EventClock::new()
    }
}

impl Clock for EventClock {
    fn now(&self) -> Millis {
        self.now.load(Ordering::SeqCst)
    }
}

/// The system clock's time (outbox expiry, which is wall-clock by nature).
pub fn wall_millis() -> Millis {
    SystemClock.now()
}
