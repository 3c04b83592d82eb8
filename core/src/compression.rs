//! Compressing kernel chunks off the drain's thread.
//!
//! The drain hands each chunk over as it copied it, and goes back to the rings. A
//! compressor thread compresses the chunks in order, and the output thread writes each
//! one compressed once that is done. Should the compressor fall behind (a CPU taken by
//! higher-priority work), the output thread does not wait for it: a chunk is written as
//! it is (a zstd frame of raw blocks, which costs a copy) once more than [`DUE_BEHIND`]
//! chunks wait behind it or [`DUE_AFTER`] after it was queued.
//!
//! Compressing pays for itself: on the machines measured, writing a byte into the page
//! cache costs 2-3 ns of CPU (`dd bs=1M` to ext4), zstd -10 about 0.6 ns, and it leaves a
//! tenth of the bytes. Measured on `record -- sc-loop getppid 4000000`, per record: the
//! drain 9 ns, the compressor 33, the output thread 4; written raw, the output thread
//! alone took 150.
//!
//! Nothing here blocks on the compressor: it shares no lock with the other threads (each
//! chunk's state is an atomic).
//!
//! A chunk's memory goes back to the drain once it is written ([`ChunkBuffers`]): memory
//! that the allocator gave back to the kernel and took again costs a page fault per 4 KiB
//! when the drain copies into it, measured at about 1.5 us each in a VM, three times the
//! copy itself. A drain that fell behind was slowed down by its own faults until the rings
//! overflowed.

use std::{
    collections::VecDeque,
    io,
    sync::{
        Arc, Mutex, OnceLock, Weak,
        atomic::{AtomicU8, AtomicUsize, Ordering},
        mpsc::{Receiver, RecvTimeoutError, SyncSender, TryRecvError},
    },
    time::{Duration, Instant},
};

use syscord_recording::format::{KernelChunk, zstd_raw_frame};

/// zstd levels, measured on getppid records (56 bytes) in place: level 1 about 4 bytes a
/// record in the file, -10 about 10 bytes at two thirds of the CPU.
const ZSTD_LEVEL: i32 = 1;
const FAST_ZSTD_LEVEL: i32 = -10;

/// A chunk is written once this many wait behind it, compressed or not.
pub const DUE_BEHIND: usize = 16;
/// A chunk is written this long after it was queued at the latest, compressed or not: the
/// most a killed recorder loses beyond what the drain had not handed over.
pub const DUE_AFTER: Duration = Duration::from_secs(1);

/// The compressor's nice value: the output thread's (see `output::OUTPUT_NICE`).
const COMPRESSOR_NICE: libc::c_int = -10;

const WAITING: u8 = 0;
const COMPRESSING: u8 = 1;
const COMPRESSED: u8 = 2;
/// Taken by the output thread before the compressor got to it, or the compressor failed.
const LEFT: u8 = 3;

/// Chunk memory kept for reuse, at most this many chunks of it: as many as wait in the
/// output thread's queue, about what a fast drain has in flight.
const KEPT_BUFFERS: usize = crate::output::QUEUED_CHUNKS;

/// The memory of written chunks, for the drain's next ones.
#[derive(Debug, Clone, Default)]
pub struct ChunkBuffers(Arc<Mutex<Vec<Vec<u8>>>>);

impl ChunkBuffers {
    /// An empty chunk with room for `capacity` bytes, in reused memory when there is some.
    pub fn chunk(&self, capacity: usize) -> KernelChunk {
        let reused = self.0.lock().ok().and_then(|mut kept| kept.pop());
        match reused {
            Some(buffer) if buffer.capacity() >= capacity => KernelChunk::in_buffer(buffer),
            _ => KernelChunk::with_capacity(capacity),
        }
    }

    fn keep(&self, buffer: Vec<u8>) {
        if let Ok(mut kept) = self.0.lock()
            && kept.len() < KEPT_BUFFERS
        {
            kept.push(buffer);
        }
    }
}

/// A chunk on its way to the file.
#[derive(Debug)]
pub struct Entry {
    pub chunk: KernelChunk,
    state: AtomicU8,
    compressed: OnceLock<Vec<u8>>,
    /// Where the chunk's memory goes once nothing uses it.
    buffers: ChunkBuffers,
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.buffers
            .keep(std::mem::take(&mut self.chunk).into_buffer());
    }
}

impl Entry {
    pub fn new(chunk: KernelChunk, buffers: &ChunkBuffers) -> Arc<Entry> {
        Arc::new(Entry {
            chunk,
            state: AtomicU8::new(WAITING),
            compressed: OnceLock::new(),
            buffers: buffers.clone(),
        })
    }

    /// The compressed bytes, if the compressor finished.
    fn compressed(&self) -> Option<&[u8]> {
        if self.state.load(Ordering::Acquire) == COMPRESSED {
            self.compressed.get().map(Vec::as_slice)
        } else {
            None
        }
    }

