use std::{
    fs::File,
    io::{self, BufReader, Read},
    path::Path,
};

use super::{
    CHUNK_END, CHUNK_KERNEL, CHUNK_MAGIC, CHUNK_RECORDS, FormatError, Header, MAGIC,
    MAX_CHUNK_RAW_LEN, MAX_HEADER_LEN, READABLE_VERSIONS, Summary,
    kernel::KernelDecoder,
    record::{Decoder, Record},
};

/// Bytes reserved for a chunk before its bytes are read, at most.
const RESERVE_MAX: usize = 1 << 20;

/// A decoded chunk.
#[derive(Debug)]
pub enum Chunk {
    Records(Vec<Record>),
    End(Summary),
}

/// Reads a recording chunk by chunk: memory stays bounded by one chunk whatever the file size.
pub struct Reader<R: Read> {
    input: R,
    header: Header,
    offset: u64,
    summary: Option<Summary>,
    done: bool,
    /// Damage found, to report after the records held before it.
    damage: Option<FormatError>,
    kernel: KernelDecoder,
    /// The end chunk, read while the losses it reveals are handed out first.
    end: Option<Summary>,
}

impl Reader<BufReader<File>> {
    pub(crate) fn open(path: &Path) -> Result<Self, FormatError> {
        let file = File::open(path)?;
        Reader::new(BufReader::with_capacity(1 << 20, file))
    }
}

/// Reads until `buf` is full or the input ends; how many bytes it got.
fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match r.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Fills `buf` completely; Ok(false) on a clean end of input before the first byte.
fn read_exact_or_eof(r: &mut impl Read, buf: &mut [u8]) -> Result<bool, FormatError> {
    match read_up_to(r, buf)? {
        0 if !buf.is_empty() => Ok(false),
        n if n == buf.len() => Ok(true),
        _ => Err(FormatError::Truncated("the last chunk is incomplete")),
    }
}

impl<R: Read> Reader<R> {
    pub fn new(mut input: R) -> Result<Self, FormatError> {
        let mut fixed = [0u8; 16];
        let got = read_up_to(&mut input, &mut fixed)?;
        if got == 0 {
            return Err(FormatError::Truncated("the file is empty"));
        }
        // A short foreign file is foreign, not a truncated recording.
        let magic_len = got.min(MAGIC.len());
        if fixed[..magic_len] != MAGIC[..magic_len] {
            return Err(FormatError::NotARecording);
        }
        if got < fixed.len() {
            return Err(FormatError::Truncated("the file ends inside its header"));
        }
        let version = u16::from_le_bytes([fixed[8], fixed[9]]);
        if !READABLE_VERSIONS.contains(&version) {
            return Err(FormatError::UnsupportedVersion(version));
        }
        let len = u32::from_le_bytes(fixed[12..16].try_into().expect("4 bytes"));
        if len > MAX_HEADER_LEN {
            return Err(FormatError::Corrupt("header length is implausible"));
        }
        let mut json = vec![0u8; len as usize + 4];
        if read_up_to(&mut input, &mut json)? < json.len() {
            return Err(FormatError::Truncated("the file ends inside its header"));
        }
        let crc = u32::from_le_bytes(json[len as usize..].try_into().expect("4 bytes"));
        json.truncate(len as usize);
        if crc32fast::hash(&json) != crc {
            return Err(FormatError::Corrupt("header checksum mismatch"));
        }
        let header: Header = serde_json::from_slice(&json)
            .map_err(|_| FormatError::Corrupt("header is not valid"))?;
        Ok(Reader {
            input,
            kernel: KernelDecoder::new(&header),
            header,
            offset: 16 + u64::from(len) + 4,
            summary: None,
            done: false,
            damage: None,
            end: None,
        })
    }

    /// Hands the state that runs through kernel chunks (thread names, sequence numbers) to
    /// the reader of the next part of a rotated recording.
    pub(crate) fn pass_kernel_state_to<S: Read>(&mut self, next: &mut Reader<S>) {
        std::mem::swap(&mut self.kernel, &mut next.kernel);
    }

    pub fn header(&self) -> &Header {
        &self.header
    }

    /// The end chunk's summary, once it has been read.
    pub fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// Whether the file ended with its end chunk (false after a recorder crash).
    pub(crate) fn is_complete(&self) -> bool {
        self.summary.is_some()
    }

