//! A recording as readers see it: one file, or the kept parts of a rotated recording
//! (`record --max-size SIZE --keep N` writes `FILE.000001`, `FILE.000002`, ...) read in order
//! as one stream of chunks.
//!
//! Each part is a complete file whose header differs from the others only in its part
//! number, and whose end chunk says `continued` in every part but the last. That lets a
//! reader tell parts dropped on purpose (the oldest, by `--keep`) from parts that are missing
//! or belong to another recording, which are errors.

use std::{
    fs::{self, File},
    io::{self, BufReader, Read},
    path::{Path, PathBuf},
};

use crate::format::{Chunk, FormatError, Header, Reader, Summary};

/// The path of part `part` of the recording at `base`.
pub fn part_path(base: &Path, part: u64) -> PathBuf {
    let mut name = base.as_os_str().to_owned();
    name.push(format!(".{part:06}"));
    PathBuf::from(name)
}

/// The parts of a rotated recording at `base` present on disk, by part number.
pub fn existing_parts(base: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let dir = match base.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let Some(stem) = base.file_name().and_then(|n| n.to_str()) else {
        return Ok(Vec::new());
    };
    let mut parts = Vec::new();
    for entry in fs::read_dir(&dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(number) = name
            .strip_prefix(stem)
            .and_then(|rest| rest.strip_prefix('.'))
            .filter(|n| n.len() == 6 && n.bytes().all(|b| b.is_ascii_digit()))
        else {
            continue;
        };
        parts.push((number.parse().unwrap_or(0), dir.join(name)));
    }
    parts.sort();
    Ok(parts)
}

/// How reading a recording into some output (`dump`, `stats`) can fail.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("writing output: {0}")]
    Output(io::Error),
}

/// What `dump` and `stats` read: a recording as a stream of chunks.
pub(crate) trait Chunks {
    fn header(&self) -> &Header;
    /// The next chunk, or None at the end.
    fn next_chunk(&mut self) -> Result<Option<Chunk>, FormatError>;
    /// The recording's summary, once its end chunk is read.
    fn summary(&self) -> Option<&Summary>;
    /// Why the recording is incomplete, once read to the end; None if it is complete.
    fn missing_tail(&self) -> Option<String>;
}

/// Said of a recording without its end chunk.
const NO_END_CHUNK: &str = "the recording has no end chunk (the recorder was killed or its disk \
     filled): its tail is missing";

impl<R: Read> Chunks for Reader<R> {
    fn header(&self) -> &Header {
        Reader::header(self)
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, FormatError> {
        Reader::next_chunk(self)
    }

    fn summary(&self) -> Option<&Summary> {
        Reader::summary(self)
    }

    fn missing_tail(&self) -> Option<String> {
        (!self.is_complete()).then(|| NO_END_CHUNK.to_owned())
    }
}

impl Chunks for Recording {
    fn header(&self) -> &Header {
        Recording::header(self)
    }

    fn next_chunk(&mut self) -> Result<Option<Chunk>, FormatError> {
        Recording::next_chunk(self)
    }

    fn summary(&self) -> Option<&Summary> {
        Recording::summary(self)
    }

    fn missing_tail(&self) -> Option<String> {
        Recording::missing_tail(self)
    }
}

pub(crate) struct Recording {
    /// The parts still to open after the current one, oldest first (empty for one file).
    pending: std::vec::IntoIter<(u64, PathBuf)>,
    reader: Reader<BufReader<File>>,
    /// The file being read, for errors (None when the recording is one file, whose path the
    /// caller already shows).
    part_file: Option<PathBuf>,
    part: u64,
    first_header: Header,
    first_part: u64,
    /// Set once the last part's end chunk is read.
    summary: Option<Summary>,
}

impl Recording {
    /// Opens the file at `path`, or when there is none, the rotated recording whose parts are
    /// `path.NNNNNN`.
    pub(crate) fn open(path: &Path) -> Result<Recording, FormatError> {
        match Reader::open(path) {
            Err(FormatError::Io(e)) if e.kind() == io::ErrorKind::NotFound => {
                let parts = existing_parts(path).unwrap_or_default();
                if parts.is_empty() {
                    return Err(FormatError::Io(e));
                }
                Self::open_parts(parts)
            }
            Err(e) => Err(e),
            Ok(reader) => Ok(Recording {
                pending: Vec::new().into_iter(),
                part: reader.header().part,
                first_part: reader.header().part,
                first_header: reader.header().clone(),
                reader,
                part_file: None,
                summary: None,
            }),
        }
    }

