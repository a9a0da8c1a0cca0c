//! Client-side sliding windows that keep Lizhi under WeCom's rate limits.
//!
//! WeCom drops, without telling anyone, every message beyond 30 a minute (and 1000 an hour) that one app sends to
//! one member, and it refuses check-in queries beyond 600 a minute. A manager who is told about a departure
//! must not silently miss the message, so every send first reserves a slot in each recipient's window.
//!
//! Reservations per key are monotonic (a new one is never earlier than the last), which also keeps one
//! member's messages in the order they were sent.

use std::collections::{HashMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// At most `count` events in any `window`; the building block of [`Pacing`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Events allowed per window (at least 1).
    pub count: u32,
    /// The sliding window.
    pub window: Duration,
}

impl RateLimit {
    /// Shorthand, so configurations read like WeCom's documentation ("30 per minute").
    pub const fn new(count: u32, window: Duration) -> Self {
        RateLimit { count, window }
    }
}

/// How the client paces itself. The defaults are WeCom's documented limits; tests shorten the windows.
///
/// Choice: a send whose recipients need a free slot within [`max_wait`](Self::max_wait) waits for it inside the
/// call; a longer wait is refused as retryable with "retry after N s" (see
/// [`retry_after_secs`](super::retry_after_secs)), so the outbox worker is not held for a minute and the message
/// survives a restart in the outbox rather than in memory. The windows are per process: another system sending
/// through the same WeCom app is not seen, so Lizhi should have an app of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pacing {
    /// Messages one member may receive from the app: 30 a minute and 1000 an hour, beyond which WeCom drops.
    pub per_member: Vec<RateLimit>,
    /// Calls of `checkin/getcheckindata`: 600 a minute.
    pub checkin_calls: RateLimit,
    /// Added to every window, for network latency between reserving a slot and WeCom counting the message.
    pub margin: Duration,
    /// The longest a send waits for its recipients' windows before it is refused as retryable instead.
    pub max_wait: Duration,
}

impl Default for Pacing {
    fn default() -> Self {
        Pacing {
            per_member: vec![
                RateLimit::new(30, Duration::from_secs(60)),
                RateLimit::new(1000, Duration::from_secs(3600)),
            ],
            checkin_calls: RateLimit::new(600, Duration::from_secs(60)),
            margin: Duration::from_secs(2),
            max_wait: Duration::from_secs(5),
        }
    }
}

/// Reservation times per key under a set of limits. The lock is never held across an await.
pub(super) struct Pacer {
    limits: Vec<RateLimit>,
    margin: Duration,
    entries: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Pacer {
    /// A limit with a count of 0 would block forever; it is read as 1.
    pub fn new(limits: &[RateLimit], margin: Duration) -> Self {
        let limits = limits.iter().map(|l| RateLimit::new(l.count.max(1), l.window)).collect();
        Pacer { limits, margin, entries: Mutex::new(HashMap::new()) }
    }

    /// Reserves one event for every key at the earliest instant all of them allow, if that is within
    /// `max_wait` of now; otherwise reserves nothing and returns how long the caller would have to wait.
    pub fn reserve(&self, keys: &[String], max_wait: Duration) -> Result<Instant, Duration> {
        self.reserve_within(keys, Some(max_wait))
    }

    /// Reserves one event for `key` however long the wait: for batch work the caller asked to complete.
    pub fn reserve_waiting(&self, key: &str) -> Instant {
        match self.reserve_within(&[key.to_owned()], None) {
            Ok(at) => at,
            Err(wait) => Instant::now() + wait,
        }
    }

    fn reserve_within(&self, keys: &[String], max_wait: Option<Duration>) -> Result<Instant, Duration> {
        let now = Instant::now();
        let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
        self.prune(&mut entries, now);
        let at =
            keys.iter().map(|key| entries.get(key).map_or(now, |seen| self.earliest(seen, now))).max().unwrap_or(now);
        let wait = at.saturating_duration_since(now);
        if max_wait.is_some_and(|max| wait > max) {
            return Err(wait);
        }
        for key in keys {
            entries.entry(key.clone()).or_default().push_back(at);
        }
        Ok(at)
    }

    /// The earliest instant at or after `now` (and after the key's last reservation) at which one more event
    /// keeps every window within its count.
    fn earliest(&self, seen: &VecDeque<Instant>, now: Instant) -> Instant {
        let mut at = seen.back().map_or(now, |last| (*last).max(now));
        for limit in &self.limits {
            let count = limit.count as usize;
            if seen.len() >= count {
                // The count-th latest event has to leave the window before the next one may enter it.
                let blocking = seen[seen.len() - count];
                at = at.max(blocking + limit.window + self.margin);
            }
        }
        at
    }

    /// Forgets events too old to matter for any window, and keys with none left.
    fn prune(&self, entries: &mut HashMap<String, VecDeque<Instant>>, now: Instant) {
        let longest = self.limits.iter().map(|l| l.window).max().unwrap_or_default() + self.margin;
        let Some(horizon) = now.checked_sub(longest) else { return };
        entries.retain(|_, seen| {
            while seen.front().is_some_and(|t| *t < horizon) {
                seen.pop_front();
            }
            !seen.is_empty()
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| (*n).to_owned()).collect()
    }

    #[test]
    fn the_count_plus_first_event_waits_for_the_window() {
        let window = Duration::from_secs(60);
        let pacer = Pacer::new(&[RateLimit::new(3, window)], Duration::ZERO);
        let start = Instant::now();
        let first: Vec<Instant> = (0..3).map(|_| pacer.reserve(&keys(&["a"]), Duration::ZERO).expect("free")).collect();
        assert!(first.iter().all(|t| t.duration_since(start) < Duration::from_secs(1)));
        let wait = pacer.reserve(&keys(&["a"]), Duration::from_secs(1)).expect_err("window full");
        assert!(wait > Duration::from_secs(58) && wait <= window, "{wait:?}");
        // Another member is not affected, and nothing was reserved for "a" by the refusal.
        assert!(pacer.reserve(&keys(&["b"]), Duration::ZERO).is_ok());
        let at = pacer.reserve(&keys(&["a"]), Duration::from_secs(61)).expect("within the wait");
        assert_eq!(at, first[0] + window);
    }

    #[test]
    fn a_message_waits_for_its_busiest_recipient_and_counts_for_all() {
        let pacer = Pacer::new(&[RateLimit::new(1, Duration::from_secs(10))], Duration::from_millis(500));
        let first = pacer.reserve(&keys(&["busy"]), Duration::ZERO).expect("free");
        let both = pacer.reserve(&keys(&["idle", "busy"]), Duration::from_secs(11)).expect("within the wait");
        assert_eq!(both, first + Duration::from_millis(10_500));
        let idle_again = pacer.reserve(&keys(&["idle"]), Duration::from_secs(30)).expect("within the wait");
        assert_eq!(idle_again, both + Duration::from_millis(10_500));
    }

    #[test]
    fn every_limit_applies_and_zero_counts_mean_one() {
        let limits = [RateLimit::new(2, Duration::from_secs(1)), RateLimit::new(0, Duration::from_secs(100))];
        let pacer = Pacer::new(&limits, Duration::ZERO);
        let first = pacer.reserve(&keys(&["a"]), Duration::ZERO).expect("free");
        let wait = pacer.reserve(&keys(&["a"]), Duration::ZERO).expect_err("hourly-style limit of one");
        assert!(wait > Duration::from_secs(99));
        assert_eq!(pacer.reserve(&keys(&["a"]), Duration::from_secs(100)), Ok(first + Duration::from_secs(100)));
    }
}
