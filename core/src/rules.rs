//! The per-syscall rules the eBPF program follows, by syscall number.

use syscord_arch::{Arch, SyscallTable};
use syscord_common::{MAX_SYSCALLS, SyscallRule, rule_flags};

/// Rules for every syscall number of `arch` (index = number).
pub fn for_arch(arch: Arch) -> Vec<SyscallRule> {
    let table = SyscallTable::of(arch);
    let mut rules = vec![SyscallRule::default(); MAX_SYSCALLS as usize];
    let mut set = |name: &str, flags: u32| {
        if let Some(nr) = table.number(name) {
            rules[nr as usize].flags |= flags;
        }
    };
    for exec in ["execve", "execveat"] {
        set(exec, rule_flags::EXEC);
    }
    for exit in ["exit", "exit_group"] {
        set(exit, rule_flags::NO_RETURN);
    }
    for fork in ["fork", "vfork", "clone", "clone3"] {
        set(fork, rule_flags::CHILD_RETURNS_ZERO);
    }
    rules
}
