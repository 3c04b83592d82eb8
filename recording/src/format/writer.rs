use std::io::{self, Write};

use super::{
    CHUNK_END, CHUNK_KERNEL, CHUNK_MAGIC, FORMAT_VERSION, Header, MAGIC, Summary,
    kernel::KernelChunk,
};

/// zstd level of the chunks the writer compresses itself.
const ZSTD_LEVEL: i32 = 1;

/// Writes a recording: the header at once, then each kernel chunk as it comes, then the end
/// chunk.
pub struct Writer<W: Write> {
    out: W,
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
            records: 0,
            bytes_written: head.len() as u64,
            compressor: zstd::bulk::Compressor::new(ZSTD_LEVEL)?,
        })
    }

    /// Syscall records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Writes a kernel chunk, compressing it here.
    pub fn write_kernel(&mut self, chunk: &KernelChunk) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        let stored = self.compressor.compress(chunk.raw())?;
        self.write_kernel_stored(chunk, &stored)
    }

    /// Writes a kernel chunk whose stored bytes (a zstd frame of its raw bytes) were made
    /// elsewhere.
    pub fn write_kernel_stored(&mut self, chunk: &KernelChunk, stored: &[u8]) -> io::Result<()> {
        if chunk.is_empty() {
            return Ok(());
        }
        self.write_stored(CHUNK_KERNEL, chunk.raw().len(), stored, chunk.records())?;
        self.records += chunk.syscalls();
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

    fn write_stored(
        &mut self,
        kind: u8,
        raw_len: usize,
        stored: &[u8],
        count: u32,
    ) -> io::Result<()> {
        let mut head = [0u8; 24];
        head[..4].copy_from_slice(CHUNK_MAGIC);
        head[4] = kind;
        head[8..12].copy_from_slice(&(raw_len as u32).to_le_bytes());
        head[12..16].copy_from_slice(&(stored.len() as u32).to_le_bytes());
        head[16..20].copy_from_slice(&count.to_le_bytes());
        head[20..24].copy_from_slice(&crc32fast::hash(stored).to_le_bytes());
        self.out.write_all(&head)?;
        self.out.write_all(stored)?;
        // A chunk is either wholly in the file or not: flush it now so a killed recorder
        // leaves complete chunks behind.
        self.out.flush()?;
        self.bytes_written += (head.len() + stored.len()) as u64;
        Ok(())
    }

    /// What a killed recorder leaves behind: the complete chunks, no end chunk.
    #[cfg(test)]
    pub(crate) fn abandon(self) -> W {
        self.out
    }

    /// Writes the end chunk; returns the output.
    pub fn finish(mut self, summary: &Summary) -> io::Result<W> {
        let json = serde_json::to_vec(summary).map_err(io::Error::other)?;
        let stored = self.compressor.compress(&json)?;
        self.write_stored(CHUNK_END, json.len(), &stored, 0)?;
        Ok(self.out)
    }
}

/// The largest block of a zstd frame.
const ZSTD_BLOCK_MAX: usize = 128 << 10;

/// `raw` as a zstd frame of raw (stored) blocks: what a chunk holds when there was no CPU
/// to spare for compressing it. Any zstd decoder reads it; making it costs a copy.
pub fn zstd_raw_frame(raw: &[u8]) -> Vec<u8> {
    let blocks = raw.len().div_ceil(ZSTD_BLOCK_MAX).max(1);
    let mut frame = Vec::with_capacity(raw.len() + 9 + 3 * blocks);
    frame.extend_from_slice(&0xFD2F_B528u32.to_le_bytes());
    // Frame header descriptor: a 4-byte content size, single segment (no window
    // descriptor), no checksum, no dictionary.
    frame.push(0b1010_0000);
    frame.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    let mut pieces = raw.chunks(ZSTD_BLOCK_MAX).peekable();
    if raw.is_empty() {
        // One empty last raw block.
        frame.extend_from_slice(&[1, 0, 0]);
    }
    while let Some(piece) = pieces.next() {
        // Block header, 3 bytes little-endian: last-block bit, type 0 (raw), size.
        let last = u32::from(pieces.peek().is_none());
        let header = last | ((piece.len() as u32) << 3);
        frame.extend_from_slice(&header.to_le_bytes()[..3]);
        frame.extend_from_slice(piece);
    }
    frame
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_frame_decompresses_to_its_bytes() {
        for len in [
            0,
            1,
            56,
            ZSTD_BLOCK_MAX - 1,
            ZSTD_BLOCK_MAX,
            ZSTD_BLOCK_MAX + 1,
            1 << 20,
        ] {
            let raw: Vec<u8> = (0..len).map(|i| (i * 7 + i / 251) as u8).collect();
            let frame = zstd_raw_frame(&raw);
            let back = zstd::bulk::decompress(&frame, len.max(1)).expect("a valid zstd frame");
            assert_eq!(back, raw, "length {len}");
        }
    }
}