    /// The bytes to store, now: compressed if done, else compressed here (`compress_now`,
    /// when recording ends and the CPU is free) or as a raw frame.
    pub fn stored(&self, compress_now: bool) -> io::Result<Vec<u8>> {
        if self
            .state
            .compare_exchange(WAITING, LEFT, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return if compress_now {
                zstd::bulk::compress(self.chunk.raw(), ZSTD_LEVEL)
            } else {
                Ok(zstd_raw_frame(self.chunk.raw()))
            };
        }
        // Recording ended: the compressor finishes this chunk sooner than a raw copy of it
        // is written and read back.
        while compress_now && self.state.load(Ordering::Acquire) == COMPRESSING {
            std::thread::yield_now();
        }
        Ok(match self.compressed() {
            Some(bytes) => bytes.to_vec(),
            // Being compressed while recording goes on: not worth waiting for.
            None => zstd_raw_frame(self.chunk.raw()),
        })
    }
}

/// What the compressor is told: chunks to compress (weak: a chunk written meanwhile is
/// freed, not kept for the compressor), and how many it has yet to look at.
pub struct CompressorQueue {
    sender: std::sync::mpsc::Sender<Weak<Entry>>,
    backlog: Arc<AtomicUsize>,
}

impl CompressorQueue {
    pub fn push(&self, entry: &Arc<Entry>) {
        self.backlog.fetch_add(1, Ordering::Relaxed);
        // The compressor gone (it never stops first) only means no chunk gets compressed.
        let _ = self.sender.send(Arc::downgrade(entry));
    }
}

/// Starts the compressor thread; `wake` tells the output thread that a chunk is done.
pub fn start_compressor<T: Send + 'static>(
    wake: SyncSender<Message<T>>,
) -> io::Result<CompressorQueue> {
    let (sender, receiver) = std::sync::mpsc::channel::<Weak<Entry>>();
    let backlog = Arc::new(AtomicUsize::new(0));
    let queue = CompressorQueue {
        sender,
        backlog: Arc::clone(&backlog),
    };
    std::thread::Builder::new()
        .name("syscord-zstd".into())
        .spawn(move || {
            // SAFETY: setpriority has no memory effects; 0 is the calling thread.
            unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, COMPRESSOR_NICE) };
            let mut fast = zstd::bulk::Compressor::new(FAST_ZSTD_LEVEL).ok();
            let mut normal = zstd::bulk::Compressor::new(ZSTD_LEVEL).ok();
            for weak in receiver {
                let behind = backlog.fetch_sub(1, Ordering::Relaxed) - 1;
                let Some(entry) = weak.upgrade() else {
                    continue;
                };
                if entry
                    .state
                    .compare_exchange(WAITING, COMPRESSING, Ordering::AcqRel, Ordering::Acquire)
                    .is_err()
                {
                    continue;
                }
                // Chunks queue up when they come faster than this compresses them: the
                // faster level then, rather than more of them written raw.
                let compressor = if behind > 0 { &mut fast } else { &mut normal };
                match compressor.as_mut().map(|c| c.compress(entry.chunk.raw())) {
                    Some(Ok(bytes)) => {
                        let _ = entry.compressed.set(bytes);
                        entry.state.store(COMPRESSED, Ordering::Release);
                    }
                    _ => entry.state.store(LEFT, Ordering::Release),
                }
                drop(entry);
                // Full means the output thread has messages to read anyway.
                let _ = wake.try_send(Message::Compressed);
            }
        })?;
    Ok(queue)
}

/// What the output thread receives.
pub enum Message<T> {
    /// A chunk to write, with what goes with it.
    Chunk(Arc<Entry>, T),
    /// The compressor finished a chunk.
    Compressed,
    /// Recording ended: write what is left. (Not the channel's end: the compressor holds a
    /// sender too, and may not run again soon.)
    End,
}

/// A chunk to write now: its entry, what goes with it, and its stored bytes.
pub type Ready<T> = (Arc<Entry>, T, Vec<u8>);

/// The output thread's side: the chunks received, in order, until each is due.
pub struct Due<T> {
    waiting: VecDeque<(Arc<Entry>, T, Instant)>,
    closed: bool,
}

impl<T> Default for Due<T> {
    fn default() -> Self {
        Due {
            waiting: VecDeque::new(),
            closed: false,
        }
    }
}

