//! `syscord dump`: readable output for good recordings, clear errors for bad files.

mod common;

use std::process::{Command, Output};

use common::{Scratch, record, syscord, text};

fn dump(args: &[&str], file: &std::path::Path) -> Output {
    Command::new(syscord())
        .arg("dump")
        .args(args)
        .arg(file)
        .output()
        .expect("run syscord dump")
}

#[test]
fn text_lines_read_like_strace() {
    let scratch = Scratch::new("dump-text");
    let rec = record(
        &scratch,
        "cat",
        &[],
        &["cat", "/nonexistent/syscord-dump-test"],
    );
    assert_eq!(
        rec.output.status.code(),
        Some(1),
        "cat fails: {}",
        rec.stderr()
    );
    let out = dump(&[], &rec.file);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines = text(&out.stdout);
    // time, pid/tid, name, the call, and its failure with errno name and meaning
    let failed_open = lines
        .lines()
        .find(|l| l.contains("openat(") && l.contains("ENOENT"))
        .unwrap_or_else(|| panic!("no failed openat in:\n{lines}"));
    assert!(
        failed_open.ends_with("= -1 ENOENT (No such file or directory)"),
        "{failed_open}"
    );
    let fields: Vec<&str> = failed_open.split_whitespace().collect();
    assert!(
        fields[0].parse::<f64>().is_ok(),
        "time first: {failed_open}"
    );
    let (pid, tid) = fields[1].split_once('/').expect("pid/tid");
    assert!(pid.parse::<u32>().is_ok() && tid.parse::<u32>().is_ok());
    assert_eq!(fields[2], "cat");
    // in time order
    let times: Vec<f64> = lines
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "not in time order");
    assert!(
        lines
            .lines()
            .last()
            .unwrap()
            .contains("+++ exited with 1 +++")
    );
}

#[test]
fn broken_files_give_clear_errors() {
    let scratch = Scratch::new("dump-errors");
    let rec = record(&scratch, "ls", &[], &["ls", "/"]);
    assert!(rec.output.status.success());
    let good = std::fs::read(&rec.file).unwrap();

    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty", vec![], "recording is truncated: the file is empty"),
        (
            "foreign",
            b"root:x:0:0:root:/root:/bin/bash\n".to_vec(),
            "not a syscord recording",
        ),
        (
            "truncated-header",
            good[..20].to_vec(),
            "recording is truncated",
        ),
        (
            "truncated-chunk",
            good[..good.len() - 40].to_vec(),
            "truncated",
        ),
        (
            "flipped",
            {
                let mut b = good.clone();
                let at = b.len() / 2;
                b[at] ^= 0x5a;
                b
            },
            "corrupt",
        ),
    ];
    for (name, bytes, expected) in cases {
        let path = scratch.path(name);
        std::fs::write(&path, bytes).unwrap();
        let out = dump(&[], &path);
        let stderr = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            stderr.starts_with("syscord: cannot read "),
            "{name}: {stderr}"
        );
        assert!(stderr.contains(expected), "{name}: {stderr}");
        assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    }

    let out = dump(&[], &scratch.path("does-not-exist"));
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("No such file or directory"));
}

#[test]
fn a_file_without_its_end_says_the_tail_is_missing() {
    let scratch = Scratch::new("dump-tail");
    let rec = record(&scratch, "ls", &[], &["ls", "/"]);
    let good = std::fs::read(&rec.file).unwrap();
    // Cut the end chunk off exactly: what a recorder killed between two chunks leaves.
    let end_chunk = good
        .windows(4)
        .rposition(|w| w == b"SCHK")
        .expect("an end chunk");
    let path = scratch.path("cut");
    std::fs::write(&path, &good[..end_chunk]).unwrap();
    let out = dump(&[], &path);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("its tail is missing"),
        "{}",
        text(&out.stderr)
    );
    assert!(text(&out.stdout).contains("execve("));
}

#[test]
fn dump_into_a_closed_pipe_is_quiet() {
    let scratch = Scratch::new("dump-pipe");
    let rec = record(&scratch, "ls", &[], &["ls", "-R", "/usr/share/doc"]);
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "{} dump {} | head -1 >/dev/null; echo status=${{PIPESTATUS:-0}}",
            syscord().display(),
            rec.file.display()
        ))
        .output()
        .unwrap();
    assert!(
        !text(&out.stderr).contains("panicked"),
        "{}",
        text(&out.stderr)
    );
    assert!(
        !text(&out.stderr).contains("Broken pipe"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn text_lines_decode_arguments_results_and_structs() {
    let scratch = Scratch::new("dump-decode");
    let rec = record(&scratch, "cat", &[], &["cat", "/proc/self/exe"]);
    let out = dump(&[], &rec.file);
    let text = text(&out.stdout);
    let find = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
            .to_owned()
    };
    // names for constants and flags, the path as a string, a descriptor as result
    let open = find("openat(AT_FDCWD, \"/proc/self/exe\", O_RDONLY");
    assert!(open.ends_with(") = 3"), "{open}");
    // struct fields of fstat/newfstatat
    let stat = find("st_mode=S_IFREG|");
    assert!(stat.contains("st_size="), "{stat}");
    // the content of a read, escaped: an ELF file starts with \x7fELF
    let read = find(" read(");
    assert!(read.contains("\"\\x7fELF"), "{read}");
    assert!(
        read.contains("\"..., "),
        "truncated content is marked: {read}"
    );
    // execve with its path and argv from the new image
    let execve = find("execve(");
    assert!(execve.contains("[\"cat\", \"/proc/self/exe\"]"), "{execve}");
}

#[test]
fn handlers_lists_every_syscall_of_an_architecture() {
    let out = Command::new(syscord())
        .args(["handlers", "--arch", "aarch64", "--format", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let rows: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let table = syscord_arch::SyscallTable::of(syscord_arch::Arch::Aarch64);
    assert_eq!(rows.len(), table.len());
    let openat = rows.iter().find(|r| r["syscall"] == "openat").unwrap();
    assert_eq!(openat["nr"], 56);
    assert_eq!(openat["class"], "RS");
    assert_eq!(openat["captures"][0]["kind"], "string");
    let read = rows.iter().find(|r| r["syscall"] == "read").unwrap();
    assert_eq!(read["class"], "RC");
    assert_eq!(read["captures"][0]["len"], "ret");
    let write = rows.iter().find(|r| r["syscall"] == "write").unwrap();
    assert_eq!(write["class"], "WC");
    assert!(
        write["captures"][0]["when"]
            .as_str()
            .unwrap()
            .starts_with("off")
    );
    // aarch64's table is the 64-bit one
    assert!(
        rows.iter()
            .any(|r| r["syscall"] == "newfstatat" && r["nr"] == 79)
    );
    assert!(
        !rows
            .iter()
            .any(|r| r["syscall"].as_str().unwrap().ends_with("time64"))
    );

    let bad = Command::new(syscord())
        .args(["handlers", "--arch", "sparc"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("unknown architecture 'sparc'"));
}
