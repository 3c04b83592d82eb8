//! Where a recording goes: one file, or with `--max-size SIZE --keep N` a bounded ring of
//! files `<path>.000001`, `<path>.000002`, ... of about SIZE each, the oldest removed once
//! N are kept. Each part is a complete recording by itself (header, chunks, end chunk);
//! the end chunk of every part but the last says the recording continues, and the header
//! says which part it is, so a reader can put the kept parts back in order and tell the
//! parts dropped on purpose from missing ones.

use std::{
    fs::{self, File, OpenOptions},
    io,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
        mpsc::{SyncSender, sync_channel},
    },
    thread::{self, JoinHandle},
};

use syscord_recording::{
    format::{Header, KernelChunk, Summary, Writer},
    parts::{existing_parts, part_path},
};

use crate::compression::{ChunkBuffers, CompressorQueue, Due, Entry, Message, start_compressor};

/// A thread's name as the drain knows it: pid, tid, name.
pub type ThreadName = (u32, u32, Vec<u8>);

/// What the drain hands the output thread: a kernel chunk and what the drain learnt while
/// filling it.
#[derive(Debug, Default)]
pub struct Batch {
    pub chunk: KernelChunk,
    pub learnt: Learnt,
}

/// What the drain learnt while filling a chunk.
#[derive(Debug, Default)]
pub struct Learnt {
    /// Records lost per CPU, as the sequence gaps in the chunk say (empty when none).
    pub lost_per_cpu: Vec<(u32, u64)>,
    /// With rotation: the names of the live recorded threads after this chunk, when they
    /// changed. A part read without the ones before it still names its threads.
    pub names: Option<Vec<ThreadName>>,
}

/// `--max-size` and `--keep`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// A part is closed once its complete chunks reach this many bytes.
    pub max_size: u64,
    /// Parts kept, the newest ones.
    pub keep: u64,
}

/// The smallest `--max-size`: a part must hold at least one whole chunk.
pub const MIN_PART_SIZE: u64 = 2 << 20;

fn create(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        // Recordings hold what processes read: keep them private.
        .mode(0o600)
        .open(path)
}

pub struct Output {
    base: PathBuf,
    rotation: Option<Rotation>,
    header: Header,
    /// The part being written (0 without rotation: the file is `base` itself).
    part: u64,
    writer: Writer<File>,
    /// Syscall records and bytes in the parts already closed.
    records_before: u64,
    bytes_before: u64,
    /// Records lost so far per CPU, from the loss markers written: what the end chunk of a
    /// closed part reports.
    lost_per_cpu: Vec<u64>,
    /// With rotation, the names the next part starts with.
    names: Vec<ThreadName>,
}

impl Output {
    /// Creates the file, or the first part (removing the parts an earlier recording left at
    /// the same path, which a reader would otherwise take for this one's).
    pub fn create(base: &Path, header: &Header, rotation: Option<Rotation>) -> io::Result<Output> {
        let part = match rotation {
            None => 0,
            Some(_) => {
                for (_, stale) in existing_parts(base)? {
                    fs::remove_file(stale)?;
                }
                1
            }
        };
        let writer = Self::open_part(base, header, part)?;
        Ok(Output {
            base: base.to_path_buf(),
            rotation,
            header: header.clone(),
            part,
            writer,
            records_before: 0,
            bytes_before: 0,
            lost_per_cpu: vec![0; header.cpus as usize],
            names: Vec::new(),
        })
    }

    fn open_part(base: &Path, header: &Header, part: u64) -> io::Result<Writer<File>> {
        let path = if part == 0 {
            base.to_path_buf()
        } else {
            part_path(base, part)
        };
        let header = Header {
            part,
            ..header.clone()
        };
        // No buffering: the writer hands the file whole chunks, each in one write.
        let file = create(&path)?;
        Writer::new(file, &header).inspect_err(|_| {
            // A part without a whole header would read as damage: leave none.
            let _ = fs::remove_file(&path);
        })
    }

