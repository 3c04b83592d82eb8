//! Reading recordings must never panic, whatever the bytes: every input ends in records and a
//! clean end, or in a `FormatError`.
//!
//! The first byte of an input chooses how the rest is used, because a file's checksums and
//! compression would otherwise stop nearly every mutation before the record decoder:
//!
//! - `0` (mod 3): the rest is a file, dumped as `syscord dump` does, text and JSON. This fuzzes
//!   the header and chunk framing (truncation, lengths, magic, version, checksums).
//! - `1`: the rest chooses kernel records (syscall numbers of the architecture, arguments,
//!   captures of the handler's ids, sequence gaps, task events, watermarks); they are written
//!   in kernel chunks with the real `Writer`, read back, compared with what was written, and
//!   dumped. This fuzzes the handlers' decoding of captured memory with well-framed files.
//! - `2`: the rest is the uncompressed payload of one chunk, framed here with a valid checksum.
//!   This fuzzes the record decoder (varints, lengths, tags) on hostile payloads.

#![no_main]

use std::{collections::BTreeSet, io::Cursor, sync::LazyLock};

use libfuzzer_sys::{
    arbitrary::{Result as ArbitraryResult, Unstructured},
    fuzz_target,
};
use syscord_arch::{Arch, SyscallTable};
use syscord_handlers::decode::Decoder;
use syscord_recording::{
    dump::{DumpFormat, dump_from},
    format::{
        BuildId, CHUNK_MAGIC, Capture, Chunk, ExecImage, Executable, ExecutableId, Header, Reader,
        Record, SendResult, SignalAction, Summary,
        SyscallEvent, TaskEvent, TaskEventKind, Writer, kernel_records,
    },
};

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
        ring_publish: String::new(),
        exec_argv: String::new(),
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

/// Writes the kernel records `input` describes as the recorder would (in kernel chunks, each
/// CPU's records in sequence order, with gaps, thread names and watermarks), reads them back,
/// compares them with what was written, and dumps them.
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
    let cpus = header.cpus as usize;

    let mut file = Vec::new();
    let mut writer = Writer::new(&mut file, &header).expect("writing to memory");
    // What the reader must give back: the records, and a loss for each gap.
    let mut expected = Vec::new();
    let mut next_seq = vec![1u64; cpus];
    let mut last_ts = 0;
    // Threads whose name a task event may have changed: their names are not compared.
    let mut renamed = BTreeSet::new();
    let mut written = 0;
    while written < 64 && !u.is_empty() {
        let mut records = Vec::new();
        for _ in 0..u.int_in_range(1..=8).unwrap_or(1) {
            let cpu = u.int_in_range(0..=cpus - 1).unwrap_or(0);
            let gap = if u.ratio(1, 8).unwrap_or(false) {
                u.int_in_range(1..=1000).unwrap_or(1)
            } else {
                0
            };
            let seq = next_seq[cpu] + gap;
            let Ok(record) = record(&mut u, &numbers, decoder, cpu as u32, seq) else {
                break;
            };
            next_seq[cpu] = seq + 1;
            let ts_ns = record_ts(&record);
            last_ts = last_ts.max(ts_ns);
            if gap > 0 {
                expected.push(Record::Lost {
                    cpu: cpu as u32,
                    first_seq: seq - gap,
                    count: gap,
                    ts_ns,
                });
            }
            if let Record::Task(t) = &record {
                renamed.insert(t.tid);
                if let TaskEventKind::Fork { child_tid, .. } = t.kind {
                    renamed.insert(child_tid);
                }
            }
            records.push(record);
        }
        if records.is_empty() {
            break;
        }
        let mut chunk = kernel_records::chunk_of(&records);
        if let Ok(Some(ts)) = u.arbitrary::<Option<u64>>() {
            chunk.push_watermark(ts);
        }
        writer.write_kernel(&chunk).expect("writing to memory");
        written += records.len();
        expected.extend(
            records
                .into_iter()
                .map(|r| with_captures_as_read(r, decoder)),
        );
    }
    // Either a finished file, or what a killed recorder leaves: its complete chunks.
    let summary = if u.arbitrary().unwrap_or(true) {
        // The numbers given out after the last record read were lost at the end.
        let mut last_seq_per_cpu = Vec::new();
        for (cpu, next) in next_seq.iter().enumerate() {
            let tail = u.int_in_range(0..=3).unwrap_or(0);
            if tail > 0 {
                expected.push(Record::Lost {
                    cpu: cpu as u32,
                    first_seq: *next,
                    count: tail,
                    ts_ns: last_ts,
                });
            }
            last_seq_per_cpu.push(next - 1 + tail);
        }
        let summary = Summary {
            records: writer.records(),
            lost_records_per_cpu: vec![u64::from(u.arbitrary::<u32>().unwrap_or(0)); cpus],
            last_seq_per_cpu,
            exit_status: u.arbitrary().unwrap_or(None),
            ..Default::default()
        };
        writer.finish(&summary).expect("writing to memory");
        Some(summary)
    } else {
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
    assert_eq!(reader.summary(), summary.as_ref());
    let comparable = |mut records: Vec<Record>| {
        for record in &mut records {
            if let Record::Syscall(e) = record
                && renamed.contains(&e.tid)
            {
                e.comm.clear();
            }
        }
        records.sort_by_key(|r| match r {
            Record::Syscall(e) => (e.cpu, e.seq),
            Record::Task(t) => (t.cpu, t.seq),
            Record::Lost { cpu, first_seq, .. } => (*cpu, *first_seq),
        });
        records
    };
    assert_eq!(comparable(read), comparable(expected));
    dump_both(&file);
}

