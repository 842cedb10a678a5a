//! I/O readiness, timers and clocks for tulip.
