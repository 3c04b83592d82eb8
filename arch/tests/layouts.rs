//! Every struct table against each architecture's C compiler: a file of `_Static_assert`s
//! per struct (size, and each field's offset and width), compiled by the host's gcc and the
//! arm64 and riscv64 cross compilers that ci/setup installs, with the kernel UAPI headers
//! ci/setup unpacks (Debian's newest, which declare structs newer than the system's). A
//! table that disagrees with the headers fails to compile, and the message names the
//! struct, the field and the architecture.

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
    process::Command,
};

use syscord_arch::{
    Arch,
    abi::{CSource, Layout, Struct},
};

/// The C source that checks `layout`, or None for a struct the headers cannot check.
fn check_source(s: Struct, arch: Arch, layout: &Layout) -> Option<String> {
    let (header, c_type, definition) = match layout.c {
        CSource::Header { header, c_type } => (header, c_type, ""),
        CSource::Defined {
            header,
            c_type,
            definition,
        } => (header, c_type, definition),
        CSource::Unchecked(_) => return None,
    };
    let mut c = format!(
        "#define _GNU_SOURCE\n#include <stddef.h>\n#include <{header}>\n{definition}\n\
         _Static_assert(sizeof({c_type}) == {}, \"{s:?}: size {} on {arch}\");\n",
        layout.size, layout.size
    );
    for f in layout.fields {
        let (name, offset, width) = (f.name, f.offset, f.width);
        let _ = writeln!(
            c,
            "_Static_assert(offsetof({c_type}, {name}) == {offset}, \
             \"{s:?}.{name}: offset {offset} on {arch}\");\n\
             _Static_assert(sizeof((({c_type} *)0)->{name}) == {width}, \
             \"{s:?}.{name}: width {width} on {arch}\");"
        );
    }
    Some(c)
}

/// Where ci/setup unpacks the kernel's UAPI headers (its `uapi_dir`).
fn uapi_headers() -> PathBuf {
    let cache = std::env::var_os("XDG_CACHE_HOME").map_or_else(
        || PathBuf::from(std::env::var_os("HOME").expect("HOME")).join(".cache"),
        PathBuf::from,
    );
    let dir = cache.join("syscord/uapi/usr/include");
    assert!(
        dir.join("linux/mount.h").exists(),
        "no kernel headers in {} (ci/setup unpacks them)",
        dir.display()
    );
    dir
}

/// The compiler's complaints about `arch`'s tables, if any.
fn check_arch(arch: Arch, dir: &Path) -> Option<String> {
    let triplet = format!("{}-linux-gnu", arch.name());
    let compiler = format!("{triplet}-gcc");
    let headers = uapi_headers();
    let mut files = Vec::new();
    for &s in Struct::ALL {
        if let Some(source) = check_source(s, arch, s.layout(arch)) {
            let path = dir.join(format!("{arch}-{s:?}.c"));
            std::fs::write(&path, source).unwrap();
            files.push(path);
        }
    }
    let output = Command::new(&compiler)
        .arg("-fsyntax-only")
        // Before the compiler's own include directories: these headers, not the system's.
        .arg("-isystem")
        .arg(headers.join(&triplet))
        .arg("-isystem")
        .arg(&headers)
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("{compiler}: {e} (ci/setup installs it)"));
    (!output.status.success()).then(|| {
        format!(
            "{compiler} disagrees with the struct tables:\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

#[test]
fn struct_tables_match_each_architectures_c_headers() {
    let dir = std::env::temp_dir().join(format!("syscord-layouts-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let failures: Vec<String> = Arch::ALL
        .iter()
        .filter_map(|&arch| check_arch(arch, &dir))
        .collect();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Structs the headers cannot check say why; everything else is checked.
#[test]
fn unchecked_structs_are_few_and_say_why() {
    for arch in Arch::ALL {
        let unchecked: Vec<Struct> = Struct::ALL
            .iter()
            .copied()
            .filter(|s| matches!(s.layout(arch).c, CSource::Unchecked(_)))
            .collect();
        // riscv_hwprobe is checked where its header is: on riscv64.
        let expected: &[Struct] = match arch {
            Arch::Riscv64 => &[Struct::XattrArgs],
            _ => &[Struct::RiscvHwprobe, Struct::XattrArgs],
        };
        assert_eq!(unchecked, expected, "{arch}");
    }
}
