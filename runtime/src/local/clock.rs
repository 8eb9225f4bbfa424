//! Clocks: virtual (driven by event times, advanced by tests and at the end
//! of the input) and wall (the system clock).

use std::cell::Cell;

use crate::engine::Millis;
use crate::ports::Clock;

/// Never goes back: an out-of-order event does not move it backwards.
#[derive(Debug, Default)]
pub struct VirtualClock {
    now: Cell<Millis>,
}

impl VirtualClock {
    pub fn new(start: Millis) -> VirtualClock {
        VirtualClock {
            now: Cell::new(start),
        }
    }

    /// Moves to `to` if that is later; returns the time after.
    pub fn advance_to(&self, to: Millis) -> Millis {
        self.now.set(self.now.get().max(to));
        self.now.get()
    }
}

impl Clock for VirtualClock {
    fn now(&self) -> Millis {
        self.now.get()
    }
}

#[derive(Clone, Copy, Debug, Default)]
pub struct WallClock;

impl Clock for WallClock {
    fn now(&self) -> Millis {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as Millis)
    }
}
