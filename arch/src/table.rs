use std::{collections::HashMap, sync::OnceLock};

use crate::Arch;

/// The syscalls of one 64-bit architecture: number <-> name.
#[derive(Debug)]
pub struct SyscallTable {
    arch: Arch,
    /// Sorted by number.
    entries: Vec<(u32, &'static str)>,
    by_name: HashMap<&'static str, u32>,
}

impl SyscallTable {
    /// The table of `arch`, built once.
    pub fn of(arch: Arch) -> &'static SyscallTable {
        static TABLES: [OnceLock<SyscallTable>; 3] =
            [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        let slot = match arch {
            Arch::X86_64 => &TABLES[0],
            Arch::Aarch64 => &TABLES[1],
            Arch::Riscv64 => &TABLES[2],
        };
        slot.get_or_init(|| SyscallTable::build(arch))
    }

    fn build(arch: Arch) -> SyscallTable {
        let mut entries: Vec<(u32, &'static str)> = match arch {
            Arch::X86_64 => syscalls::x86_64::Sysno::iter()
                .map(|s| (s.id() as u32, s.name()))
                .collect(),
            Arch::Aarch64 => syscalls::aarch64::Sysno::iter()
                .map(|s| (s.id() as u32, s.name()))
                .filter_map(patch_aarch64)
                .collect(),
            Arch::Riscv64 => syscalls::riscv64::Sysno::iter()
                .map(|s| (s.id() as u32, s.name()))
                .collect(),
        };
        entries.sort_unstable();
        entries.dedup();
        let by_name = entries.iter().map(|&(nr, name)| (name, nr)).collect();
        SyscallTable {
            arch,
            entries,
            by_name,
        }
    }

    pub fn arch(&self) -> Arch {
        self.arch
    }

    /// The name of syscall `nr`, if this architecture has one.
    pub fn name(&self, nr: u32) -> Option<&'static str> {
        self.entries
            .binary_search_by_key(&nr, |&(n, _)| n)
            .ok()
            .map(|i| self.entries[i].1)
    }

    /// The number of the syscall called `name` on this architecture.
    pub fn number(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// Every (number, name), by number.
    pub fn iter(&self) -> impl Iterator<Item = (u32, &'static str)> + '_ {
        self.entries.iter().copied()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// One past the highest syscall number: the size of a table indexed by number.
    pub fn max_nr_exclusive(&self) -> u32 {
        self.entries.last().map_or(0, |&(nr, _)| nr + 1)
    }
}

/// The `syscalls` crate's aarch64 table is the generic one, which also lists entries that only
/// exist for 32-bit kernels. On a 64-bit arm64 kernel:
/// - the `*_time64` syscalls (403..=423) do not exist (64-bit time_t is the native ABI);
/// - number 79 is `newfstatat` (the generic table's `fstatat` is the 32-bit `fstatat64`).
fn patch_aarch64((nr, name): (u32, &'static str)) -> Option<(u32, &'static str)> {
    match (nr, name) {
        (403..=423, _) => None,
        (79, _) => Some((79, "newfstatat")),
        other => Some(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openat_numbers_differ_by_arch() {
        assert_eq!(SyscallTable::of(Arch::X86_64).number("openat"), Some(257));
        assert_eq!(SyscallTable::of(Arch::Aarch64).number("openat"), Some(56));
        assert_eq!(SyscallTable::of(Arch::Riscv64).number("openat"), Some(56));
    }

    #[test]
    fn aarch64_table_is_the_64_bit_one() {
        let t = SyscallTable::of(Arch::Aarch64);
        assert_eq!(t.name(79), Some("newfstatat"));
        assert_eq!(t.number("fstatat"), None);
        assert!(t.iter().all(|(_, name)| !name.ends_with("time64")));
        assert_eq!(t.number("clock_gettime"), Some(113));
        assert_eq!(t.name(403), None);
        // the numbers after the hole are still there
        assert_eq!(t.name(424), Some("pidfd_send_signal"));
    }

    #[test]
    fn names_and_numbers_round_trip() {
        for arch in Arch::ALL {
            let t = SyscallTable::of(arch);
            assert!(t.len() > 250, "{arch}: only {} syscalls", t.len());
            for (nr, name) in t.iter() {
                assert_eq!(t.number(name), Some(nr), "{arch} {name}");
                assert_eq!(t.name(nr), Some(name), "{arch} {nr}");
            }
        }
    }

    #[test]
    fn x86_64_specific_numbers() {
        let t = SyscallTable::of(Arch::X86_64);
        assert_eq!(t.number("read"), Some(0));
        assert_eq!(t.number("getppid"), Some(110));
        assert_eq!(t.number("newfstatat"), Some(262));
        assert_eq!(t.number("exit_group"), Some(231));
    }
}
