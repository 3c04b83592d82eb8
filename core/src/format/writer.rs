use std::io::{self, Write};

use super::{
    CHUNK_END, CHUNK_MAGIC, CHUNK_RECORDS, FORMAT_VERSION, Header, MAGIC, Summary,
    record::{Encoder, Record, SyscallRef},
};

/// Uncompressed bytes gathered before a chunk is compressed and written.
pub const CHUNK_TARGET: usize = 1 << 20;

/// zstd level: 1 keeps up with the ring buffer; the records are repetitive enough that it
/// already compresses them several times.
const ZSTD_LEVEL: i32 = 1;

/// Writes a recording: the header at once, then a chunk whenever enough records gathered.
pub struct Writer<W: Write> {
    out: W,
    encoder: Encoder,
    raw: Vec<u8>,
    count: u32,
    records: u64,
    bytes_written: u64,
    compressor: zstd::bulk::Compressor<'static>,
}

impl<W: Write> Writer<W> {
    pub fn new(mut out: W, header: &Header) -> io::Result<Self> {
        let json = serde_json::to_vec(header).map_err(io::Error::other)?;
        let mut head = Vec::with_capacity(json.len() + 20);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        head.extend_from_slice(&0u16.to_le_bytes());
        head.extend_from_slice(&(json.len() as u32).to_le_bytes());
        head.extend_from_slice(&json);
        head.extend_from_slice(&crc32fast::hash(&json).to_le_bytes());
        out.write_all(&head)?;
        out.flush()?;
        Ok(Writer {
            out,
            encoder: Encoder::default(),
            raw: Vec::with_capacity(CHUNK_TARGET + 4096),
            count: 0,
            records: 0,
            bytes_written: head.len() as u64,
            compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
        })
    }

    pub fn push(&mut self, record: &Record) -> io::Result<()> {
        self.encoder.encode(record, &mut self.raw);
        self.count += 1;
        if matches!(record, Record::Syscall(_)) {
            self.records += 1;
        }
        if self.raw.len() >= CHUNK_TARGET {
            self.flush_chunk()?;
        }
        Ok(())
    }

    /// Syscall records pushed so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Compresses and writes a chunk a [`ChunkEncoder`] encoded (on another thread).
    pub fn write_encoded(&mut self, chunk: EncodedChunk) -> io::Result<()> {
        // Records pushed here and chunks encoded elsewhere do not mix within a chunk.
        self.flush_chunk()?;
        self.raw = chunk.raw;
        self.write_chunk(CHUNK_RECORDS, chunk.count)?;
        self.records += chunk.records;
        Ok(())
    }

    /// The output, for what the writer does not do (syncing, truncating after an error).
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// Bytes in the file so far (header and complete chunks).
    pub fn bytes_written(&self) -> u64 {
        self.bytes_written
    }

    /// Compresses and writes the records gathered so far as one chunk.
    pub fn flush_chunk(&mut self) -> io::Result<()> {
        if self.count == 0 {
            return Ok(());
        }
        self.write_chunk(CHUNK_RECORDS, self.count)?;
        self.count = 0;
        // Each chunk decodes on its own.
        self.encoder = Encoder::default();
        Ok(())
    }

    fn write_chunk(&mut self, kind: u8, count: u32) -> io::Result<()> {
        let stored = self.compressor.compress(&self.raw)?;
        let mut head = [0u8; 24];
        head[..4].copy_from_slice(CHUNK_MAGIC);
        head[4] = kind;
        head[8..12].copy_from_slice(&(self.raw.len() as u32).to_le_bytes());
        head[12..16].copy_from_slice(&(stored.len() as u32).to_le_bytes());
        head[16..20].copy_from_slice(&count.to_le_bytes());
        head[20..24].copy_from_slice(&crc32fast::hash(&stored).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(&stored)?;
        // A chunk is either wholly in the file or not: flush it now so a killed recorder
        // leaves complete chunks behind.
        self.out.flush()?;
        self.bytes_written += (head.len() + stored.len()) as u64;
        self.raw.clear();
        Ok(())
    }

    /// What a killed recorder leaves behind: the complete chunks, no end chunk.
    #[cfg(test)]
    pub(crate) fn abandon(mut self) -> io::Result<W> {
        self.flush_chunk()?;
        Ok(self.out)
    }

    /// Writes the last records and the end chunk; returns the output.
    pub fn finish(mut self, summary: &Summary) -> io::Result<W> {
        self.flush_chunk()?;
        self.raw = serde_json::to_vec(summary).map_err(io::Error::other)?;
        self.write_chunk(CHUNK_END, 0)?;
        Ok(self.out)
    }
}

/// The records of one chunk, encoded and not yet compressed.
#[derive(Debug)]
pub struct EncodedChunk {
    raw: Vec<u8>,
    count: u32,
    /// Syscall records among them.
    records: u64,
    /// Records lost per CPU, as the loss markers among them say (empty when none).
    pub lost_per_cpu: Vec<(u32, u64)>,
}

/// Encodes records into chunks, for a [`Writer`] on another thread to compress and write:
/// the encoding stays with the thread that made the records (and frees them).
#[derive(Default)]
pub struct ChunkEncoder {
    encoder: Encoder,
    raw: Vec<u8>,
    count: u32,
    /// Syscall records in the chunk being encoded.
    chunk_records: u64,
    lost_per_cpu: Vec<(u32, u64)>,
    /// Syscall records encoded so far, in all chunks.
    records: u64,
}

impl ChunkEncoder {
    /// Encodes `record`; returns the chunk once it holds enough.
    pub fn push(&mut self, record: &Record) -> Option<EncodedChunk> {
        self.reserve();
        self.encoder.encode(record, &mut self.raw);
        match record {
            Record::Syscall(_) => self.chunk_records += 1,
            Record::Lost { cpu, count, .. } => self.lost_per_cpu.push((*cpu, *count)),
            Record::Task(_) => {}
        }
        self.pushed()
    }

    /// Encodes a syscall record; returns the chunk once it holds enough.
    pub fn push_syscall(&mut self, record: &SyscallRef) -> Option<EncodedChunk> {
        self.reserve();
        self.encoder.encode_syscall(record, &mut self.raw);
        self.chunk_records += 1;
        self.pushed()
    }

    fn reserve(&mut self) {
        if self.raw.capacity() == 0 {
            self.raw.reserve(CHUNK_TARGET + 4096);
        }
    }

    fn pushed(&mut self) -> Option<EncodedChunk> {
        self.count += 1;
        (self.raw.len() >= CHUNK_TARGET)
            .then(|| self.take())
            .flatten()
    }

    /// The records encoded since the last chunk, as a chunk, if there are any.
    pub fn take(&mut self) -> Option<EncodedChunk> {
        if self.count == 0 {
            return None;
        }
        let chunk = EncodedChunk {
            raw: std::mem::take(&mut self.raw),
            count: self.count,
            records: self.chunk_records,
            lost_per_cpu: std::mem::take(&mut self.lost_per_cpu),
        };
        self.records += self.chunk_records;
        self.count = 0;
        self.chunk_records = 0;
        // Each chunk decodes on its own.
        self.encoder = Encoder::default();
        Some(chunk)
    }

    /// Syscall records encoded so far.
    pub fn records(&self) -> u64 {
        self.records + self.chunk_records
    }
}
