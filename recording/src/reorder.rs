//! Time order on the reading side.
//!
//! The reader hands out each chunk's records in time order (it merges the per-CPU spans by
//! timestamp). A record can still arrive late: when the virtual CPU that made it was
//! descheduled between taking its timestamp and publishing it, or when a chunk ended between
//! two CPUs' spans of one drain pass; a reorder window of 100 ms (and at most a million
//! records) puts such stragglers back in place with bounded memory.

use std::{cmp::Reverse, collections::BinaryHeap};

use crate::format::Record;

const WINDOW_NS: u64 = 100_000_000;
const MAX_HELD: usize = 1 << 20;

/// Heap entry ordered by (timestamp, arrival).
struct Held {
    ts: u64,
    arrival: u64,
    record: Record,
}

impl PartialEq for Held {
    fn eq(&self, other: &Self) -> bool {
        (self.ts, self.arrival) == (other.ts, other.arrival)
    }
}
impl Eq for Held {}
impl PartialOrd for Held {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Held {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.ts, self.arrival).cmp(&(other.ts, other.arrival))
    }
}

#[derive(Default)]
pub(crate) struct Reorder {
    heap: BinaryHeap<Reverse<Held>>,
    arrival: u64,
    newest: u64,
}

impl Reorder {
    pub(crate) fn push(&mut self, record: Record, out: &mut impl FnMut(Record)) {
        let ts = record.ts_ns();
        self.newest = self.newest.max(ts);
        self.arrival += 1;
        self.heap.push(Reverse(Held {
            ts,
            arrival: self.arrival,
            record,
        }));
        while let Some(Reverse(oldest)) = self.heap.peek() {
            if self.heap.len() > MAX_HELD || self.newest.saturating_sub(oldest.ts) > WINDOW_NS {
                let Reverse(held) = self.heap.pop().expect("peeked");
                out(held.record);
            } else {
                break;
            }
        }
    }

    pub(crate) fn finish(&mut self, out: &mut impl FnMut(Record)) {
        while let Some(Reverse(held)) = self.heap.pop() {
            out(held.record);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::{TaskEvent, TaskEventKind};

    fn exit(ts: u64, tid: u32) -> Record {
        Record::Task(TaskEvent {
            cpu: 0,
            seq: 1,
            ts_ns: ts,
            pid: 1,
            tid,
            kind: TaskEventKind::Exit { code: 0 },
        })
    }

    #[test]
    fn stragglers_are_put_back_in_order() {
        let mut r = Reorder::default();
        let mut out = Vec::new();
        for rec in [
            exit(30, 1),
            exit(10, 2),
            exit(20, 3),
            exit(300_000_000, 4),
            exit(25, 5),
        ] {
            r.push(rec, &mut |x| out.push(x));
        }
        r.finish(&mut |x| out.push(x));
        let ts: Vec<u64> = out.iter().map(Record::ts_ns).collect();
        // 25 arrived after the window around it had closed: it is emitted late rather than
        // held forever.
        assert_eq!(ts, vec![10, 20, 30, 25, 300_000_000]);
    }

    #[test]
    fn equal_timestamps_keep_arrival_order() {
        let mut r = Reorder::default();
        let mut out = Vec::new();
        for tid in 1..=5 {
            r.push(exit(7, tid), &mut |x| out.push(x));
        }
        r.finish(&mut |x| out.push(x));
        let tids: Vec<u32> = out
            .iter()
            .map(|r| match r {
                Record::Task(e) => e.tid,
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(tids, vec![1, 2, 3, 4, 5]);
    }
}
