//! `syscord dump` and `syscord stats` on damaged and foreign files: every problem is one clear
//! line on stderr and a failed exit, never a panic; a file cut after whole chunks shows them.
//!
//! The recordings are written here, by the layout recording/src/format/ documents, rather than by
//! `syscord record`: these tests need neither root nor eBPF, and they check that the
//! documented format is the one syscord reads.

mod common;

use std::{
    ops::Range,
    path::Path,
    process::{Command, Output},
};

use common::{Scratch, syscord, text};
use serde_json::json;

const X86_64_GETPID: u64 = 39;
const X86_64_OPENAT: u64 = 257;
const X86_64_EXIT_GROUP: u64 = 231;
const AT_FDCWD: i64 = -100;
const ENOENT: i64 = 2;

/// A recording and where its parts are, to cut and damage it precisely.
struct Recording {
    bytes: Vec<u8>,
    header: Range<usize>,
    /// The two record chunks, then the end chunk.
    chunks: Vec<Range<usize>>,
}

/// getpid and a failed openat in a first chunk, exit_group and the thread's exit in a
/// second, then the end chunk.
fn recording() -> Recording {
    let header = json!({
        "arch": "x86_64",
        "kernel_release": "6.1.0-test",
        "hostname": "test",
        "start_wall_ns": 1_700_000_000_000_000_000u64,
        "start_boot_ns": 1_000_000_000u64,
        "snap_len": 256,
        "command": ["demo"],
        "syscord_version": "0.1.0",
        "cpus": 1,
    });
    let json = serde_json::to_vec(&header).unwrap();
    let mut bytes = b"SYSCORD\0".to_vec();
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&0u16.to_le_bytes());
    bytes.extend_from_slice(&(json.len() as u32).to_le_bytes());
    bytes.extend_from_slice(&json);
    bytes.extend_from_slice(&crc32(&json).to_le_bytes());
    let header = 0..bytes.len();

    let ts = 1_001_000_000u64;
    let mut first = Vec::new();
    syscall(&mut first, 1, 1, ts, X86_64_GETPID, [0; 6], 42, &[]);
    let openat_args = [AT_FDCWD as u64, 0x1000, 0, 0, 0, 0];
    let path: &[u8] = b"/nonexistent\0";
    syscall(
        &mut first,
        1,
        2,
        1_000,
        X86_64_OPENAT,
        openat_args,
        -ENOENT,
        &[("pathname", path)],
    );
    let mut second = Vec::new();
    syscall(
        &mut second,
        2,
        3,
        ts + 2_000,
        X86_64_EXIT_GROUP,
        [0; 6],
        0,
        &[],
    );
    // The thread's exit: tag, cpu, seq, time delta, pid, tid, wait status.
    second.push(4);
    for v in [0, 4, zigzag(1_000), 42, 42, 0] {
        varint(&mut second, v);
    }
    let summary = json!({
        "records": 3,
        "lost_records_per_cpu": [0],
        "lost_tasks": 0,
        "end_wall_ns": 1_700_000_000_010_000_000u64,
        "end_boot_ns": ts + 10_000,
        "exit_status": 0,
    });

    let mut chunks = Vec::new();
    for (kind, count, raw) in [
        (1, 2, first),
        (1, 2, second),
        (2, 0, serde_json::to_vec(&summary).unwrap()),
    ] {
        let start = bytes.len();
        chunk(&mut bytes, kind, count, &raw);
        chunks.push(start..bytes.len());
    }
    Recording {
        bytes,
        header,
        chunks,
    }
}

