//! Just enough of the BPF Type Format to find kernel struct field offsets.
//!
//! The Rust eBPF toolchain emits no CO-RE field relocations, so the few `task_struct` fields
//! the eBPF program reads are located here, in the running kernel's BTF, and handed to the
//! program in its read-only configuration.

use rustc_hash::FxHashMap;
use std::{fs::File, io, os::fd::AsFd, path::Path};

use thiserror::Error;

use crate::mapping::ReadOnlyMapping;

pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

/// The bytes of a BTF file. The kernel's own (`/sys/kernel/btf/`) are mapped where the
/// kernel allows it (6.18 does): sysfs hands the file out 4 KiB a read, so reading the 5.5 MB
/// of vmlinux takes 1,350 calls and 6-13 ms. Other files, and kernels that refuse the
/// mapping, are read. Files are mapped only there because sysfs never truncates them under
/// the mapping, as another file could (which would be a SIGBUS here).
pub enum BtfBytes {
    Mapped(ReadOnlyMapping),
    Read(Vec<u8>),
}

impl BtfBytes {
    pub fn load(path: &Path) -> io::Result<BtfBytes> {
        if path.starts_with("/sys/kernel/btf") {
            let file = File::open(path)?;
            let len = file.metadata()?.len() as usize;
            if len > 0
                && let Ok(mapping) = ReadOnlyMapping::new(file.as_fd(), len)
            {
                return Ok(BtfBytes::Mapped(mapping));
            }
        }
        std::fs::read(path).map(BtfBytes::Read)
    }
}

impl std::ops::Deref for BtfBytes {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        match self {
            BtfBytes::Mapped(mapping) => mapping.bytes(),
            BtfBytes::Read(bytes) => bytes,
        }
    }
}

#[derive(Debug, Error)]
pub enum BtfError {
    #[error("malformed BTF: {0}")]
    Malformed(&'static str),
    #[error("kernel BTF has no struct {0}")]
    NoStruct(String),
    #[error("kernel BTF: struct {strukt} has no field {field}")]
    NoField { strukt: String, field: String },
}

const MAGIC: u16 = 0xeb9f;

const KIND_INT: u32 = 1;
const KIND_PTR: u32 = 2;
const KIND_ARRAY: u32 = 3;
const KIND_STRUCT: u32 = 4;
const KIND_UNION: u32 = 5;
const KIND_ENUM: u32 = 6;
const KIND_FWD: u32 = 7;
const KIND_TYPEDEF: u32 = 8;
const KIND_VOLATILE: u32 = 9;
const KIND_CONST: u32 = 10;
const KIND_RESTRICT: u32 = 11;
const KIND_FUNC: u32 = 12;
const KIND_FUNC_PROTO: u32 = 13;
const KIND_VAR: u32 = 14;
const KIND_DATASEC: u32 = 15;
const KIND_FLOAT: u32 = 16;
const KIND_DECL_TAG: u32 = 17;
const KIND_TYPE_TAG: u32 = 18;
const KIND_ENUM64: u32 = 19;

/// Parsed kernel BTF: where each type's record is, and the structs by name. Members are
/// read from the records when a field is looked up: syscord looks up about twenty fields
/// of a few structs among the kernel's 100,000 and more types.
pub struct Btf<'a> {
    type_data: &'a [u8],
    strings: &'a [u8],
    /// Index = type id: the offset of the type's record in `type_data`; id 0 is `void`.
    types: Vec<u32>,
    structs_by_name: FxHashMap<&'a str, u32>,
}

fn u16_at(b: &[u8], off: usize) -> Result<u16, BtfError> {
    b.get(off..off + 2)
        .map(|s| u16::from_le_bytes([s[0], s[1]]))
        .ok_or(BtfError::Malformed("truncated"))
}

