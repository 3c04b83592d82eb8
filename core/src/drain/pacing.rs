//! When the drain passes over the rings: it sleeps while they fill, in batches rather than
//! chasing each record, and longer while they stay empty.

use std::time::Duration;

use super::FLUSH_INTERVAL;

/// A ring filling this fast (bytes a second) is what the longer idle sleeps leave room for:
/// about what one CPU making getppid calls as fast as it can writes, with margin.
const BURST_RATE: u64 = 512 << 20;

/// The drain's sleep when every ring was empty the last `idle_passes` passes in a row:
/// `idle_sleep`, doubled for each such pass after the first. Where the producers' notices
/// wake the drain in time (`woken`: a ring of four segments or more), up to the flush
/// interval, so a trickle of records still reaches the file within about a second and an
/// idle recording wakes about once a second. Otherwise up to four times `idle_sleep`, and
/// never longer than a burst at BURST_RATE takes to fill half a ring of `ring_bytes`.
pub(super) fn idle_sleep_after(
    idle_passes: u32,
    idle_sleep: Duration,
    ring_bytes: u64,
    woken: bool,
) -> Duration {
    let (doublings, longest) = if woken {
        (16, FLUSH_INTERVAL)
    } else {
        (
            2,
            Duration::from_nanos(ring_bytes / 2 * 1_000_000_000 / BURST_RATE),
        )
    };
    let backed_off = idle_sleep.saturating_mul(1 << idle_passes.saturating_sub(1).min(doublings));
    backed_off.min(longest).max(idle_sleep)
}

/// How long the drain may sleep after a pass that found `bytes` in the fastest-filling ring
/// (of `ring_bytes`), `elapsed` after the pass before: `idle_sleep` at most, and no longer
/// than that ring takes to fill a quarter at the same rate. A pass has a fixed cost (a store
/// to each ring's tail, the head's cache line moved to the drain's CPU), so the drain works
/// in batches rather than chasing each record.
pub(super) fn pause_after(
    ring_bytes: u64,
    bytes: u64,
    elapsed: Duration,
    idle_sleep: Duration,
) -> Duration {
    /// Shorter sleeps cost more than they save.
    const MIN_PAUSE: Duration = Duration::from_micros(100);
    if bytes == 0 {
        return idle_sleep;
    }
    let fill_ns = u128::from(ring_bytes / 4) * elapsed.as_nanos() / u128::from(bytes);
    let pause = Duration::from_nanos(u64::try_from(fill_ns).unwrap_or(u64::MAX)).min(idle_sleep);
    if pause < MIN_PAUSE {
        Duration::ZERO
    } else {
        pause
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_drain_sleeps_while_the_fastest_ring_fills_a_quarter() {
        const MIB: u64 = 1 << 20;
        let idle = Duration::from_millis(10);
        let ms = Duration::from_millis;
        // Nothing came: the full poll interval.
        assert_eq!(pause_after(32 * MIB, 0, ms(10), idle), idle);
        // 1 MiB in 1 ms into a 32 MiB ring: a quarter takes 8 ms more.
        assert_eq!(pause_after(32 * MIB, MIB, ms(1), idle), ms(8));
        // Slower than that: never beyond the poll interval.
        assert_eq!(pause_after(32 * MIB, MIB, ms(100), idle), idle);
        // A 1 MiB ring filling at 1 GiB/s would be a quarter full within 0.25 ms: under a
        // millisecond the pause scales down, and below 100 us the drain does not sleep.
        assert_eq!(
            pause_after(MIB, MIB, ms(1), idle),
            Duration::from_micros(250)
        );
        assert_eq!(pause_after(MIB, 4 * MIB, ms(1), idle), Duration::ZERO);
    }

    #[test]
    fn an_idle_drain_sleeps_longer_as_far_as_the_ring_allows() {
        const MIB: u64 = 1 << 20;
        let ms = Duration::from_millis;
        // Half of 32 MiB fills in 31.25 ms at BURST_RATE.
        let sleeps: Vec<_> = (0..5)
            .map(|n| idle_sleep_after(n, ms(10), 32 * MIB, false))
            .collect();
        let ring_bound = Duration::from_micros(31_250);
        assert_eq!(sleeps, [ms(10), ms(10), ms(20), ring_bound, ring_bound]);
        // Half of 8 MiB (64 MiB over 8 CPUs) fills in 7.8 ms.
        assert_eq!(
            idle_sleep_after(10, ms(5), 8 * MIB, false),
            Duration::from_nanos(7_812_500)
        );
        // Half of 2 MiB fills in 2 ms: never shorter than the poll interval asked for.
        assert_eq!(idle_sleep_after(10, ms(10), 2 * MIB, false), ms(10));
    }

    #[test]
    fn a_drain_the_producers_wake_sleeps_up_to_the_flush_interval() {
        const MIB: u64 = 1 << 20;
        let ms = Duration::from_millis;
        let sleeps: Vec<_> = (0..10)
            .map(|n| idle_sleep_after(n, ms(10), 16 * MIB, true))
            .collect();
        assert_eq!(
            sleeps,
            [
                ms(10),
                ms(10),
                ms(20),
                ms(40),
                ms(80),
                ms(160),
                ms(320),
                ms(640),
                FLUSH_INTERVAL,
                FLUSH_INTERVAL
            ]
        );
        // A longer poll interval than the flush interval is kept.
        assert_eq!(idle_sleep_after(3, ms(2000), 16 * MIB, true), ms(2000));
    }
}
