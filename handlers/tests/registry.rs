//! Every syscall of every table has exactly one sound handler.

use syscord_arch::{Arch, SyscallTable};
use syscord_handlers::{Registry, check_all};

#[test]
fn every_syscall_has_one_sound_handler() {
    let problems = check_all();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
}

#[test]
fn the_registry_resolves_names_per_architecture() {
    for arch in Arch::ALL {
        let registry = Registry::new(arch).unwrap();
        let openat = SyscallTable::of(arch).number("openat").unwrap();
        assert_eq!(registry.get(openat).unwrap().name, "openat");
    }
}