    fn open_parts(parts: Vec<(u64, PathBuf)>) -> Result<Recording, FormatError> {
        let mut pending = parts.into_iter();
        let (part, path) = pending.next().expect("at least one part");
        let reader = open_part(&path, part)?;
        Ok(Recording {
            pending,
            first_header: reader.header().clone(),
            first_part: part,
            reader,
            part_file: Some(path),
            part,
            summary: None,
        })
    }

    /// The header of the first file read (its `part` is the first kept part).
    pub(crate) fn header(&self) -> &Header {
        &self.first_header
    }

    /// What the reader should know about the set of files: parts removed by `--keep`, a
    /// single part read alone.
    pub(crate) fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        if self.first_part > 1 {
            let removed = match self.first_part - 1 {
                1 => "part 1 was".to_owned(),
                n => format!("parts 1 to {n} were"),
            };
            notes.push(format!(
                "{removed} removed by --keep: the recording starts at part {}",
                self.first_part
            ));
        }
        if self.part_file.is_none() && self.first_part > 0 {
            notes.push(format!(
                "this file is part {} of a rotated recording; give the name without .{:06} to read all its parts",
                self.first_part, self.first_part
            ));
        }
        notes
    }

    /// The next chunk of records in recording order, the last part's end chunk, then None.
    /// The end chunks of the parts before the last are not returned: they only say the
    /// recording goes on.
    pub(crate) fn next_chunk(&mut self) -> Result<Option<Chunk>, FormatError> {
        loop {
            match self.reader.next_chunk() {
                Ok(Some(Chunk::End(summary))) => {
                    if summary.continued && self.pending.len() > 0 {
                        continue;
                    }
                    self.summary = Some(summary.clone());
                    return Ok(Some(Chunk::End(summary)));
                }
                Ok(Some(records)) => return Ok(Some(records)),
                Ok(None) => {}
                Err(e) => return Err(self.in_part(e)),
            }
            // The current part is over.
            let Some((next, path)) = self.pending.next() else {
                return Ok(None);
            };
            let previous = self.reader.summary();
            if previous.is_none_or(|s| !s.continued) {
                let what = match previous {
                    None => "is cut short (it has no end chunk)",
                    Some(_) => "ends the recording",
                };
                return Err(FormatError::Parts(format!(
                    "part {} {what}, yet part {next} follows",
                    self.part
                )));
            }
            if next != self.part + 1 {
                return Err(FormatError::Parts(format!(
                    "part {} is missing (the parts read end at {}, the next present is {next})",
                    self.part + 1,
                    self.part
                )));
            }
            let mut reader = open_part(&path, next)?;
            self.reader.pass_kernel_state_to(&mut reader);
            let expected = Header {
                part: next,
                ..self.first_header.clone()
            };
            if *reader.header() != expected {
                return Err(FormatError::Parts(format!(
                    "{} belongs to another recording than part {}",
                    path.display(),
                    self.first_part
                )));
            }
            self.reader = reader;
            self.part = next;
            self.part_file = Some(path);
        }
    }

    fn in_part(&self, error: FormatError) -> FormatError {
        match &self.part_file {
            Some(path) => FormatError::InPart {
                path: path.clone(),
                source: Box::new(error),
            },
            None => error,
        }
    }

    /// The summary of the recording, once the last end chunk is read.
    pub(crate) fn summary(&self) -> Option<&Summary> {
        self.summary.as_ref()
    }

