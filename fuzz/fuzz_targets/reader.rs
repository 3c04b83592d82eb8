//! Reading recordings must never panic, whatever the bytes: every input ends in records and a
//! clean end, or in a `FormatError`.
//!
//! The first byte of an input chooses how the rest is used, because a file's checksums and
//! compression would otherwise stop nearly every mutation before the record decoder:
//!
//! - `0` (mod 3): the rest is a file, dumped as `syscord dump` does, text and JSON. This fuzzes
//!   the header and chunk framing (truncation, lengths, magic, version, checksums).
//! - `1`: the rest chooses records (syscall numbers of the architecture, arguments, captures
//!   named after the handler's, loss ranges, task events); they are written with the real
//!   `Writer`, read back, compared with what was written, and dumped. This fuzzes the handlers'
//!   decoding of captured memory with well-framed files.
//! - `2`: the rest is the uncompressed payload of one chunk, framed here with a valid checksum.
//!   This fuzzes the record decoder (varints, lengths, tags) on hostile payloads.

#![no_main]

use std::{io::Cursor, sync::LazyLock};

use libfuzzer_sys::{
    arbitrary::{Result as ArbitraryResult, Unstructured},
    fuzz_target,
};
use syscord_recording::{
    dump::{DumpFormat, dump_from},
    format::{
        CHUNK_MAGIC, Capture, Chunk, Header, Reader, Record, Summary, SyscallEvent, TaskEvent,
        TaskEventKind, Writer,
    },
};
use syscord_arch::{Arch, SyscallTable};
use syscord_handlers::decode::Decoder;

/// Which captures each syscall has, per architecture of `Arch::ALL`: built once, since
/// building a registry costs more than the rest of a run.
static DECODERS: LazyLock<Vec<Decoder>> = LazyLock::new(|| {
    Arch::ALL
        .iter()
        .map(|&arch| Decoder::new(arch).expect("the built-in handlers are consistent"))
        .collect()
});

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => dump_both(rest),
        1 => round_trip(rest),
        _ => dump_both(&framed_chunk(rest)),
    }
});

/// Dumps `file` as text and as JSON. Errors are fine; what was printed must still be whole
/// lines, and every JSON line an object.
fn dump_both(file: &[u8]) {
    for format in [DumpFormat::Text, DumpFormat::Json] {
        let mut out = Vec::new();
        let report = dump_from(Cursor::new(file), format, &mut out);
        let text = String::from_utf8(out).expect("the dump is UTF-8");
        if let Ok(report) = &report {
            assert_eq!(text.lines().count() as u64, report.items);
            // What `syscord dump` says after the records.
            let _ = report.summary.as_ref().map(Summary::lost_records);
        }
        if format == DumpFormat::Json {
            for line in text.lines() {
                let value: serde_json::Value =
                    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
                assert!(value.is_object(), "{line}");
            }
        }
    }
}

fn header(arch: Arch, hostname: String) -> Header {
    Header {
        arch,
        kernel_release: "6.1.0-fuzz".into(),
        hostname,
        start_wall_ns: 1_700_000_000_000_000_000,
        start_boot_ns: 1_000,
        snap_len: 256,
        command: vec!["fuzz".into()],
        target: "command".into(),
        filter: None,
        syscord_version: "0".into(),
        cpus: 2,
        part: 0,
        captures: Default::default(),
    }
}

/// A file holding `payload` as its only chunk, with the kind and record count the payload's
/// first bytes give.
fn framed_chunk(payload: &[u8]) -> Vec<u8> {
    let (kind, count, raw) = match payload {
        [kind, count, raw @ ..] => (*kind % 4, u32::from(*count), raw),
        _ => (1, 0, payload),
    };
    let mut file = Vec::new();
    Writer::new(&mut file, &header(Arch::X86_64, "h".into())).expect("writing to memory");
    // The chunk layout of format/mod.rs, written by hand because the Writer only frames
    // records it encoded itself.
    let stored = zstd::bulk::compress(raw, 1).expect("compressing in memory");
    file.extend_from_slice(CHUNK_MAGIC);
    file.extend_from_slice(&[kind, 0, 0, 0]);
    file.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    file.extend_from_slice(&(stored.len() as u32).to_le_bytes());
    file.extend_from_slice(&count.to_le_bytes());
    file.extend_from_slice(&crc32fast::hash(&stored).to_le_bytes());
    file.extend_from_slice(&stored);
    file
}

