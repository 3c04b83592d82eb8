//! The memory syscord captures equals what the program itself saw: file content (read,
//! pread64, readv), random bytes, stat and statx structs, pipe descriptors, socket addresses,
//! timespecs, paths; truncated at the snap length; nothing for a failed call.

mod common;

use common::{Recording, Scratch, record};
use serde_json::Value;
use syscord_tests::{capture, check_effects, effects_pairs};

const EFFECTS: &str = env!("CARGO_BIN_EXE_sc-effects");
const REQUESTS: &str = env!("CARGO_BIN_EXE_sc-requests");

fn calls(rec: &Recording) -> Vec<(Value, Value)> {
    assert!(
        rec.output.status.success(),
        "record failed: {}",
        rec.stderr()
    );
    assert_eq!(rec.lost(), 0, "{}", rec.stderr());
    effects_pairs(&rec.stdout(), &rec.records())
}

#[test]
fn captured_memory_equals_what_the_program_saw() {
    let scratch = Scratch::new("captures");
    let dir = scratch.path("");
    let rec = record(&scratch, "effects", &[], &[EFFECTS, dir.to_str().unwrap()]);
    let pairs = calls(&rec);
    let checked = check_effects(&pairs, 256, false);
    // read, pread64, readv, fstat, statx, getrandom, pipe2, clock_gettime, getcwd,
    // getsockname, accept4, recvfrom
    assert_eq!(checked, 12);
    // the read of 400 bytes was cut at the default 256
    let read = pairs
        .iter()
        .find(|(_, r)| r["syscall"] == "read" && r["ret"] == 400)
        .unwrap();
    assert_eq!(capture(&read.1, "buf").unwrap()["truncated"], true);
}

#[test]
fn snap_length_truncates_and_keeps_the_original_length() {
    let scratch = Scratch::new("snaplen");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["-s", "16"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    let pairs = calls(&rec);
    assert_eq!(check_effects(&pairs, 16, false), 12);
}

#[test]
fn write_content_is_captured_on_request() {
    let scratch = Scratch::new("writes");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["--capture-writes", "--full"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    let pairs = calls(&rec);
    // 13: the written "ping" as well
    assert_eq!(check_effects(&pairs, 32 * 1024, true), 13);
}

#[test]
fn registers_only_captures_nothing() {
    let scratch = Scratch::new("nodata");
    let dir = scratch.path("");
    let rec = record(
        &scratch,
        "effects",
        &["--no-data"],
        &[EFFECTS, dir.to_str().unwrap()],
    );
    for (_, recorded) in calls(&rec) {
        // execve's path and argv come from the new image, not from a capture rule
        assert_eq!(recorded["data"].as_array().unwrap().len(), 0, "{recorded}");
    }
}

#[test]
fn request_captures_equal_what_the_program_saw() {
    let scratch = Scratch::new("requests");
    let lock = scratch.path("locked");
    let rec = record(
        &scratch,
        "requests",
        &[],
        &[REQUESTS, lock.to_str().unwrap()],
    );
    let pairs = calls(&rec);
    syscord_tests::check_requests(&pairs);
    let text = common::dump_text(&rec);
    for line in [
        ", TIOCGWINSZ, {ws_row=24, ws_col=80, ws_xpixel=640, ws_ypixel=480}) = 0",
        ", FIONREAD, [6]) = 0",
        ", SIOCGIFINDEX, {ifr_name=\"lo\", ifr_ifindex=1}) = 0",
        "prctl(PR_GET_NAME, \"sc-requests\", ",
        "prctl(PR_GET_PDEATHSIG, [1], ",
        ", F_GETLK, {l_type=F_WRLCK, l_whence=SEEK_SET, l_start=0, l_len=1, l_pid=",
        "keyctl(KEYCTL_DESCRIBE, ",
        ", \"user;0;0;3f010000;syscord-test\", 0x80, 0x0) = 31",
        "quotactl(QCMD(Q_SETQUOTA, GRPQUOTA), \"/dev/null\", 1000, {dqb_bhardlimit=1, dqb_bsoftlimit=2, dqb_curspace=3, dqb_ihardlimit=4, dqb_isoftlimit=5, dqb_curinodes=6, dqb_btime=7, dqb_itime=8, dqb_valid=63}) = -1 ",
        "quotactl(QCMD(Q_SETINFO, PRJQUOTA), \"/dev/null\", 0, {dqi_bgrace=604800, dqi_igrace=86400, dqi_flags=0, dqi_valid=3}) = -1 ",
        // Too small a buffer: the kernel copied nothing.
        ", \"\", 0x8, 0x0) = 16",
        ", \"\\x30\\x31\\x32\\x33\\x34\\x35\\x36\\x37\\x38\\x39\\x61\\x62\\x63\\x64\\x65\\x66\", 0x20, 0x0) = 16",
    ] {
        assert!(text.contains(line), "no {line:?} in {text}");
    }
}