    /// Writes a kernel chunk the drain filled, stored as `stored` (a zstd frame of it),
    /// with what the drain learnt while filling it.
    pub fn write(&mut self, chunk: &KernelChunk, stored: &[u8], learnt: Learnt) -> io::Result<()> {
        for &(cpu, count) in &learnt.lost_per_cpu {
            if let Some(n) = self.lost_per_cpu.get_mut(cpu as usize) {
                *n += count;
            }
        }
        if let Some(names) = learnt.names {
            self.names = names;
        }
        let written = self.writer.write_kernel_stored(chunk, stored);
        self.keep_complete_chunks(written)?;
        if let Some(rotation) = self.rotation
            && self.writer.bytes_written() >= rotation.max_size
        {
            self.rotate(rotation)?;
        }
        Ok(())
    }

    fn keep_complete_chunks<T>(&mut self, result: io::Result<T>) -> io::Result<T> {
        if result.is_err() {
            let _ = self.writer.get_ref().set_len(self.writer.bytes_written());
        }
        result
    }

    /// Closes the current part (its end chunk says the recording goes on) and starts the
    /// next, removing the oldest beyond `keep`.
    fn rotate(&mut self, rotation: Rotation) -> io::Result<()> {
        let next = Self::open_part(&self.base, &self.header, self.part + 1)?;
        let closed = std::mem::replace(&mut self.writer, next);
        self.records_before += closed.records();
        self.bytes_before += closed.bytes_written();
        let summary = Summary {
            records: self.records_before,
            lost_records_per_cpu: self.lost_per_cpu.clone(),
            continued: true,
            ..Summary::default()
        };
        if let Err(e) = close(closed, &summary) {
            // The closed part, cut back to its complete chunks, now ends the recording:
            // a next part after it would make the set unreadable.
            let _ = fs::remove_file(part_path(&self.base, self.part + 1));
            return Err(e);
        }
        self.part += 1;
        if !self.names.is_empty() {
            let mut names = KernelChunk::default();
            for (pid, tid, comm) in &self.names {
                names.push_name(*pid, *tid, comm);
            }
            let written = self.writer.write_kernel(&names);
            self.keep_complete_chunks(written)?;
        }
        if self.part > rotation.keep {
            match fs::remove_file(part_path(&self.base, self.part - rotation.keep)) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        Ok(())
    }

    /// Syscall records written so far, in every part.
    pub fn records(&self) -> u64 {
        self.records_before + self.writer.records()
    }

    /// Bytes written so far, in every part (including removed ones).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_before + self.writer.bytes_written()
    }

    /// Writes the last records and the end chunk, and syncs; says what is on disk.
    pub fn finish(self, summary: &Summary) -> io::Result<Written> {
        let file = close(self.writer, summary)?;
        if self.part == 0 {
            return Ok(Written {
                bytes: file.metadata()?.len(),
                parts: None,
            });
        }
        let kept = existing_parts(&self.base)?;
        Ok(Written {
            bytes: kept
                .iter()
                .filter_map(|(_, p)| fs::metadata(p).ok())
                .map(|m| m.len())
                .sum(),
            parts: Some((kept.first().map_or(self.part, |(n, _)| *n), self.part)),
        })
    }
}

/// What a finished recording left on disk.
#[derive(Debug, Clone, Copy)]
pub struct Written {
    /// Bytes in the file, or in the kept parts.
    pub bytes: u64,
    /// The first and last part kept, for a rotated recording.
    pub parts: Option<(u64, u64)>,
}

/// Writes the end chunk and syncs. On failure the file is cut back to its complete chunks.
fn close(writer: Writer<File>, summary: &Summary) -> io::Result<File> {
    let committed = writer.bytes_written();
    let file = writer.get_ref().try_clone()?;
    let closed = writer
        .finish(summary)
        .and_then(|f| f.sync_all().map(|()| f));
    if closed.is_err() {
        let _ = file.set_len(committed);
    }
    closed
}