/// Writes the records `input` describes, reads them back and dumps them.
fn round_trip(input: &[u8]) {
    let mut u = Unstructured::new(input);
    let arch = *u.choose(&Arch::ALL).unwrap_or(&Arch::X86_64);
    let decoder = &DECODERS[Arch::ALL
        .iter()
        .position(|&a| a == arch)
        .expect("one of ALL")];
    let numbers: Vec<u32> = SyscallTable::of(arch).iter().map(|(nr, _)| nr).collect();
    let hostname = String::from_utf8_lossy(u.bytes(4).unwrap_or_default()).into_owned();
    let header = header(arch, hostname);

    let mut file = Vec::new();
    let mut writer = Writer::new(&mut file, &header).expect("writing to memory");
    let mut written = Vec::new();
    while written.len() < 64 && !u.is_empty() {
        let Ok(record) = record(&mut u, &numbers, decoder) else {
            break;
        };
        writer.push(&record).expect("writing to memory");
        written.push(record);
        if u.ratio(1, 8).unwrap_or(false) {
            writer.flush_chunk().expect("writing to memory");
        }
    }
    // Either a finished file, or what a killed recorder leaves: its complete chunks.
    let summary = if u.arbitrary().unwrap_or(true) {
        let summary = Summary {
            records: writer.records(),
            lost_records_per_cpu: vec![u64::from(u.arbitrary::<u32>().unwrap_or(0)); 2],
            exit_status: u.arbitrary().unwrap_or(None),
            ..Default::default()
        };
        writer.finish(&summary).expect("writing to memory");
        Some(summary)
    } else {
        writer.flush_chunk().expect("writing to memory");
        drop(writer);
        None
    };

    let mut reader = Reader::new(&file[..]).expect("a file the Writer wrote");
    assert_eq!(reader.header(), &header);
    let mut read = Vec::new();
    while let Some(chunk) = reader.next_chunk().expect("a file the Writer wrote") {
        if let Chunk::Records(mut records) = chunk {
            read.append(&mut records);
        }
    }
    for record in &mut read {
        if let Record::Syscall(e) = record {
            e.captures.iter_mut().for_each(|c| c.id = None);
        }
    }
    assert_eq!(read, written);
    assert_eq!(reader.summary(), summary.as_ref());
    dump_both(&file);
}

/// One record the recorder could have written.
fn record(u: &mut Unstructured<'_>, numbers: &[u32], decoder: &Decoder) -> ArbitraryResult<Record> {
    let cpu = u.int_in_range(0..=3)?;
    let seq = u.arbitrary()?;
    let ts_ns = u.arbitrary()?;
    let pid = u.arbitrary()?;
    let tid = u.arbitrary()?;
    Ok(match u.int_in_range(0..=9)? {
        0 => {
            // Loss ranges are never empty, and their end is a u64 (see drain.rs).
            let count = u.int_in_range(1..=u64::MAX)?;
            let first_seq = u.int_in_range(0..=u64::MAX - count)?;
            Record::Lost {
                cpu,
                first_seq,
                count,
                ts_ns,
            }
        }
        1 => {
            let kind = match u.int_in_range(0..=3)? {
                0 => TaskEventKind::Exit {
                    code: u.arbitrary()?,
                },
                1 => TaskEventKind::Fork {
                    child_tid: u.arbitrary()?,
                    child_pid: u.arbitrary()?,
                },
                2 => TaskEventKind::Exec {
                    old_tid: u.arbitrary()?,
                },
                _ => TaskEventKind::Rename { comm: comm(u)? },
            };
            Record::Task(TaskEvent {
                cpu,
                seq,
                ts_ns,
                pid,
                tid,
                kind,
            })
        }
        _ => {
            let nr = match u.int_in_range(0..=15)? {
                0 => u.arbitrary()?,
                1 => syscord_common::NO_SYSCALL,
                _ => *u.choose(numbers)?,
            };
            let returned = u.ratio(15, 16)?;
            let ret = if u.ratio(1, 4)? {
                -u.int_in_range(1..=4200)?
            } else {
                u.arbitrary()?
            };
            let mut captures = Vec::new();
            // Mostly the captures the handler asks for, by name, so its decoding of them
            // runs; sometimes one it does not know.
            for spec in decoder.handler(nr).map_or(&[][..], |h| h.captures) {
                if u.ratio(3, 4)? {
                    captures.push(capture(u, spec.name.to_owned())?);
                }
            }
            if u.ratio(1, 16)? {
                let len = u.int_in_range(0..=8)?;
                let name = String::from_utf8_lossy(u.bytes(len)?).into_owned();
                captures.push(capture(u, name)?);
            }
            Record::Syscall(SyscallEvent {
                returned,
                rule_flags: u.arbitrary()?,
                cpu,
                seq,
                ts_ns,
                pid,
                tid,
                nr,
                ret,
                ret_addr: u.arbitrary()?,
                args: u.arbitrary()?,
                comm: comm(u)?,
                captures,
                duration_ns: if returned { u.arbitrary()? } else { None },
            })
        }
    })
}

/// A thread name as the kernel keeps it: at most 15 bytes.
fn comm(u: &mut Unstructured<'_>) -> ArbitraryResult<Vec<u8>> {
    let len = u.int_in_range(0..=15)?;
    Ok(u.bytes(len)?.to_vec())
}

fn capture(u: &mut Unstructured<'_>, name: String) -> ArbitraryResult<Capture> {
    let len = u.int_in_range(0..=600)?;
    let bytes = u.bytes(len)?.to_vec();
    let truncated = u.ratio(1, 4)?;
    // The original length: what was kept, or more when the capture was cut at the snap
    // length; any value in a few cases, since decoders must not trust it.
    let len = match u.int_in_range(0..=7)? {
        0 => u.arbitrary()?,
        1..=2 => bytes.len() as u64 + u.int_in_range(0..=4096)?,
        _ => bytes.len() as u64,
    };
    Ok(Capture {
        // Records chunks carry names; the reader finds the ids (compared without them).
        id: None,
        name,
        len,
        truncated,
        bytes,
    })
}
