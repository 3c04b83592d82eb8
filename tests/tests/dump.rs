//! `syscord dump`: readable output for good recordings, clear errors for bad files.

mod common;

use std::process::{Command, Output};

use common::{Scratch, record, syscord};

fn dump(args: &[&str], file: &std::path::Path) -> Output {
    Command::new(syscord())
        .arg("dump")
        .args(args)
        .arg(file)
        .output()
        .expect("run syscord dump")
}

fn text(out: &[u8]) -> String {
    String::from_utf8_lossy(out).into_owned()
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
