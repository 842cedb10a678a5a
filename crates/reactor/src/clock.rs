//! Clocks: the real monotonic clock, or a virtual one that moves only when told to.
//!
//! A virtual clock is a base [`Instant`] (taken when it is created) plus an offset in
//! nanoseconds held in one atomic, so reading it is a load and advancing it is a
//! `fetch_max`: time never goes backwards, even when several threads advance it at once.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Why a [`Clock`] could not be advanced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClockError {
    /// Only a virtual clock can be advanced; the real clock moves by itself.
    #[error("the real clock cannot be advanced; only a virtual clock can")]
    Real,
    /// The requested instant is more than about 584 years after the clock's creation.
    #[error("virtual clock overflow: the target lies too far after the clock's creation")]
    Overflow,
}

/// The real monotonic clock, or a virtual clock that only moves when told to.
///
/// The reactor reads every deadline against its clock, so a loop built on a virtual
/// clock runs timer-heavy programs instantly and deterministically.
///
/// ```
/// use std::time::Duration;
/// use tulip_reactor::Clock;
///
/// let clock = Clock::virtual_time();
/// let start = clock.now();
/// clock.advance(Duration::from_secs(5))?;
/// assert_eq!(clock.now() - start, Duration::from_secs(5));
/// # Ok::<(), tulip_reactor::ClockError>(())
/// ```
pub struct Clock {
    kind: Kind,
}

enum Kind {
    Real,
    Virtual {
        base: Instant,
        /// Nanoseconds elapsed since `base`; only ever grows.
        offset: AtomicU64,
    },
}

impl Clock {
    /// The real monotonic clock ([`Instant::now`]).
    ///
    /// ```
    /// let clock = tulip_reactor::Clock::real();
    /// assert!(!clock.is_virtual());
    /// ```
    pub fn real() -> Clock {
        Clock { kind: Kind::Real }
    }

    /// A virtual clock: it starts at the [`Instant`] of its creation and stays frozen
    /// until [`advance`](Clock::advance) or [`advance_to`](Clock::advance_to) moves it.
    ///
    /// ```
    /// let clock = tulip_reactor::Clock::virtual_time();
    /// assert!(clock.is_virtual());
    /// assert_eq!(clock.now(), clock.now());
    /// ```
    pub fn virtual_time() -> Clock {
        Clock {
            kind: Kind::Virtual {
                base: Instant::now(),
                offset: AtomicU64::new(0),
            },
        }
    }

    /// Whether this clock is virtual.
    ///
    /// ```
    /// assert!(tulip_reactor::Clock::virtual_time().is_virtual());
    /// ```
    pub fn is_virtual(&self) -> bool {
        matches!(self.kind, Kind::Virtual { .. })
    }

    /// The current time of this clock.
    ///
    /// ```
    /// let clock = tulip_reactor::Clock::real();
    /// let a = clock.now();
    /// assert!(clock.now() >= a);
    /// ```
    #[inline]
    pub fn now(&self) -> Instant {
        match &self.kind {
            Kind::Real => Instant::now(),
            Kind::Virtual { base, offset } => {
                // The offset was checked against `base` when it was stored.
                *base + Duration::from_nanos(offset.load(Ordering::Acquire))
            }
        }
    }

    /// Virtual only: moves time forward to `deadline`. An instant at or before the
    /// current time is a no-op (time never goes backwards).
    ///
    /// # Errors
    ///
    /// [`ClockError::Real`] on the real clock; [`ClockError::Overflow`] if `deadline`
    /// lies more than about 584 years after the clock's creation.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tulip_reactor::{Clock, ClockError};
    ///
    /// let clock = Clock::virtual_time();
    /// let later = clock.now() + Duration::from_millis(10);
    /// clock.advance_to(later)?;
    /// clock.advance_to(later - Duration::from_millis(5))?; // no-op
    /// assert_eq!(clock.now(), later);
    /// assert_eq!(Clock::real().advance_to(later), Err(ClockError::Real));
    /// # Ok::<(), ClockError>(())
    /// ```
    pub fn advance_to(&self, deadline: Instant) -> Result<(), ClockError> {
        match &self.kind {
            Kind::Real => Err(ClockError::Real),
            Kind::Virtual { base, offset } => {
                let nanos = deadline.saturating_duration_since(*base).as_nanos();
                let nanos = checked_offset(*base, nanos)?;
                offset.fetch_max(nanos, Ordering::AcqRel);
                Ok(())
            }
        }
    }

    /// Virtual only: moves time forward by `by`.
    ///
    /// # Errors
    ///
    /// [`ClockError::Real`] on the real clock; [`ClockError::Overflow`] if the clock
    /// would pass about 584 years after its creation.
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let clock = tulip_reactor::Clock::virtual_time();
    /// let start = clock.now();
    /// clock.advance(Duration::from_millis(250))?;
    /// assert_eq!(clock.now() - start, Duration::from_millis(250));
    /// # Ok::<(), tulip_reactor::ClockError>(())
    /// ```
    pub fn advance(&self, by: Duration) -> Result<(), ClockError> {
        match &self.kind {
            Kind::Real => Err(ClockError::Real),
            Kind::Virtual { base, offset } => {
                let by = by.as_nanos();
                let mut current = offset.load(Ordering::Acquire);
                loop {
                    let next = checked_offset(*base, u128::from(current) + by)?;
                    match offset.compare_exchange_weak(
                        current,
                        next,
                        Ordering::AcqRel,
                        Ordering::Acquire,
                    ) {
                        Ok(_) => return Ok(()),
                        Err(actual) => current = actual,
                    }
                }
            }
        }
    }
}

/// Converts an offset to the stored form, checking that `base + offset` is representable.
fn checked_offset(base: Instant, nanos: u128) -> Result<u64, ClockError> {
    let nanos = u64::try_from(nanos).map_err(|_| ClockError::Overflow)?;
    base.checked_add(Duration::from_nanos(nanos))
        .ok_or(ClockError::Overflow)?;
    Ok(nanos)
}

impl Default for Clock {
    /// The real clock.
    fn default() -> Clock {
        Clock::real()
    }
}

impl fmt::Debug for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Real => f.write_str("Clock::Real"),
            Kind::Virtual { offset, .. } => f
                .debug_struct("Clock::Virtual")
                .field(
                    "elapsed",
                    &Duration::from_nanos(offset.load(Ordering::Acquire)),
                )
                .finish(),
        }
    }
}