fn u32_at(b: &[u8], off: usize) -> Result<u32, BtfError> {
    b.get(off..off + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(BtfError::Malformed("truncated"))
}

/// The kind and member count of the type record at `pos`.
fn kind_and_vlen(type_data: &[u8], pos: usize) -> Result<(u32, usize), BtfError> {
    let info = u32_at(type_data, pos + 4)?;
    Ok(((info >> 24) & 0x1f, (info & 0xffff) as usize))
}

impl<'a> Btf<'a> {
    /// Parses little-endian BTF (all of syscord's architectures are little-endian).
    pub fn parse(data: &'a [u8]) -> Result<Btf<'a>, BtfError> {
        if u16_at(data, 0)? != MAGIC {
            return Err(BtfError::Malformed("bad magic (not little-endian BTF)"));
        }
        let hdr_len = u32_at(data, 4)? as usize;
        let type_off = u32_at(data, 8)? as usize;
        let type_len = u32_at(data, 12)? as usize;
        let str_off = u32_at(data, 16)? as usize;
        let str_len = u32_at(data, 20)? as usize;
        let section = |off: usize, len: usize| {
            let start = hdr_len
                .checked_add(off)
                .ok_or(BtfError::Malformed("offset overflow"))?;
            data.get(start..start.saturating_add(len))
                .filter(|s| s.len() == len)
                .ok_or(BtfError::Malformed("section past end of data"))
        };
        let type_data = section(type_off, type_len)?;
        let strings = section(str_off, str_len)?;

        // id 0 (void) has no record.
        let mut types = vec![u32::MAX];
        let mut structs_by_name = FxHashMap::default();
        let mut pos = 0;
        while pos < type_data.len() {
            let name_off = u32_at(type_data, pos)?;
            let (kind, vlen) = kind_and_vlen(type_data, pos)?;
            let id = types.len() as u32;
            types.push(pos as u32);
            pos += 12;
            pos += match kind {
                KIND_STRUCT | KIND_UNION => {
                    if kind == KIND_STRUCT && name_off != 0 {
                        structs_by_name
                            .entry(string_at(strings, name_off)?)
                            .or_insert(id);
                    }
                    vlen * 12
                }
                KIND_INT | KIND_VAR | KIND_DECL_TAG => 4,
                KIND_ARRAY => 12,
                KIND_ENUM | KIND_FUNC_PROTO => vlen * 8,
                KIND_DATASEC | KIND_ENUM64 => vlen * 12,
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG
                | KIND_PTR | KIND_FWD | KIND_FUNC | KIND_FLOAT => 0,
                _ => return Err(BtfError::Malformed("unknown type kind")),
            };
        }
        if pos != type_data.len() {
            return Err(BtfError::Malformed("truncated"));
        }
        Ok(Btf {
            type_data,
            strings,
            types,
            structs_by_name,
        })
    }

    /// Byte offset of `field` in `struct strukt`, looking into anonymous struct and union
    /// members the way C does.
    pub fn field_offset(&self, strukt: &str, field: &str) -> Result<u32, BtfError> {
        let id = *self
            .structs_by_name
            .get(strukt)
            .ok_or_else(|| BtfError::NoStruct(strukt.to_owned()))?;
        self.find_member(id, field, 0, 0)?
            .map(|bits| bits / 8)
            .ok_or_else(|| BtfError::NoField {
                strukt: strukt.to_owned(),
                field: field.to_owned(),
            })
    }

    /// The record of the struct or union that type `id` is, looking through typedefs and
    /// qualifiers; None for any other kind.
    fn composite(&self, mut id: u32) -> Result<Option<usize>, BtfError> {
        // Bounded: alias chains in kernel BTF are short; a cycle would be malformed input.
        for _ in 0..32 {
            let Some(&pos) = self.types.get(id as usize).filter(|&&p| p != u32::MAX) else {
                return Ok(None);
            };
            let pos = pos as usize;
            match kind_and_vlen(self.type_data, pos)?.0 {
                KIND_STRUCT | KIND_UNION => return Ok(Some(pos)),
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    id = u32_at(self.type_data, pos + 8)?;
                }
                _ => return Ok(None),
            }
        }
        Ok(None)
    }

    /// The offset in bits of `field` in type `id` (at `base_bits`), anonymous members
    /// included, `depth` levels down.
    fn find_member(
        &self,
        id: u32,
        field: &str,
        base_bits: u32,
        depth: u32,
    ) -> Result<Option<u32>, BtfError> {
        let Some(pos) = self.composite(id)? else {
            return Ok(None);
        };
        if depth > 32 {
            return Err(BtfError::Malformed("anonymous members nest too deep"));
        }
        let info = u32_at(self.type_data, pos + 4)?;
        let vlen = (info & 0xffff) as usize;
        // With kind_flag, the top 8 bits of a member's offset are a bitfield size.
        let offset_mask = if info >> 31 == 1 { 0xff_ffff } else { u32::MAX };
        let member = |i: usize| -> Result<(u32, u32, u32), BtfError> {
            let m = pos + 12 + i * 12;
            Ok((
                u32_at(self.type_data, m)?,
                u32_at(self.type_data, m + 4)?,
                u32_at(self.type_data, m + 8)? & offset_mask,
            ))
        };
        for i in 0..vlen {
            let (name_off, _, bit_offset) = member(i)?;
            if name_off != 0 && string_at(self.strings, name_off)? == field {
                return Ok(Some(base_bits + bit_offset));
            }
        }
        for i in 0..vlen {
            let (name_off, type_id, bit_offset) = member(i)?;
            if name_off == 0
                && let Some(bits) =
                    self.find_member(type_id, field, base_bits + bit_offset, depth + 1)?
            {
                return Ok(Some(bits));
            }
        }
        Ok(None)
    }
}

fn string_at(strings: &[u8], off: u32) -> Result<&str, BtfError> {
    let rest = strings
        .get(off as usize..)
        .ok_or(BtfError::Malformed("string offset past end"))?;
    let end = rest
        .iter()
        .position(|&b| b == 0)
        .ok_or(BtfError::Malformed("unterminated string"))?;
    std::str::from_utf8(&rest[..end]).map_err(|_| BtfError::Malformed("string not UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The running kernel's BTF, when this machine has one (every machine syscord records on
    /// must).
    fn kernel() -> Btf<'static> {
        let data =
            std::fs::read(VMLINUX).expect("kernel BTF (syscord needs CONFIG_DEBUG_INFO_BTF)");
        Btf::parse(data.leak()).expect("the kernel's BTF parses")
    }

    #[test]
    fn task_struct_fields_are_found() {
        let btf = kernel();
        let pid = btf.field_offset("task_struct", "pid").unwrap();
        let tgid = btf.field_offset("task_struct", "tgid").unwrap();
        // tgid follows pid directly in every kernel since 2.6
        assert_eq!(tgid, pid + 4);
        let comm = btf.field_offset("task_struct", "comm").unwrap();
        assert!(comm > tgid);
    }

    #[test]
    fn anonymous_members_are_searched() {
        // On x86_64, pt_regs members are plain; on arm64 they sit in an anonymous union.
        let btf = kernel();
        #[cfg(target_arch = "x86_64")]
        assert_eq!(btf.field_offset("pt_regs", "orig_ax").unwrap(), 120);
        #[cfg(target_arch = "aarch64")]
        assert_eq!(btf.field_offset("pt_regs", "pc").unwrap(), 256);
        #[cfg(target_arch = "riscv64")]
        assert_eq!(btf.field_offset("pt_regs", "orig_a0").unwrap(), 280);
    }

    #[test]
    fn missing_names_are_errors() {
        let btf = kernel();
        assert!(matches!(
            btf.field_offset("no_such_struct_xyz", "a"),
            Err(BtfError::NoStruct(_))
        ));
        assert!(matches!(
            btf.field_offset("task_struct", "no_such_field_xyz"),
            Err(BtfError::NoField { .. })
        ));
    }

    #[test]
    fn garbage_is_rejected_without_panic() {
        assert!(Btf::parse(&[]).is_err());
        assert!(Btf::parse(&[0x9f, 0xeb, 1, 0, 24, 0, 0, 0]).is_err());
        let mut hdr = vec![0x9f, 0xeb, 1, 0];
        for v in [24u32, 0, 0xffff_fff0, 0, 0] {
            hdr.extend_from_slice(&v.to_le_bytes());
        }
        assert!(Btf::parse(&hdr).is_err());
    }

    #[test]
    fn loaded_kernel_btf_is_the_file() {
        // Mapped or read, whichever this kernel allows.
        let loaded = BtfBytes::load(Path::new(VMLINUX)).unwrap();
        assert_eq!(&loaded[..], std::fs::read(VMLINUX).unwrap());
    }
}