/// A syscall record of thread 42 ("demo") on CPU 0. Tag 2 (exit_group never returns),
/// else 1; `ts_delta` from the previous record of the chunk.
#[allow(clippy::too_many_arguments)]
fn syscall(
    out: &mut Vec<u8>,
    tag: u8,
    seq: u64,
    ts_delta: u64,
    nr: u64,
    args: [u64; 6],
    ret: i64,
    captures: &[(&str, &[u8])],
) {
    out.push(tag);
    for v in [
        0,
        0,
        seq,
        zigzag(ts_delta as i64),
        42,
        42,
        nr,
        zigzag(ret),
        0x40_1000,
    ] {
        varint(out, v);
    }
    for a in args {
        varint(out, a);
    }
    // The thread name in full each time: the first record of each chunk must carry it.
    out.push(4);
    out.extend_from_slice(b"demo");
    varint(out, captures.len() as u64);
    for (name, bytes) in captures {
        out.push(name.len() as u8);
        out.extend_from_slice(name.as_bytes());
        varint(out, bytes.len() as u64); // original length
        out.push(0); // not truncated
        varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}

fn chunk(out: &mut Vec<u8>, kind: u8, count: u32, raw: &[u8]) {
    let stored = zstd_stored(raw);
    out.extend_from_slice(b"SCHK");
    out.extend_from_slice(&[kind, 0, 0, 0]);
    out.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    out.extend_from_slice(&(stored.len() as u32).to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&crc32(&stored).to_le_bytes());
    out.extend_from_slice(&stored);
}

/// A zstd frame (RFC 8878) holding `raw` as one uncompressed block: any zstd decoder reads
/// it, and it needs no compressor here.
fn zstd_stored(raw: &[u8]) -> Vec<u8> {
    assert!(raw.len() < 128 << 10, "one block holds at most 128 KiB");
    let mut frame = 0xFD2F_B528u32.to_le_bytes().to_vec();
    // Frame header descriptor: single segment, 4-byte content size.
    frame.push(0b1010_0000);
    frame.extend_from_slice(&(raw.len() as u32).to_le_bytes());
    // Block header: last block, type raw, size.
    let block = ((raw.len() as u32) << 3) | 1;
    frame.extend_from_slice(&block.to_le_bytes()[..3]);
    frame.extend_from_slice(raw);
    frame
}

fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// CRC-32 (IEEE 802.3), as zlib computes it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn run(command: &str, args: &[&str], file: &Path) -> Output {
    Command::new(syscord())
        .arg(command)
        .args(args)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("run syscord {command}: {e}"))
}

/// The commands and formats every file is read with.
const READS: [(&str, &[&str]); 4] = [
    ("dump", &[]),
    ("dump", &["--format", "json"]),
    ("stats", &[]),
    ("stats", &["--format", "json"]),
];

/// Each way of reading `bytes` fails with one line on stderr that contains `expected`.
/// Returns the standard outputs of the text dump and the text stats.
fn fails(scratch: &Scratch, name: &str, bytes: &[u8], expected: &str) -> (String, String) {
    let path = scratch.path(name);
    std::fs::write(&path, bytes).unwrap();
    let mut stdouts = Vec::new();
    for (command, args) in READS {
        let out = run(command, args, &path);
        let stderr = text(&out.stderr);
        let what = format!("{name}: syscord {command} {args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(1), "{what}");
        assert!(!stderr.contains("panicked"), "{what}");
        assert_eq!(stderr.lines().count(), 1, "{what}");
        assert!(
            stderr.starts_with(&format!("syscord: cannot read {}: ", path.display())),
            "{what}"
        );
        assert!(stderr.contains(expected), "{what}");
        stdouts.push(text(&out.stdout));
    }
    let mut stdouts = stdouts.into_iter();
    let dump = stdouts.next().unwrap();
    let stats = stdouts.nth(1).unwrap();
    (dump, stats)
}

#[test]
fn the_written_recording_reads_whole() {
    let scratch = Scratch::new("reader-whole");
    let path = scratch.path("whole.rec");
    std::fs::write(&path, recording().bytes).unwrap();
    let out = run("dump", &[], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stderr), "");
    let lines: Vec<String> = text(&out.stdout).lines().map(str::to_owned).collect();
    let calls: Vec<&str> = lines
        .iter()
        .filter_map(|l| l.split_once(" 42/42 demo ").map(|(_, call)| call))
        .collect();
    assert_eq!(
        calls,
        [
            "getpid() = 42",
            "openat(AT_FDCWD, \"/nonexistent\", O_RDONLY, 0) = -1 ENOENT (No such file or directory)",
            "exit_group(0) = ?",
        ],
        "{lines:?}"
    );
    assert!(
        lines
            .last()
            .unwrap()
            .ends_with(" 42/42 +++ exited with 0 +++"),
        "{lines:?}"
    );
    let json = run("dump", &["--format", "json"], &path);
    assert!(json.status.success(), "{}", text(&json.stderr));
    assert_eq!(
        text(&json.stdout).lines().count(),
        4,
        "3 syscalls and the exit"
    );
}

