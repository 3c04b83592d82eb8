//! Just enough of the BPF Type Format to find kernel struct field offsets.
//!
//! The Rust eBPF toolchain emits no CO-RE field relocations, so the few `task_struct` fields
//! the eBPF program reads are located here, in the running kernel's BTF, and handed to the
//! program in its read-only configuration.

use std::collections::HashMap;

use thiserror::Error;

pub const VMLINUX: &str = "/sys/kernel/btf/vmlinux";

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

#[derive(Debug, Clone)]
struct Member {
    name_off: u32,
    type_id: u32,
    /// Offset in bits from the start of the struct.
    bit_offset: u32,
}

#[derive(Debug, Clone)]
enum Type {
    Composite {
        members: Vec<Member>,
    },
    /// A type whose meaning for field lookup is "look through to `type_id`"
    /// (typedef, const, volatile, restrict, type tag).
    Alias {
        type_id: u32,
    },
    Other,
}

/// Parsed kernel BTF: types and strings, enough to walk struct members.
pub struct Btf {
    /// Index = type id; id 0 is `void`.
    types: Vec<Type>,
    strings: Vec<u8>,
    structs_by_name: HashMap<String, u32>,
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

impl Btf {
    /// Parses little-endian BTF (all of syscord's architectures are little-endian).
    pub fn parse(data: &[u8]) -> Result<Btf, BtfError> {
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
            data.get(start..start + len)
                .ok_or(BtfError::Malformed("section past end of data"))
        };
        let type_data = section(type_off, type_len)?;
        let strings = section(str_off, str_len)?.to_vec();

        let mut types = vec![Type::Other]; // id 0: void
        let mut structs_by_name = HashMap::new();
        let mut pos = 0;
        while pos < type_data.len() {
            let name_off = u32_at(type_data, pos)?;
            let info = u32_at(type_data, pos + 4)?;
            let size_or_type = u32_at(type_data, pos + 8)?;
            pos += 12;
            let vlen = (info & 0xffff) as usize;
            let kind = (info >> 24) & 0x1f;
            let kind_flag = info >> 31 == 1;
            let ty = match kind {
                KIND_STRUCT | KIND_UNION => {
                    let mut members = Vec::with_capacity(vlen);
                    for i in 0..vlen {
                        let m = pos + i * 12;
                        let offset = u32_at(type_data, m + 8)?;
                        members.push(Member {
                            name_off: u32_at(type_data, m)?,
                            type_id: u32_at(type_data, m + 4)?,
                            // With kind_flag, the top 8 bits are a bitfield size.
                            bit_offset: if kind_flag {
                                offset & 0xff_ffff
                            } else {
                                offset
                            },
                        });
                    }
                    pos += vlen * 12;
                    if kind == KIND_STRUCT && name_off != 0 {
                        let name = string_at(&strings, name_off)?;
                        structs_by_name
                            .entry(name.to_owned())
                            .or_insert(types.len() as u32);
                    }
                    Type::Composite { members }
                }
                KIND_TYPEDEF | KIND_VOLATILE | KIND_CONST | KIND_RESTRICT | KIND_TYPE_TAG => {
                    Type::Alias {
                        type_id: size_or_type,
                    }
                }
                KIND_INT | KIND_VAR | KIND_DECL_TAG => {
                    pos += 4;
                    Type::Other
                }
                KIND_ARRAY => {
                    pos += 12;
                    Type::Other
                }
                KIND_ENUM | KIND_FUNC_PROTO => {
                    pos += vlen * 8;
                    Type::Other
                }
                KIND_DATASEC | KIND_ENUM64 => {
                    pos += vlen * 12;
                    Type::Other
                }
                KIND_PTR | KIND_FWD | KIND_FUNC | KIND_FLOAT => Type::Other,
                _ => return Err(BtfError::Malformed("unknown type kind")),
            };
            types.push(ty);
        }
        Ok(Btf {
            types,
            strings,
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
        self.find_member(id, field, 0)
            .map(|bits| bits / 8)
            .ok_or_else(|| BtfError::NoField {
                strukt: strukt.to_owned(),
                field: field.to_owned(),
            })
    }

    fn resolve(&self, mut id: u32) -> Option<&Type> {
        // Bounded: alias chains in kernel BTF are short; a cycle would be malformed input.
        for _ in 0..32 {
            match self.types.get(id as usize)? {
                Type::Alias { type_id } => id = *type_id,
                other => return Some(other),
            }
        }
        None
    }

    fn find_member(&self, id: u32, field: &str, base_bits: u32) -> Option<u32> {
        let Type::Composite { members } = self.resolve(id)? else {
            return None;
        };
        for m in members {
            let name = string_at(&self.strings, m.name_off).ok()?;
            if name == field {
                return Some(base_bits + m.bit_offset);
            }
        }
        members
            .iter()
            .filter(|m| m.name_off == 0)
            .find_map(|m| self.find_member(m.type_id, field, base_bits + m.bit_offset))
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
    fn kernel() -> Btf {
        let data =
            std::fs::read(VMLINUX).expect("kernel BTF (syscord needs CONFIG_DEBUG_INFO_BTF)");
        Btf::parse(&data).expect("the kernel's BTF parses")
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
}