impl<T> Due<T> {
    /// The next chunk to write, with its stored bytes, in the order the drain sent them;
    /// None once the drain is gone and every chunk is written.
    pub fn next(&mut self, receiver: &Receiver<Message<T>>) -> io::Result<Option<Ready<T>>> {
        loop {
            // Take what arrived, but never more than makes the front due: the channel's
            // bound is what holds the drain back when the disk is slower than the records.
            while !self.closed && self.waiting.len() <= DUE_BEHIND {
                match receiver.try_recv() {
                    Ok(message) => self.take(message),
                    Err(TryRecvError::Empty) => break,
                    Err(TryRecvError::Disconnected) => self.closed = true,
                }
            }
            let Some((entry, _, queued)) = self.waiting.front() else {
                if self.closed {
                    return Ok(None);
                }
                match receiver.recv() {
                    Ok(message) => self.take(message),
                    Err(_) => self.closed = true,
                }
                continue;
            };
            let due_at = *queued + DUE_AFTER;
            let now = Instant::now();
            if entry.compressed().is_some()
                || self.closed
                || self.waiting.len() > DUE_BEHIND
                || now >= due_at
            {
                let (entry, extra, _) = self.waiting.pop_front().expect("a front entry");
                let stored = entry.stored(self.closed)?;
                return Ok(Some((entry, extra, stored)));
            }
            match receiver.recv_timeout(due_at - now) {
                Ok(message) => self.take(message),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => self.closed = true,
            }
        }
    }

    fn take(&mut self, message: Message<T>) {
        match message {
            Message::Chunk(entry, extra) => self.waiting.push_back((entry, extra, Instant::now())),
            Message::Compressed => {}
            Message::End => self.closed = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use super::*;

    fn chunk(byte: u8) -> KernelChunk {
        let mut chunk = KernelChunk::default();
        chunk.push_watermark(u64::from(byte));
        chunk
    }

    fn decompressed(stored: &[u8]) -> Vec<u8> {
        zstd::bulk::decompress(stored, 1 << 20).expect("a zstd frame")
    }

    #[test]
    fn without_a_compressor_chunks_are_written_raw_in_order_once_due() {
        let (sender, receiver) = sync_channel(64);
        let started = Instant::now();
        let behind = DUE_BEHIND as u8 + 3;
        for i in 0..behind {
            sender
                .send(Message::Chunk(
                    Entry::new(chunk(i), &ChunkBuffers::default()),
                    i,
                ))
                .unwrap();
        }
        let mut due = Due::default();
        // More than DUE_BEHIND wait: the front ones are due at once.
        for i in 0..3 {
            let (entry, extra, stored) = due.next(&receiver).unwrap().unwrap();
            assert_eq!(extra, i);
            assert_eq!(decompressed(&stored), entry.chunk.raw());
        }
        // The rest are due DUE_AFTER after they were queued, still in order.
        let (_, extra, _) = due.next(&receiver).unwrap().unwrap();
        assert_eq!(extra, 3);
        assert!(started.elapsed() >= DUE_AFTER);
        // At the end, what is left is compressed here.
        sender.send(Message::End).unwrap();
        let mut rest = Vec::new();
        while let Some((entry, extra, stored)) = due.next(&receiver).unwrap() {
            assert_eq!(decompressed(&stored), entry.chunk.raw());
            assert!(stored.len() <= entry.chunk.raw().len() + 16);
            rest.push(extra);
        }
        assert_eq!(rest, (4..behind).collect::<Vec<_>>());
    }

    #[test]
    fn compressed_chunks_are_written_as_soon_as_the_compressor_is_done() {
        let (sender, receiver) = sync_channel(64);
        let compressor = start_compressor(sender.clone()).unwrap();
        let mut big = KernelChunk::default();
        for i in 0..100_000u64 {
            big.push_watermark(i % 7);
        }
        let entry = Entry::new(big, &ChunkBuffers::default());
        sender.send(Message::Chunk(Arc::clone(&entry), ())).unwrap();
        compressor.push(&entry);
        let (written, (), stored) = Due::default().next(&receiver).unwrap().unwrap();
        assert!(
            stored.len() < written.chunk.raw().len() / 10,
            "not compressed"
        );
        assert_eq!(
            zstd::bulk::decompress(&stored, written.chunk.raw().len()).unwrap(),
            written.chunk.raw()
        );
    }

    #[test]
    fn a_written_chunks_memory_is_reused_and_at_most_kept_buffers_are_kept() {
        let buffers = ChunkBuffers::default();
        let mut first = buffers.chunk(1 << 20);
        first.extend(b"records");
        let memory = first.raw().as_ptr();
        drop(Entry::new(first, &buffers));
        let second = buffers.chunk(1 << 20);
        assert_eq!(second.raw().as_ptr(), memory, "the same memory again");
        assert!(second.is_empty(), "and nothing of what it held");
        // Too small for what is asked: not used, and not kept either.
        drop(Entry::new(second, &buffers));
        let bigger = buffers.chunk(2 << 20);
        assert_ne!(bigger.raw().as_ptr(), memory);
        assert!(buffers.0.lock().unwrap().is_empty());
        let entries: Vec<_> = (0..KEPT_BUFFERS + 5)
            .map(|_| Entry::new(buffers.chunk(64), &buffers))
            .collect();
        drop(entries);
        assert_eq!(buffers.0.lock().unwrap().len(), KEPT_BUFFERS);
    }
}