fn record_ts(record: &Record) -> u64 {
    match record {
        Record::Syscall(e) => e.ts_ns,
        Record::Task(t) => t.ts_ns,
        Record::Lost { ts_ns, .. } => *ts_ns,
    }
}

/// `record` as the reader gives it back: each capture named after the syscall's capture of
/// its id (its handler's or a request's), or `captureN` when it has none of that id.
fn with_captures_as_read(mut record: Record, decoder: &Decoder) -> Record {
    if let Record::Syscall(e) = &mut record {
        let specs = decoder.captures(e.nr);
        for c in &mut e.captures {
            let id = c.id.expect("generated with an id");
            match specs.get(usize::from(id)) {
                Some(spec) => c.name = spec.name(),
                None => {
                    c.id = None;
                    c.name = format!("capture{id}");
                }
            }
        }
    }
    record
}

/// An exec image as the kernel could have recorded it (its build-id is a chunk item of the
/// recorder's, which this record has none of).
fn exec_image(u: &mut Unstructured<'_>) -> ArbitraryResult<ExecImage> {
    let mut short = |u: &mut Unstructured<'_>, max: usize| -> ArbitraryResult<Vec<u8>> {
        let len = u.int_in_range(0..=max)?;
        Ok(u.bytes(len)?.to_vec())
    };
    let executable = if u.arbitrary()? {
        Some(Executable {
            id: ExecutableId {
                dev: u.arbitrary()?,
                ino: u.arbitrary()?,
                size: u.arbitrary()?,
                mtime_sec: u.arbitrary()?,
                mtime_nsec: u.arbitrary()?,
            },
            mode: u.arbitrary()?,
        })
    } else {
        None
    };
    let pairs = u.int_in_range(0..=31)?;
    let mut auxv = Vec::with_capacity(pairs);
    for _ in 0..pairs {
        // Type 0 is AT_NULL, the end.
        auxv.push((u.int_in_range(1..=u64::MAX)?, u.arbitrary()?));
    }
    Ok(ExecImage {
        executable,
        build_id: BuildId::NotRecorded,
        auxv,
        random: if u.arbitrary()? { Some(u.arbitrary()?) } else { None },
        platform: short(u, 255)?,
        execfn: short(u, 255)?,
        cwd: short(u, 256)?,
        cwd_whole: u.arbitrary()?,
        env: if u.arbitrary()? {
            let env = short(u, 512)?;
            let full = u.int_in_range(env.len() as u32..=u32::MAX)?;
            Some((env, full))
        } else {
            None
        },
    })
}