    /// Whether the recording ended properly: its last file has an end chunk that does not
    /// say a further part follows.
    pub(crate) fn is_complete(&self) -> bool {
        self.summary.as_ref().is_some_and(|s| !s.continued)
    }

    /// Why the recording is not complete, once read to its end: for `dump` and `stats` to say.
    pub(crate) fn missing_tail(&self) -> Option<String> {
        match &self.summary {
            Some(s) if s.continued => Some(format!(
                "the recording continues in part {}, which is missing",
                self.part + 1
            )),
            Some(_) => None,
            None => Some(NO_END_CHUNK.to_owned()),
        }
    }
}

fn open_part(path: &Path, part: u64) -> Result<Reader<BufReader<File>>, FormatError> {
    let reader = Reader::open(path).map_err(|e| FormatError::InPart {
        path: path.to_path_buf(),
        source: Box::new(e),
    })?;
    if reader.header().part != part {
        return Err(FormatError::Parts(format!(
            "{} says it is part {}",
            path.display(),
            reader.header().part
        )));
    }
    Ok(reader)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use syscord_arch::Arch;

    use super::*;
    use crate::format::{Record, SyscallEvent, Writer, kernel_records};

    fn header(part: u64) -> Header {
        Header {
            arch: Arch::X86_64,
            kernel_release: "6.1.0-test".into(),
            hostname: "h".into(),
            start_wall_ns: 1_700_000_000_000_000_000,
            start_boot_ns: 5_000,
            snap_len: 256,
            command: vec!["true".into()],
            target: "command".into(),
            filter: None,
            syscord_version: "0".into(),
            cpus: 1,
            part,
            captures: Default::default(),
            ring_publish: String::new(),
            exec_argv: String::new(),
        }
    }

    fn event(seq: u64) -> Record {
        Record::Syscall(SyscallEvent {
            returned: true,
            rule_flags: 0,
            cpu: 0,
            seq,
            ts_ns: 10_000 + seq * 100,
            pid: 7,
            tid: 7,
            nr: 110,
            ret: 1,
            ret_addr: 0x4000_1000,
            args: [0; 6],
            comm: b"t".to_vec(),
            captures: vec![],
            duration_ns: None,
        })
    }

    /// A scratch directory of its own for each test.
    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("syscord-recording-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir.join("r.rec")
    }

    /// Writes part `part` holding records with sequence numbers `seqs`; `end` is None for a
    /// part cut short, else whether the recording continues after it.
    fn write_part(base: &Path, header: &Header, seqs: std::ops::Range<u64>, end: Option<bool>) {
        let mut w = Writer::new(Vec::new(), header).unwrap();
        let events: Vec<Record> = seqs.clone().map(event).collect();
        w.write_kernel(&kernel_records::chunk_of(&events)).unwrap();
        let bytes = match end {
            Some(continued) => w
                .finish(&Summary {
                    records: seqs.end,
                    lost_records_per_cpu: vec![0],
                    continued,
                    ..Default::default()
                })
                .unwrap(),
            None => w.abandon(),
        };
        fs::write(part_path(base, header.part), bytes).unwrap();
    }

    fn read_all(recording: &mut Recording) -> (Vec<u64>, Option<FormatError>) {
        let mut seqs = Vec::new();
        loop {
            match recording.next_chunk() {
                Ok(Some(Chunk::Records(records))) => seqs.extend(records.iter().map(|r| match r {
                    Record::Syscall(e) => e.seq,
                    _ => 0,
                })),
                Ok(Some(Chunk::End(_))) => {}
                Ok(None) => return (seqs, None),
                Err(e) => return (seqs, Some(e)),
            }
        }
    }

    #[test]
    fn kept_parts_read_as_one_recording() {
        let base = scratch("kept");
        // Part 1 was removed by --keep 3.
        write_part(&base, &header(2), 10..20, Some(true));
        write_part(&base, &header(3), 20..30, Some(true));
        write_part(&base, &header(4), 30..35, Some(false));
        let mut recording = Recording::open(&base).unwrap();
        assert_eq!(recording.header().part, 2);
        let (seqs, error) = read_all(&mut recording);
        assert!(error.is_none(), "{error:?}");
        assert_eq!(seqs, (10..35).collect::<Vec<_>>());
        assert!(recording.is_complete());
        assert_eq!(recording.missing_tail(), None);
        assert_eq!(recording.summary().unwrap().records, 35);
        assert_eq!(
            recording.notes(),
            ["part 1 was removed by --keep: the recording starts at part 2"]
        );
    }

    #[test]
    fn a_missing_part_is_an_error_after_the_parts_before_it() {
        let base = scratch("gap");
        write_part(&base, &header(1), 0..10, Some(true));
        write_part(&base, &header(3), 20..30, Some(false));
        let mut recording = Recording::open(&base).unwrap();
        let (seqs, error) = read_all(&mut recording);
        assert_eq!(seqs, (0..10).collect::<Vec<_>>());
        let message = error.expect("a gap is an error").to_string();
        assert!(message.contains("part 2 is missing"), "{message}");
    }

    #[test]
    fn a_part_of_another_recording_is_an_error() {
        let base = scratch("foreign");
        write_part(&base, &header(1), 0..10, Some(true));
        let other = Header {
            start_wall_ns: 1,
            ..header(2)
        };
        write_part(&base, &other, 10..20, Some(false));
        let mut recording = Recording::open(&base).unwrap();
        let (seqs, error) = read_all(&mut recording);
        assert_eq!(seqs.len(), 10);
        let message = error.expect("a foreign part is an error").to_string();
        assert!(
            message.contains("belongs to another recording"),
            "{message}"
        );
    }

    #[test]
    fn a_last_part_that_says_more_follows_is_incomplete() {
        let base = scratch("continued");
        write_part(&base, &header(1), 0..10, Some(true));
        let mut recording = Recording::open(&base).unwrap();
        let (seqs, error) = read_all(&mut recording);
        assert!(error.is_none());
        assert_eq!(seqs.len(), 10);
        assert!(!recording.is_complete());
        assert_eq!(
            recording.missing_tail().unwrap(),
            "the recording continues in part 2, which is missing"
        );
    }

    #[test]
    fn a_killed_recorder_leaves_its_last_part_readable() {
        let base = scratch("killed");
        write_part(&base, &header(1), 0..10, Some(true));
        write_part(&base, &header(2), 10..15, None);
        let mut recording = Recording::open(&base).unwrap();
        let (seqs, error) = read_all(&mut recording);
        assert!(error.is_none());
        assert_eq!(seqs, (0..15).collect::<Vec<_>>());
        assert!(!recording.is_complete());
        assert!(
            recording
                .missing_tail()
                .unwrap()
                .contains("tail is missing")
        );
    }

    #[test]
    fn a_part_cut_short_before_another_is_an_error() {
        let base = scratch("cut");
        write_part(&base, &header(1), 0..10, None);
        write_part(&base, &header(2), 10..15, Some(false));
        let mut recording = Recording::open(&base).unwrap();
        let (_, error) = read_all(&mut recording);
        let message = error.expect("a cut part is an error").to_string();
        assert!(message.contains("part 1 is cut short"), "{message}");
    }

    #[test]
    fn one_part_read_alone_says_so() {
        let base = scratch("alone");
        write_part(&base, &header(2), 10..20, Some(true));
        let recording = Recording::open(&part_path(&base, 2)).unwrap();
        let notes = recording.notes();
        assert!(
            notes
                .iter()
                .any(|n| n.contains("part 2 of a rotated recording")),
            "{notes:?}"
        );
    }

    #[test]
    fn no_file_and_no_parts_is_not_found() {
        let base = scratch("none");
        match Recording::open(&base) {
            Err(FormatError::Io(e)) => assert_eq!(e.kind(), io::ErrorKind::NotFound),
            other => panic!("expected not found, got {:?}", other.map(|_| ())),
        }
    }
}