/// An [`Output`] on a thread of its own, with a compressor beside it
/// ([`crate::compression`]): the drain copies records into chunks and goes back to the
/// rings while the chunks are compressed and written. A slow write
/// does not stall the drain. The queue between them is bounded, so a disk slower than the
/// records fills the rings (and counts losses) rather than memory.
pub struct OutputThread {
    sender: Option<SyncSender<Message<Learnt>>>,
    compressor: CompressorQueue,
    thread: Option<JoinHandle<io::Result<Output>>>,
    bytes: Arc<AtomicU64>,
    /// Syscall records handed over so far.
    records: u64,
    /// The memory of the chunks written, for new ones.
    buffers: ChunkBuffers,
}

/// The output thread's nice value: above the traced tasks', below the drain's, so that the
/// drain wins when the scheduler puts both on one CPU (the output thread is woken by the
/// drain, often onto its CPU) and the rings are never left unread for long.
const OUTPUT_NICE: libc::c_int = -10;

/// Chunks (about 1 MiB each) queued, at most: room for a write that stalls for tens of
/// milliseconds (a journal commit) while the drain goes on.
pub(crate) const QUEUED_CHUNKS: usize = 32;

impl OutputThread {
    pub fn start(mut output: Output) -> io::Result<OutputThread> {
        let (sender, receiver) = sync_channel::<Message<Learnt>>(QUEUED_CHUNKS);
        let compressor = start_compressor(sender.clone())?;
        let bytes = Arc::new(AtomicU64::new(output.bytes_written()));
        let thread = {
            let bytes = Arc::clone(&bytes);
            thread::Builder::new()
                .name("syscord-output".into())
                .spawn(move || {
                    // The traced tasks must not starve what empties the queue either.
                    // SAFETY: setpriority has no memory effects; 0 is the calling thread.
                    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, OUTPUT_NICE) };
                    let mut due = Due::default();
                    while let Some((entry, learnt, stored)) = due.next(&receiver)? {
                        output.write(&entry.chunk, &stored, learnt)?;
                        bytes.store(output.bytes_written(), Ordering::Relaxed);
                    }
                    Ok(output)
                })?
        };
        Ok(OutputThread {
            sender: Some(sender),
            compressor,
            thread: Some(thread),
            bytes,
            records: 0,
            buffers: ChunkBuffers::default(),
        })
    }

    /// An empty chunk for `capacity` bytes, in the memory of one written before if it can.
    pub fn new_chunk(&self, capacity: usize) -> KernelChunk {
        self.buffers.chunk(capacity)
    }

    /// Hands a batch over to be compressed and written.
    pub fn send(&mut self, batch: Batch) -> io::Result<()> {
        self.records += batch.chunk.syscalls();
        let entry = Entry::new(batch.chunk, &self.buffers);
        let sent = self
            .sender
            .as_ref()
            .map(|s| s.send(Message::Chunk(Arc::clone(&entry), batch.learnt)));
        match sent {
            Some(Ok(())) => {
                self.compressor.push(&entry);
                Ok(())
            }
            // The thread stopped: it failed to write. Its error is the one to report.
            _ => Err(self
                .stop()
                .err()
                .unwrap_or_else(|| io::Error::other("the output thread stopped"))),
        }
    }

    /// Syscall records handed over so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }

    /// Waits until everything handed over is written, and returns the output for its end
    /// chunk.
    pub fn finish(mut self) -> io::Result<Output> {
        self.stop()
    }

    fn stop(&mut self) -> io::Result<Output> {
        if let Some(sender) = self.sender.take() {
            // Fails only if the thread already stopped, which the join reports.
            let _ = sender.send(Message::End);
        }
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            Some(Err(_)) => Err(io::Error::other("the output thread panicked")),
            None => Err(io::Error::other("the output thread already stopped")),
        }
    }
}
