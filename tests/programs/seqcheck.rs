//! `syscord dump --format json FILE | sc-seqcheck`: checks, on the machine that made the
//! recording (a guest, whose console is too slow to carry every record to the host), that
//! each CPU's sequence numbers run from 1 with no hole and no overlap, every one a record or a
//! counted loss. Prints one JSON line: the number of records, of lost records, and of records
//! per syscall. A hole or an overlap panics (exit status 101) with where it is.

use std::{collections::BTreeMap, io::Read};

fn main() {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("a JSON dump on stdin");
    let records = syscord_tests::json_lines(&input);
    let lost = syscord_tests::check_sequence_numbers(&records);
    let mut syscalls: BTreeMap<&str, u64> = BTreeMap::new();
    for r in &records {
        if let Some(name) = r["syscall"].as_str() {
            *syscalls.entry(name).or_default() += 1;
        }
    }
    println!(
        "{}",
        serde_json::json!({ "records": records.len(), "lost": lost, "syscalls": syscalls })
    );
}
