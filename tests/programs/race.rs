//! The thesis's case study (its Figure 2): a data race on a shared buffer that a syscall
//! fills.
//!
//! Thread 1 reads from a pipe into a 64-byte shared buffer. Thread 2 measures the string in
//! the buffer and, when it is shorter than 15, copies it into a 15-byte buffer, adding the
//! length to a total. In the first round thread 2's check runs before thread 1's read and
//! its copy after (forced here with barriers, where the thesis waited for an unlucky
//! schedule): the copy gets the 25-byte string read in between, 10 bytes too many. The
//! second round has no race: a 6-byte string. Like the thesis's, the program then fails its
//! assertion `total < 30`, and only the content of the first read explains why. (It does
//! not overflow for real: it counts what strcpy would have copied.)

use std::{
    sync::{Arc, Barrier, Mutex},
    thread,
};

const LONG: &[u8] = b"1234567890123456789012345";
const SHORT: &[u8] = b"123456";

fn strlen(buf: &[u8]) -> usize {
    buf.iter().position(|&b| b == 0).unwrap_or(buf.len())
}

fn send(fd: i32, data: &[u8]) {
    // SAFETY: writing a valid buffer to our pipe.
    let n = unsafe { libc::write(fd, data.as_ptr().cast(), data.len()) };
    assert_eq!(n, data.len() as isize);
}

fn main() {
    let mut fds = [0i32; 2];
    // SAFETY: fds has room for two descriptors.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    let (read_end, write_end) = (fds[0], fds[1]);

    let big_buf = Arc::new(Mutex::new([0u8; 64]));
    let step = Arc::new(Barrier::new(2));

    // Thread 1: read(fd, big_buf, 64), once per round.
    let reader = {
        let (big_buf, step) = (big_buf.clone(), step.clone());
        thread::spawn(move || {
            for _ in 0..2 {
                step.wait(); // thread 2 may go on / the data is in the pipe
                let mut shared = big_buf.lock().unwrap();
                // SAFETY: reading at most 64 bytes into the 64-byte buffer.
                let n = unsafe { libc::read(read_end, shared.as_mut_ptr().cast(), 64) };
                assert!(n > 0 && n < 64);
                shared[n as usize] = 0;
                drop(shared);
                step.wait(); // the read is done
            }
        })
    };

    // Thread 2.
    let mut total = 0usize;
    send(write_end, LONG);
    // round 1: check, then the read happens, then the copy
    let len = strlen(&big_buf.lock().unwrap()[..]);
    step.wait();
    step.wait();
    if len < 15 {
        // strcpy(buf, big_buf) copies what is there now, not what was checked
        let copied = strlen(&big_buf.lock().unwrap()[..]);
        eprintln!("sc-race: checked {len} bytes, copied {copied} into buf[15]");
        total += copied;
    }
    // round 2: the read, then the check and the copy
    send(write_end, SHORT);
    step.wait();
    step.wait();
    let len = strlen(&big_buf.lock().unwrap()[..]);
    if len < 15 {
        total += len;
    }
    reader.join().unwrap();
    assert!(total < 30, "assertion total < 30 failed: total = {total}");
}