/// One record of `cpu`, numbered `seq`, that the eBPF program could have written (an exec
/// aside: it needs its execve, which the seeds have).
fn record(
    u: &mut Unstructured<'_>,
    numbers: &[u32],
    decoder: &Decoder,
    cpu: u32,
    seq: u64,
) -> ArbitraryResult<Record> {
    let ts_ns: u64 = u.arbitrary()?;
    // A few threads, so that names repeat.
    let tid = u.int_in_range(1..=4)?;
    let pid = if u.ratio(3, 4)? { tid } else { 1 };
    Ok(if u.ratio(1, 8)? {
        let kind = match u.int_in_range(0..=5)? {
            0 => TaskEventKind::Exit {
                code: u.arbitrary()?,
            },
            1 => TaskEventKind::Fork {
                child_tid: u.int_in_range(1..=8)?,
                child_pid: u.arbitrary()?,
            },
            2 => TaskEventKind::SignalDelivered {
                signo: u.int_in_range(1..=64)?,
                siginfo: u.bytes(48)?.to_vec(),
                action: match u.int_in_range(0..=2)? {
                    0 => SignalAction::Default,
                    1 => SignalAction::Ignore,
                    _ => SignalAction::Handler(u.int_in_range(2..=u64::MAX)?),
                },
                sa_flags: u.arbitrary()?,
                group_exit: false,
            },
            3 => TaskEventKind::SignalSent {
                signo: u.int_in_range(1..=64)?,
                siginfo: u.bytes(48)?.to_vec(),
                sender_pid: u.arbitrary()?,
                sender_tid: u.arbitrary()?,
                sender_comm: comm(u)?.into_iter().filter(|&b| b != 0).collect(),
                to_process: u.arbitrary()?,
                result: SendResult::from_kernel(u.int_in_range(0..=4)?),
            },
            4 => TaskEventKind::ExecImage(Box::new(exec_image(u)?)),
            // The kernel's names end at their first NUL.
            _ => TaskEventKind::Rename {
                comm: comm(u)?.into_iter().filter(|&b| b != 0).collect(),
            },
        };
        Record::Task(TaskEvent {
            cpu,
            seq,
            ts_ns,
            pid,
            tid,
            kind,
        })
    } else {
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
        // Mostly the captures the handler asks for, so its decoding of them runs;
        // sometimes one of an id it does not have.
        let specs = decoder.captures(nr).len().min(255);
        for id in 0..specs {
            if u.ratio(3, 4)? {
                captures.push(capture(u, id as u8)?);
            }
        }
        if u.ratio(1, 16)? {
            let id = u.int_in_range(specs as u8..=255)?;
            captures.push(capture(u, id)?);
        }
        // Arguments past the last that is not 0 are not in a kernel record; the reader
        // gives 0 for them.
        let args: [u64; 6] = u.arbitrary()?;
        Record::Syscall(SyscallEvent {
            returned,
            rule_flags: u32::from(u.arbitrary::<u8>()?),
            cpu,
            seq,
            ts_ns,
            pid,
            tid,
            nr,
            ret,
            ret_addr: u.arbitrary()?,
            args,
            // The thread's name is in the chunk's names, the same for all its records.
            comm: format!("t{tid}").into_bytes(),
            captures,
            // The entry time is in the record: after 0, at or before the exit.
            duration_ns: if returned && ts_ns > 0 && u.arbitrary()? {
                Some(u.int_in_range(0..=ts_ns - 1)?)
            } else {
                None
            },
        })
    })
}

/// A thread name as the kernel keeps it: at most 15 bytes.
fn comm(u: &mut Unstructured<'_>) -> ArbitraryResult<Vec<u8>> {
    let len = u.int_in_range(0..=15)?;
    Ok(u.bytes(len)?.to_vec())
}

fn capture(u: &mut Unstructured<'_>, id: u8) -> ArbitraryResult<Capture> {
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
        id: Some(id),
        // The reader names it (see with_captures_as_read).
        name: String::new(),
        len,
        truncated,
        bytes,
    })
}
