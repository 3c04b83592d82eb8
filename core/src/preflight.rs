//! Checks that turn a cryptic kernel refusal into a clear message before anything starts.

use crate::error::{Error, Result};

const CAP_SYS_ADMIN: u32 = 21;
const CAP_PERFMON: u32 = 38;
const CAP_BPF: u32 = 39;

/// The effective capability set of this process.
fn effective_capabilities() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line["CapEff:".len()..].trim(), 16).ok()
}

/// Whether a capability set allows loading tracing programs.
fn allows_tracing(caps: u64) -> bool {
    let has = |cap: u32| caps & (1u64 << cap) != 0;
    has(CAP_SYS_ADMIN) || (has(CAP_BPF) && has(CAP_PERFMON))
}

/// Fails with a clear message when this process may not load tracing eBPF programs.
pub fn check_privileges() -> Result<()> {
    match effective_capabilities() {
        Some(caps) if allows_tracing(caps) => Ok(()),
        Some(_) => Err(Error::NotPrivileged(if nix::unistd::geteuid().is_root() {
            "running as root without CAP_SYS_ADMIN or CAP_BPF+CAP_PERFMON".to_owned()
        } else {
            "not running as root".to_owned()
        })),
        // No /proc: let the kernel decide, its refusal is classified later.
        None => Ok(()),
    }
}

/// Fails with a clear message when the kernel's BPF JIT compiler is off: syscord's programs
/// call each other (tail calls and BPF-to-BPF calls together), which the interpreter does not
/// run. Debian's riscv64 7.x kernels boot with it off; the verifier then only says that the
/// program "requires BPF JIT compiler".
pub fn check_jit() -> Result<()> {
    jit_refusal(
        std::fs::read_to_string("/proc/sys/net/core/bpf_jit_enable")
            .ok()
            .as_deref(),
    )
}

fn jit_refusal(setting: Option<&str>) -> Result<()> {
    match setting.map(str::trim) {
        Some("0") => Err(Error::Unsupported(
            "the kernel's BPF JIT compiler is off (net.core.bpf_jit_enable = 0) and syscord's \
             programs need it; turn it on with: sysctl net.core.bpf_jit_enable=1"
                .to_owned(),
        )),
        // On, or with debug output, or no such file (a kernel built with the JIT always on).
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capability_sets() {
        assert!(allows_tracing(1 << CAP_SYS_ADMIN));
        assert!(allows_tracing((1 << CAP_BPF) | (1 << CAP_PERFMON)));
        assert!(!allows_tracing(1 << CAP_BPF));
        assert!(!allows_tracing(0));
        assert!(allows_tracing(u64::MAX));
    }

    #[test]
    fn this_process_has_a_capability_set() {
        assert!(effective_capabilities().is_some());
    }

    #[test]
    fn a_jit_that_is_off_is_named_with_the_setting_that_turns_it_on() {
        let e = jit_refusal(Some("0\n")).unwrap_err().to_string();
        assert!(e.contains("sysctl net.core.bpf_jit_enable=1"), "{e}");
        assert!(jit_refusal(Some("1\n")).is_ok());
        assert!(jit_refusal(Some("2\n")).is_ok());
        assert!(jit_refusal(None).is_ok());
    }
}
