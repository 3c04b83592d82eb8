//! The running kernel's own syscall table, read from its memory: which numbers it implements
//! and the function behind each. syscord's names and handlers come from the `syscalls`
//! crate's tables, and a kernel newer than the crate implements numbers they lack (Debian's
//! 7.3 has `listns`, 470, past the crate's last, 469). Those are still recorded, as
//! `syscall_NNN` with all six argument registers; this tells `syscord handlers` which ones the
//! kernel has.
//!
//! `sys_call_table` is an array of function pointers on all three architectures (x86_64 has
//! dispatched through a switch since 6.9; Debian's kernels still have the array, some other
//! builds do not, and there the table cannot be read). Its address and
//! the names of the functions it points to come from /proc/kallsyms, its contents from
//! /proc/kcore. Both need root (kallsyms shows zero addresses otherwise); kcore needs
//! CONFIG_PROC_KCORE and no lockdown. Unimplemented numbers point to `*_sys_ni_syscall`.

use std::{collections::HashMap, fs::File};

use object::{
    Endianness, elf,
    read::elf::{FileHeader, ProgramHeader},
};
use syscord_arch::Arch;

/// The most entries read: every architecture's table is far shorter (x86_64's has 470).
const MAX_ENTRIES: u64 = 1024;

/// A number the running kernel implements, and the name of its function without the
/// architecture's wrapper prefix (`__x64_sys_listns` is `listns`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelSyscall {
    pub nr: u32,
    pub name: String,
}

/// The syscall wrappers' prefix on `arch`.
fn wrapper_prefix(arch: Arch) -> &'static str {
    match arch {
        Arch::X86_64 => "__x64_sys_",
        Arch::Aarch64 => "__arm64_sys_",
        Arch::Riscv64 => "__riscv_sys_",
    }
}

/// The implemented syscalls of the running kernel, by number, or why they cannot be read.
pub fn read(arch: Arch) -> Result<Vec<KernelSyscall>, String> {
    let kallsyms = std::fs::read_to_string("/proc/kallsyms")
        .map_err(|e| format!("cannot read /proc/kallsyms: {e}"))?;
    let symbols = Symbols::parse(&kallsyms, wrapper_prefix(arch))?;
    let entries = read_kernel_words(symbols.table, symbols.table_len)?;
    Ok(entries
        .iter()
        .enumerate()
        .filter_map(|(nr, addr)| {
            let name = symbols.wrappers.get(addr).map_or("?", String::as_str);
            (!name.ends_with("ni_syscall")).then(|| KernelSyscall {
                nr: nr as u32,
                name: name.to_owned(),
            })
        })
        .collect())
}

/// What /proc/kallsyms tells about the table.
struct Symbols {
    table: u64,
    /// Entries up to the next symbol (the table's own symbol has no size).
    table_len: u64,
    /// Address -> wrapper name, prefix removed.
    wrappers: HashMap<u64, String>,
}

impl Symbols {
    fn parse(kallsyms: &str, prefix: &str) -> Result<Symbols, String> {
        let mut table = None;
        let mut addresses = Vec::new();
        let mut wrappers = HashMap::new();
        for line in kallsyms.lines() {
            let mut fields = line.split_ascii_whitespace();
            let (Some(addr), Some(_kind), Some(name)) =
                (fields.next(), fields.next(), fields.next())
            else {
                continue;
            };
            let Ok(addr) = u64::from_str_radix(addr, 16) else {
                continue;
            };
            if name == "sys_call_table" {
                table = Some(addr);
            } else if let Some(short) = name.strip_prefix(prefix) {
                wrappers.insert(addr, short.to_owned());
            }
            addresses.push(addr);
        }
        let table = table.ok_or("the kernel has no sys_call_table symbol")?;
        if table == 0 {
            return Err("the kernel hides its addresses (run as root)".to_owned());
        }
        let next = addresses
            .iter()
            .copied()
            .filter(|&a| a > table)
            .min()
            .unwrap_or(table + MAX_ENTRIES * 8);
        Ok(Symbols {
            table,
            table_len: ((next - table) / 8).min(MAX_ENTRIES),
            wrappers,
        })
    }
}

/// `count` 64-bit words of kernel memory at virtual address `addr`, through /proc/kcore (an
/// ELF core file whose loadable segments are the kernel's memory).
fn read_kernel_words(addr: u64, count: u64) -> Result<Vec<u64>, String> {
    use std::os::unix::fs::FileExt;
    let kcore = File::open("/proc/kcore").map_err(|e| format!("cannot open /proc/kcore: {e}"))?;
    // The ELF header and the program headers come first; 64 KiB hold them (a few dozen
    // segments). Read into u64s: object checks the headers' alignment.
    let mut start = vec![0u64; 8192];
    // SAFETY: the u64s' memory as bytes.
    let start_bytes =
        unsafe { std::slice::from_raw_parts_mut(start.as_mut_ptr().cast::<u8>(), start.len() * 8) };
    let got = kcore
        .read_at(start_bytes, 0)
        .map_err(|e| format!("cannot read /proc/kcore: {e}"))?;
    let data = &start_bytes[..got];
    let bad = |e: object::Error| format!("/proc/kcore: {e}");
    let header = elf::FileHeader64::<Endianness>::parse(data).map_err(bad)?;
    let endian = header.endian().map_err(bad)?;
    let len = count * 8;
    let segment = header
        .program_headers(endian, data)
        .map_err(bad)?
        .iter()
        .find(|ph| {
            let start = ph.p_vaddr(endian);
            ph.p_type(endian) == elf::PT_LOAD
                && start <= addr
                && addr + len <= start + ph.p_filesz(endian)
        })
        .ok_or_else(|| format!("/proc/kcore does not cover {addr:#x}"))?;
    let offset = segment.p_offset(endian) + (addr - segment.p_vaddr(endian));
    let mut bytes = vec![0u8; len as usize];
    kcore
        .read_exact_at(&mut bytes, offset)
        .map_err(|e| format!("/proc/kcore: cannot read {len} bytes at {addr:#x}: {e}"))?;
    Ok(bytes
        .as_chunks::<8>()
        .0
        .iter()
        .map(|w| u64::from_le_bytes(*w))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_ends_at_the_next_symbol_and_wrappers_lose_their_prefix() {
        let kallsyms = "\
ffffffff81000000 T _text
ffffffff93ee4e60 T __x64_sys_ni_syscall
ffffffff93f97280 T __x64_sys_listns
ffffffff94e00460 D sys_call_table
ffffffff94e01400 D ia32_sys_call_table
ffffffffc0000000 t helper\t[some_module]
";
        let symbols = Symbols::parse(kallsyms, "__x64_sys_").unwrap();
        assert_eq!(symbols.table, 0xffffffff94e00460);
        assert_eq!(symbols.table_len, (0x1400 - 0x460) / 8);
        assert_eq!(symbols.wrappers[&0xffffffff93f97280], "listns");
        assert_eq!(symbols.wrappers[&0xffffffff93ee4e60], "ni_syscall");
    }

    #[test]
    fn hidden_addresses_and_a_missing_table_are_reasons_not_guesses() {
        let hidden = "0000000000000000 D sys_call_table\n0000000000000000 T __x64_sys_read\n";
        assert!(
            Symbols::parse(hidden, "__x64_sys_")
                .err()
                .unwrap()
                .contains("root")
        );
        assert!(Symbols::parse("ffffffff81000000 T _text\n", "__x64_sys_").is_err());
    }
}