#[test]
fn empty_random_and_foreign_files_are_refused() {
    let scratch = Scratch::new("reader-foreign");
    fails(
        &scratch,
        "empty",
        &[],
        "recording is truncated: the file is empty",
    );
    // xorshift: the same "random" bytes on every run.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let random: Vec<u8> = (0..4096)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    fails(&scratch, "random", &random, "not a syscord recording");
    fails(
        &scratch,
        "text",
        b"#!/bin/sh\necho 'not a recording'\n",
        "not a syscord recording",
    );
    fails(&scratch, "short-text", b"hi\n", "not a syscord recording");
    let mut newer = recording().bytes;
    newer[8..10].copy_from_slice(&99u16.to_le_bytes());
    fails(
        &scratch,
        "version-99",
        &newer,
        "recording format version 99 is not supported",
    );
    // A directory opens like a file; reading it is what fails.
    for (command, args) in READS {
        let out = run(command, args, &scratch.path(""));
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{command}: {stderr}");
        assert_eq!(stderr.lines().count(), 1, "{command}: {stderr}");
        assert!(stderr.contains("Is a directory"), "{command}: {stderr}");
    }
}

#[test]
fn a_cut_file_shows_its_whole_chunks_then_names_the_cut() {
    let scratch = Scratch::new("reader-cut");
    let rec = recording();
    let bytes = &rec.bytes;
    let (first, second, end) = (&rec.chunks[0], &rec.chunks[1], &rec.chunks[2]);
    for cut in [4, 12, 16, rec.header.end - 1] {
        fails(
            &scratch,
            &format!("header-{cut}"),
            &bytes[..cut],
            "recording is truncated: the file ends inside its header",
        );
    }
    let incomplete = "recording is truncated: the last chunk is incomplete";
    let (dump, _) = fails(
        &scratch,
        "chunk-head",
        &bytes[..first.start + 10],
        incomplete,
    );
    assert_eq!(dump, "", "nothing whole to show");
    for (name, cut) in [
        ("second-head", second.start + 3),
        ("second-payload", second.end - 5),
    ] {
        let (dump, stats) = fails(&scratch, name, &bytes[..cut], incomplete);
        assert!(dump.contains("getpid() = 42"), "{name}: {dump}");
        assert!(dump.contains("openat("), "{name}: {dump}");
        assert!(!dump.contains("exit_group"), "{name}: {dump}");
        assert!(stats.contains("getpid"), "{name}: {stats}");
    }
    let (dump, _) = fails(&scratch, "end-chunk", &bytes[..end.end - 1], incomplete);
    assert!(dump.contains("exit_group(0) = ?"), "{dump}");

    // Cut between chunks, as a killed recorder leaves it: no error, the records and a note
    // (stats may add its own notes, on what the recording does not measure).
    let path = scratch.path("killed");
    std::fs::write(&path, &bytes[..end.start]).unwrap();
    for (command, args) in READS {
        let out = run(command, args, &path);
        let stderr = text(&out.stderr);
        assert!(out.status.success(), "{command} {args:?}: {stderr}");
        assert!(!stderr.contains("panicked"), "{command} {args:?}: {stderr}");
        let tail_notes = stderr.lines().filter(|l| l.contains("its tail is missing"));
        assert_eq!(tail_notes.count(), 1, "{command} {args:?}: {stderr}");
        if command == "dump" {
            assert_eq!(stderr.lines().count(), 1, "{command} {args:?}: {stderr}");
        }
        assert!(
            text(&out.stdout).contains("exit_group"),
            "{command} {args:?}"
        );
    }
}

#[test]
fn a_flipped_byte_is_corruption_and_what_precedes_it_is_shown() {
    let scratch = Scratch::new("reader-flip");
    let rec = recording();

    let mut in_header = rec.bytes.clone();
    in_header[rec.header.end - 10] ^= 0x20;
    fails(
        &scratch,
        "header",
        &in_header,
        "recording is corrupt: header checksum mismatch",
    );

    let second = &rec.chunks[1];
    let mut in_chunk = rec.bytes.clone();
    in_chunk[second.end - 3] ^= 0x01;
    let (dump, _) = fails(
        &scratch,
        "chunk",
        &in_chunk,
        &format!(
            "recording is corrupt: chunk at byte {}: checksum mismatch",
            second.start
        ),
    );
    assert!(dump.contains("getpid() = 42"), "{dump}");
    assert!(!dump.contains("exit_group"), "{dump}");

    let mut chunk_magic = rec.bytes.clone();
    chunk_magic[second.start] = b'X';
    fails(&scratch, "chunk-magic", &chunk_magic, "bad chunk magic");
}

/// A kernel record of thread 42 on CPU 0, laid out as docs/format.md says: the 32-byte
/// header, then `body`.
fn kernel_record(kind: u16, flags: u16, seq: u64, ts_ns: u64, body: &[u8]) -> Vec<u8> {
    let len = (32 + body.len()).div_ceil(8) * 8;
    let mut out = Vec::new();
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&kind.to_le_bytes());
    out.extend_from_slice(&flags.to_le_bytes());
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&ts_ns.to_le_bytes());
    out.extend_from_slice(&42u32.to_le_bytes());
    out.extend_from_slice(&42u32.to_le_bytes());
    out.extend_from_slice(body);
    out.resize(len, 0);
    out
}