    /// The next chunk, or None at the end of the file. Damage is reported after the records
    /// before it, those that still waited for a watermark included.
    pub fn next_chunk(&mut self) -> Result<Option<Chunk>, FormatError> {
        if let Some(damage) = self.damage.take() {
            return Err(damage);
        }
        match self.read_chunk() {
            Err(damage) => match self.kernel.flush() {
                Ok(held) if !held.is_empty() => {
                    self.damage = Some(damage);
                    Ok(Some(Chunk::Records(held)))
                }
                _ => Err(damage),
            },
            read => read,
        }
    }

    fn read_chunk(&mut self) -> Result<Option<Chunk>, FormatError> {
        if let Some(summary) = self.end.take() {
            return Ok(Some(Chunk::End(summary)));
        }
        if self.done {
            return Ok(None);
        }
        let at = self.offset;
        let corrupt = |what: String| FormatError::CorruptChunk { offset: at, what };
        let mut head = [0u8; 24];
        if !read_exact_or_eof(&mut self.input, &mut head)? {
            self.done = true;
            // A recording cut short: what waited for a later watermark is all there is.
            let held = self.kernel.flush().map_err(|e| corrupt(e.to_string()))?;
            return Ok((!held.is_empty()).then_some(Chunk::Records(held)));
        }
        if &head[..4] != CHUNK_MAGIC {
            self.done = true;
            return Err(corrupt("bad chunk magic".into()));
        }
        let word = |i: usize| u32::from_le_bytes(head[i..i + 4].try_into().expect("4 bytes"));
        let (kind, raw_len, stored_len, count, crc) =
            (head[4], word(8), word(12), word(16), word(20));
        if raw_len > MAX_CHUNK_RAW_LEN || stored_len > MAX_CHUNK_RAW_LEN + 4096 {
            self.done = true;
            return Err(corrupt(format!(
                "implausible chunk size {stored_len}/{raw_len}"
            )));
        }
        // Grown as the bytes arrive rather than allocated from the length: a cut file whose
        // last chunk head is damaged must not cost the largest chunk's memory.
        let mut stored = Vec::with_capacity((stored_len as usize).min(RESERVE_MAX));
        (&mut self.input)
            .take(u64::from(stored_len))
            .read_to_end(&mut stored)?;
        if stored.len() != stored_len as usize {
            self.done = true;
            return Err(FormatError::Truncated("the last chunk is incomplete"));
        }
        self.offset += 24 + u64::from(stored_len);
        if crc32fast::hash(&stored) != crc {
            self.done = true;
            return Err(corrupt("checksum mismatch".into()));
        }
        let raw = zstd::bulk::decompress(&stored, raw_len as usize)
            .map_err(|e| corrupt(format!("cannot decompress: {e}")))?;
        if raw.len() != raw_len as usize {
            return Err(corrupt(
                "decompressed size differs from the chunk header".into(),
            ));
        }
        match kind {
            CHUNK_RECORDS => {
                let mut records = Decoder::new(&raw)
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| corrupt(e.to_string()))?;
                // These records name their captures; the decoders go by id.
                for record in &mut records {
                    if let Record::Syscall(e) = record {
                        for c in &mut e.captures {
                            c.id = self.kernel.capture_id(e.nr, &c.name);
                        }
                    }
                }
                if records.len() != count as usize {
                    return Err(corrupt(format!(
                        "holds {} records, its header says {count}",
                        records.len()
                    )));
                }
                Ok(Some(Chunk::Records(records)))
            }
            CHUNK_KERNEL => {
                let records = self
                    .kernel
                    .decode(&raw, count)
                    .map_err(|e| corrupt(e.to_string()))?;
                Ok(Some(Chunk::Records(records)))
            }
            CHUNK_END => {
                let summary: Summary = serde_json::from_slice(&raw)
                    .map_err(|e| corrupt(format!("bad summary: {e}")))?;
                // Readers add the per-CPU losses up (Summary::lost_records): no recording
                // loses more than 2^64 records, so a total past that is damage.
                let lost = summary
                    .lost_records_per_cpu
                    .iter()
                    .try_fold(0u64, |total, &n| total.checked_add(n));
                if lost.is_none() {
                    return Err(corrupt(
                        "bad summary: the lost records add up past 2^64".into(),
                    ));
                }
                self.summary = Some(summary.clone());
                self.done = true;
                // What waits for a later watermark comes out at the end of each part: a
                // part may be read alone. Records of the next part older than these are
                // the last pass's at most, within dump's reorder window.
                let mut last = self.kernel.flush().map_err(|e| corrupt(e.to_string()))?;
                if !summary.continued {
                    last.extend(self.kernel.tail_losses(&summary.last_seq_per_cpu));
                }
                if !last.is_empty() {
                    self.end = Some(summary);
                    return Ok(Some(Chunk::Records(last)));
                }
                Ok(Some(Chunk::End(summary)))
            }
            other => Err(corrupt(format!("unknown chunk kind {other}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use syscord_arch::Arch;

    use super::*;
    use crate::format::{
        KernelChunk, Record, SyscallEvent, TaskEvent, TaskEventKind, Writer, kernel_records,
    };

    fn header() -> Header {
        Header {
            arch: Arch::Aarch64,
            kernel_release: "6.1.0-test".into(),
            hostname: "h".into(),
            start_wall_ns: 1_700_000_000_000_000_000,
            start_boot_ns: 5_000,
            snap_len: 256,
            command: vec!["ls".into(), "-l".into()],
            target: "command".into(),
            filter: None,
            syscord_version: "0".into(),
            cpus: 2,
            part: 0,
            captures: Default::default(),
            ring_publish: String::new(),
            exec_argv: String::new(),
        }
    }

    fn event(i: u64) -> Record {
        Record::Syscall(SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: (i % 2) as u32,
            seq: i / 2 + 1,
            ts_ns: 10_000 + i * 100,
            pid: 7,
            tid: 7,
            nr: 173,
            ret: 1,
            ret_addr: 0x4000_1000,
            args: [0; 6],
            comm: b"t".to_vec(),
            captures: vec![],
            duration_ns: None,
        })
    }

    fn recording(n: u64, finish: bool) -> Vec<u8> {
        let mut w = Writer::new(Vec::new(), &header()).unwrap();
        let events: Vec<Record> = (0..n).map(event).collect();
        for part in events.chunks(1000) {
            w.write_kernel(&kernel_records::chunk_of(part)).unwrap();
        }
        if finish {
            w.finish(&Summary {
                records: n,
                lost_records_per_cpu: vec![0, 0],
                ..Default::default()
            })
            .unwrap()
        } else {
            w.abandon()
        }
    }

    fn read_all(bytes: &[u8]) -> (Header, Vec<Record>, Option<Summary>, Option<FormatError>) {
        let mut r = match Reader::new(bytes) {
            Ok(r) => r,
            Err(e) => panic!("header: {e}"),
        };
        let mut records = Vec::new();
        loop {
            match r.next_chunk() {
                Ok(Some(Chunk::Records(mut v))) => records.append(&mut v),
                Ok(Some(Chunk::End(_))) => {}
                Ok(None) => return (r.header().clone(), records, r.summary().cloned(), None),
                Err(e) => return (r.header().clone(), records, r.summary().cloned(), Some(e)),
            }
        }
    }

    #[test]
    fn write_then_read() {
        let bytes = recording(2500, true);
        let (h, records, summary, err) = read_all(&bytes);
        assert!(err.is_none());
        assert_eq!(h, header());
        assert_eq!(records.len(), 2500);
        assert_eq!(records[1234], event(1234));
        assert_eq!(summary.unwrap().records, 2500);
    }

    /// A file that a version 1 syscord wrote, of records chunks (see record.rs): a
    /// recording of `sh -c 'cat /tmp/syscord-v1-input > /dev/null; exit 3'`, the input
    /// holding "syscord version 1\n".
    #[test]
    fn a_version_1_recording_still_reads() {
        let file: &[u8] = include_bytes!("../../tests/data/version-1.rec");
        assert_eq!(
            u16::from_le_bytes([file[8], file[9]]),
            1,
            "a version 1 file"
        );
        let (header, records, summary, err) = read_all(file);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(header.arch, Arch::X86_64);
        assert_eq!(
            header.command,
            ["sh", "-c", "cat /tmp/syscord-v1-input > /dev/null; exit 3"]
        );
        let summary = summary.expect("an end chunk");
        assert_eq!(summary.exit_status, Some(3));
        let syscalls: Vec<&SyscallEvent> = records
            .iter()
            .filter_map(|r| match r {
                Record::Syscall(e) => Some(e),
                _ => None,
            })
            .collect();
        assert_eq!(syscalls.len() as u64, summary.records);
        // Nothing lost: each CPU's numbers run from 1 without a hole.
        let mut seqs = vec![Vec::new(); header.cpus as usize];
        for r in &records {
            match r {
                Record::Syscall(e) => seqs[e.cpu as usize].push(e.seq),
                Record::Task(t) => seqs[t.cpu as usize].push(t.seq),
                Record::Lost { .. } => panic!("a loss in {r:?}"),
            }
        }
        for cpu in &mut seqs {
            cpu.sort_unstable();
            assert_eq!(*cpu, (1..=cpu.len() as u64).collect::<Vec<_>>());
        }
        // cat's read of its input, its capture named in the file and given its id.
        let read = syscalls
            .iter()
            .find(|e| e.comm == b"cat" && e.nr == 0 && e.ret == 18)
            .expect("cat's read");
        assert_eq!(read.captures.len(), 1);
        assert_eq!(read.captures[0].name, "buf");
        assert_eq!(read.captures[0].id, Some(0));
        assert_eq!(read.captures[0].bytes, b"syscord version 1\n");
        // The exec of cat, with the path and argv its caller passed.
        let execve = syscalls
            .iter()
            .find(|e| e.comm == b"cat" && e.nr == 59)
            .expect("cat's execve");
        let capture = |name: &str| {
            let c = execve.captures.iter().find(|c| c.name == name).unwrap();
            super::super::c_string(&c.bytes)
        };
        assert_eq!(capture("filename"), b"/usr/bin/cat");
        assert_eq!(capture("argv"), b"cat");
        let exits: Vec<u32> = records
            .iter()
            .filter_map(|r| match r {
                Record::Task(TaskEvent {
                    kind: TaskEventKind::Exit { code },
                    ..
                }) => Some(*code),
                _ => None,
            })
            .collect();
        assert_eq!(exits, [0, 3 << 8]);
        let mut text = Vec::new();
        crate::dump::dump_from(file, crate::dump::DumpFormat::Text, &mut text).unwrap();
        let text = String::from_utf8(text).unwrap();
        assert!(
            text.contains(r#"cat read(3, "syscord version 1\n", 131072) = 18"#),
            "{text}"
        );
        assert!(text.contains("+++ exited with 3 +++"), "{text}");
    }

    #[test]
    fn killed_recorder_leaves_readable_chunks() {
        let bytes = recording(2500, false);
        let (_, records, summary, err) = read_all(&bytes);
        assert!(err.is_none());
        assert!(
            summary.is_none(),
            "no end chunk: the reader must know the tail is missing"
        );
        assert_eq!(records.len(), 2500);
    }

    #[test]
    fn truncation_anywhere_is_reported() {
        let bytes = recording(2500, true);
        for cut in (0..bytes.len()).step_by(97) {
            let r = Reader::new(&bytes[..cut]);
            let Ok(mut r) = r else { continue };
            let mut failed_or_incomplete = false;
            loop {
                match r.next_chunk() {
                    Ok(Some(_)) => {}
                    Ok(None) => {
                        failed_or_incomplete |= !r.is_complete();
                        break;
                    }
                    Err(_) => {
                        failed_or_incomplete = true;
                        break;
                    }
                }
            }
            assert!(failed_or_incomplete, "cut at {cut} looked complete");
        }
    }

    #[test]
    fn flipped_bytes_are_detected() {
        let bytes = recording(100, true);
        for at in [0usize, 9, 20, 200, bytes.len() / 2, bytes.len() - 3] {
            let mut b = bytes.clone();
            b[at] ^= 0x40;
            let ok = Reader::new(&b[..]).and_then(|mut r| {
                while r.next_chunk()?.is_some() {}
                Ok(r.is_complete())
            });
            assert!(!matches!(ok, Ok(true)), "flip at {at} went unnoticed");
        }
    }

    #[test]
    fn foreign_files_are_rejected() {
        assert!(matches!(
            Reader::new(&b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\0\0"[..]),
            Err(FormatError::NotARecording)
        ));
        assert!(matches!(
            Reader::new(&b""[..]),
            Err(FormatError::Truncated(_))
        ));
        let mut v = recording(1, true);
        v[8] = 99;
        assert!(matches!(
            Reader::new(&v[..]),
            Err(FormatError::UnsupportedVersion(99))
        ));
    }

    /// Where the header ends and the first chunk starts.
    fn header_len(bytes: &[u8]) -> usize {
        16 + u32::from_le_bytes(bytes[12..16].try_into().unwrap()) as usize + 4
    }

    #[test]
    fn a_cut_header_is_named_and_a_short_foreign_file_is_foreign() {
        let bytes = recording(1, true);
        let end = header_len(&bytes);
        for cut in [1, 8, 15, 16, 17, end / 2, end - 1] {
            assert!(
                matches!(
                    Reader::new(&bytes[..cut]),
                    Err(FormatError::Truncated("the file ends inside its header"))
                ),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            Reader::new(&b"hello\n"[..]),
            Err(FormatError::NotARecording)
        ));
    }

    #[test]
    fn read_errors_are_not_taken_for_a_cut_file() {
        // What reading a directory gives: it opens, then every read fails.
        struct Directory;
        impl Read for Directory {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::ErrorKind::IsADirectory.into())
            }
        }
        match Reader::new(Directory) {
            Err(FormatError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::IsADirectory),
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn a_summary_whose_losses_overflow_is_corrupt() {
        let summary = |lost_records_per_cpu| Summary {
            lost_records_per_cpu,
            ..Default::default()
        };
        let read = |summary: &Summary| {
            let file = Writer::new(Vec::new(), &header())
                .unwrap()
                .finish(summary)
                .unwrap();
            let mut reader = Reader::new(&file[..]).unwrap();
            reader.next_chunk().map(|_| reader.summary().cloned())
        };
        let fine = summary(vec![u64::MAX - 1, 1]);
        assert_eq!(read(&fine).unwrap(), Some(fine));
        assert!(matches!(
            read(&summary(vec![u64::MAX, 1])),
            Err(FormatError::CorruptChunk { .. })
        ));
    }

    #[test]
    fn records_waiting_for_a_watermark_come_out_at_the_end_of_a_part() {
        let mut chunk = KernelChunk::default();
        let at = chunk.open_span(0);
        let record = kernel_records::exit(1, 10_000, 7, 7, 0);
        chunk.extend(&record);
        chunk.close_span(at, record.len(), 1, 0);
        for continued in [true, false] {
            let mut w = Writer::new(Vec::new(), &header()).unwrap();
            w.write_kernel(&chunk).unwrap();
            let file = w
                .finish(&Summary {
                    continued,
                    ..Default::default()
                })
                .unwrap();
            let (_, records, summary, err) = read_all(&file);
            assert!(err.is_none());
            assert_eq!(summary.unwrap().continued, continued);
            assert_eq!(records.len(), 1, "continued: {continued}");
        }
    }

    #[test]
    fn a_cut_chunk_with_a_damaged_length_is_truncated() {
        let mut bytes = recording(10, false);
        let chunk = header_len(&bytes);
        bytes[chunk + 12..chunk + 16].copy_from_slice(&MAX_CHUNK_RAW_LEN.to_le_bytes());
        let mut reader = Reader::new(&bytes[..]).unwrap();
        assert!(matches!(
            reader.next_chunk(),
            Err(FormatError::Truncated("the last chunk is incomplete"))
        ));
        assert!(matches!(reader.next_chunk(), Ok(None)));
    }

    #[test]
    fn records_waiting_for_a_watermark_come_out_before_the_damage_after_them() {
        let mut chunk = KernelChunk::default();
        let at = chunk.open_span(0);
        let record = kernel_records::exit(1, 10_000, 7, 7, 0);
        chunk.extend(&record);
        chunk.close_span(at, record.len(), 1, 0);
        let mut w = Writer::new(Vec::new(), &header()).unwrap();
        w.write_kernel(&chunk).unwrap();
        w.write_kernel(&chunk).unwrap();
        let file = w.abandon();
        // Cut inside the second chunk: the first one's record had no watermark yet.
        let second = file.len() - 8;
        let mut reader = Reader::new(&file[..second]).unwrap();
        let mut records = 0;
        let damage = loop {
            match reader.next_chunk() {
                Ok(Some(Chunk::Records(r))) => records += r.len(),
                Ok(_) => break None,
                Err(e) => break Some(e),
            }
        };
        assert_eq!(records, 1, "the held record before the damage");
        assert!(matches!(
            damage,
            Some(FormatError::Truncated("the last chunk is incomplete"))
        ));
        assert!(matches!(reader.next_chunk(), Ok(None)));
    }
}
