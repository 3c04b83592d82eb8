// Rebuild the eBPF object when bpf-linker changes (it is the linker of the bpf target, which
// cargo does not track by itself), and declare the `bpf_target_arch` cfg aya-build passes.
fn main() {
    println!("cargo::rerun-if-env-changed=PATH");
    if let Ok(linker) = which::which("bpf-linker") {
        println!("cargo::rerun-if-changed={}", linker.display());
    }
    println!(
        "cargo::rustc-check-cfg=cfg(bpf_target_arch, values(\"x86_64\", \"aarch64\", \"riscv64\"))"
    );
}