#[test]
fn a_version_2_file_written_from_the_document_reads() {
    let scratch = Scratch::new("reader-v2");
    let mut bytes = recording().bytes[..recording().header.end].to_vec();
    bytes[8] = 2; // version 2: the JSON and its checksum are unchanged
    let ts = 1_001_000_000u64;
    // getpid = 42: no arguments, no captures.
    let mut getpid = Vec::new();
    getpid.extend_from_slice(&(X86_64_GETPID as u32).to_le_bytes());
    getpid.extend_from_slice(&0u32.to_le_bytes()); // data_len
    getpid.extend_from_slice(&42i64.to_le_bytes());
    getpid.extend_from_slice(&0x40_1000u64.to_le_bytes());
    // openat(AT_FDCWD, "/nonexistent", 0, 0) = -ENOENT: a capture, then four arguments.
    let path = b"/nonexistent";
    let mut capture = vec![0u8, 0, 0, 0];
    capture.extend_from_slice(&(path.len() as u32).to_le_bytes());
    capture.extend_from_slice(&(path.len() as u64).to_le_bytes());
    capture.extend_from_slice(path);
    capture.resize(capture.len().div_ceil(8) * 8, 0);
    let mut openat = Vec::new();
    openat.extend_from_slice(&(X86_64_OPENAT as u32).to_le_bytes());
    openat.extend_from_slice(&(capture.len() as u32).to_le_bytes());
    openat.extend_from_slice(&(-ENOENT).to_le_bytes());
    openat.extend_from_slice(&0x40_1000u64.to_le_bytes());
    openat.extend_from_slice(&capture);
    for arg in [AT_FDCWD as u64, 0x1000, 0, 0] {
        openat.extend_from_slice(&arg.to_le_bytes());
    }
    let records = [
        kernel_record(1, 0, 1, ts, &getpid),
        // Four arguments (flag bits 8-10).
        kernel_record(1, 4 << 8, 2, ts + 1_000, &openat),
    ]
    .concat();
    let mut raw = vec![2u8]; // a thread name: pid, tid, length, name
    raw.extend_from_slice(&42u32.to_le_bytes());
    raw.extend_from_slice(&42u32.to_le_bytes());
    raw.push(4);
    raw.extend_from_slice(b"demo");
    raw.push(1); // a span of CPU 0
    raw.extend_from_slice(&0u32.to_le_bytes());
    raw.extend_from_slice(&(records.len() as u32).to_le_bytes());
    raw.extend_from_slice(&records);
    chunk(&mut bytes, 3, 2, &raw);
    // The kernel numbered a third event on CPU 0, lost at the end.
    let summary = json!({
        "records": 2,
        "lost_records_per_cpu": [1],
        "lost_tasks": 0,
        "end_wall_ns": 1_700_000_000_010_000_000u64,
        "end_boot_ns": ts + 10_000,
        "exit_status": 0,
        "last_seq_per_cpu": [3],
    });
    chunk(&mut bytes, 2, 0, &serde_json::to_vec(&summary).unwrap());
    let path_on_disk = scratch.path("v2.rec");
    std::fs::write(&path_on_disk, &bytes).unwrap();

    let out = run("dump", &[], &path_on_disk);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let dump = text(&out.stdout);
    let lines: Vec<&str> = dump.lines().collect();
    assert_eq!(lines.len(), 3, "{dump}");
    assert!(lines[0].ends_with("42/42 demo getpid() = 42"), "{dump}");
    assert!(
        lines[1].ends_with(
            "42/42 demo openat(AT_FDCWD, \"/nonexistent\", O_RDONLY, 0) = -1 ENOENT (No such file or directory)"
        ),
        "{dump}"
    );
    assert!(
        lines[2].ends_with("--- 1 records lost on CPU 0 (sequence 3..3) ---"),
        "{dump}"
    );
    let out = run("dump", &["--format", "json"], &path_on_disk);
    let json: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(json.len(), 3, "{json:?}");
    assert_eq!(
        json[1]["args"],
        json!([AT_FDCWD as u64, 0x1000, 0, 0, 0, 0])
    );
    assert_eq!(json[2]["event"], "lost");
    assert_eq!(json[2]["first_seq"], 3);
    assert_eq!(json[2]["lost"], 1);
}
