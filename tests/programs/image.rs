//! What this program image started with, as the program itself sees it, for comparison with
//! what syscord recorded of its exec: one JSON line with its auxiliary vector (from
//! /proc/self/auxv), the 16 bytes at AT_RANDOM and the AT_PLATFORM and AT_EXECFN strings
//! (through getauxval), its working directory, its executable's inode (stat of
//! /proc/self/exe) and the ELF build-id in it, and its environment.
//!
//! Usage: `sc-image`.

use std::{
    ffi::CStr,
    os::unix::{ffi::OsStrExt, fs::MetadataExt},
};

use serde_json::json;

fn auxv_string(kind: libc::c_ulong) -> String {
    // SAFETY: getauxval reads the process's own auxiliary vector.
    let at = unsafe { libc::getauxval(kind) };
    if at == 0 {
        return String::new();
    }
    // SAFETY: the kernel put a NUL-terminated string there.
    unsafe { CStr::from_ptr(at as *const libc::c_char) }
        .to_string_lossy()
        .into_owned()
}

fn main() {
    let auxv = std::fs::read("/proc/self/auxv").expect("/proc/self/auxv");
    let pairs: Vec<(u64, u64)> = auxv
        .as_chunks::<8>()
        .0
        .as_chunks::<2>()
        .0
        .iter()
        .map(|[kind, value]| (u64::from_le_bytes(*kind), u64::from_le_bytes(*value)))
        .take_while(|&(kind, _)| kind != 0)
        .collect();
    // SAFETY: as above.
    let random = unsafe { libc::getauxval(libc::AT_RANDOM) } as *const [u8; 16];
    // SAFETY: AT_RANDOM points to 16 bytes the kernel wrote.
    let random = syscord_tests::hex(unsafe { &*random });
    let exe = std::fs::metadata("/proc/self/exe").expect("stat /proc/self/exe");
    let env: Vec<String> = std::env::vars_os()
        .map(|(k, v)| {
            let mut s = k.as_bytes().to_vec();
            s.push(b'=');
            s.extend_from_slice(v.as_bytes());
            String::from_utf8_lossy(&s).into_owned()
        })
        .collect();
    let cwd = std::env::current_dir().expect("getcwd");
    println!(
        "{}",
        json!({
            "auxv": pairs,
            "random": random,
            "platform": auxv_string(libc::AT_PLATFORM),
            "execfn": auxv_string(libc::AT_EXECFN),
            "cwd": cwd.to_string_lossy(),
            "executable": {
                "ino": exe.ino(),
                "size": exe.size(),
                "mtime_sec": exe.mtime(),
                "mtime_nsec": exe.mtime_nsec(),
                "mode": format!("{:o}", exe.mode()),
                "dev_major": libc::major(exe.dev()),
                "dev_minor": libc::minor(exe.dev()),
            },
            "build_id": syscord_tests::build_id_of(std::path::Path::new("/proc/self/exe")),
            "env": env,
        })
    );
}
