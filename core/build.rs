//! Builds the eBPF program for the architecture this binary targets, so every syscord binary
//! embeds its own object (see `record::EBPF_OBJECT`).

/// The nightly that builds the eBPF crate; its LLVM major must match bpf-linker's (ci/setup
/// builds bpf-linker against this toolchain's libLLVM).
const EBPF_TOOLCHAIN: &str = "nightly-2026-10-01";

fn main() -> anyhow_free::Result {
    // A prebuilt object (ci/ebpf-object), for builds where the eBPF toolchain cannot run:
    // inside a `cross` container, or for packagers.
    println!("cargo::rerun-if-env-changed=SYSCORD_EBPF_OBJECT");
    if let Some(object) = std::env::var_os("SYSCORD_EBPF_OBJECT") {
        // Relative to the workspace root, so the same value works inside a container that
        // mounts the workspace elsewhere.
        let object = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(object);
        let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
        println!("cargo::rerun-if-changed={}", object.display());
        std::fs::copy(&object, out.join("syscord"))
            .map_err(|e| format!("SYSCORD_EBPF_OBJECT={}: {e}", object.display()))?;
        return Ok(());
    }
    // aya-build turns every line the nested cargo prints into a cargo warning; keep it to
    // real diagnostics.
    // SAFETY: the build script is single-threaded.
    unsafe { std::env::set_var("CARGO_TERM_QUIET", "true") };
    let package = aya_build::Package {
        name: "syscord-ebpf",
        root_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../ebpf"),
        ..Default::default()
    };
    aya_build::build_ebpf([package], aya_build::Toolchain::Custom(EBPF_TOOLCHAIN)).map_err(|e| {
        format!("building the eBPF program failed (run ci/setup first?): {e:#}").into()
    })
}

mod anyhow_free {
    pub type Result = std::result::Result<(), Box<dyn std::error::Error>>;
}
