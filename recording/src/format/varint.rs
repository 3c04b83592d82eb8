//! LEB128 varints and zigzag, as version 1 records chunks hold them: small numbers (deltas,
//! fds, short lengths) take one byte.

use super::FormatError;

/// A bounds-checked reader over one decoded chunk.
pub(crate) struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }

    pub(crate) fn u8(&mut self) -> Result<u8, FormatError> {
        let b = *self.data.get(self.pos).ok_or(FormatError::Corrupt(
            "record runs past the end of its chunk",
        ))?;
        self.pos += 1;
        Ok(b)
    }

    pub(crate) fn u64(&mut self) -> Result<u64, FormatError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.u8()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(FormatError::Corrupt("varint longer than 64 bits"))
    }

    pub(crate) fn u32(&mut self) -> Result<u32, FormatError> {
        u32::try_from(self.u64()?).map_err(|_| FormatError::Corrupt("value out of range"))
    }

    pub(crate) fn i64(&mut self) -> Result<i64, FormatError> {
        let v = self.u64()?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    pub(crate) fn bytes(&mut self, len: usize) -> Result<&'a [u8], FormatError> {
        let end = self
            .pos
            .checked_add(len)
            .filter(|&end| end <= self.data.len())
            .ok_or(FormatError::Corrupt(
                "byte string runs past the end of its chunk",
            ))?;
        let s = &self.data[self.pos..end];
        self.pos = end;
        Ok(s)
    }
}

/// The other direction, for tests that write version 1 bytes.
#[cfg(test)]
pub(crate) fn put_u64(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[cfg(test)]
pub(crate) fn put_i64(out: &mut Vec<u8>, v: i64) {
    put_u64(out, ((v << 1) ^ (v >> 63)) as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let values: [i64; 9] = [0, 1, -1, 63, -64, 64, i64::MAX, i64::MIN, -4095];
        let mut buf = Vec::new();
        for v in values {
            put_i64(&mut buf, v);
            put_u64(&mut buf, v as u64);
        }
        let mut c = Cursor::new(&buf);
        for v in values {
            assert_eq!(c.i64().unwrap(), v);
            assert_eq!(c.u64().unwrap(), v as u64);
        }
        assert!(c.is_empty());
    }

    #[test]
    fn small_values_take_one_byte() {
        let mut buf = Vec::new();
        put_u64(&mut buf, 127);
        put_i64(&mut buf, -2);
        assert_eq!(buf.len(), 2);
    }

    #[test]
    fn truncated_and_overlong_are_errors() {
        assert!(Cursor::new(&[0x80]).u64().is_err());
        assert!(Cursor::new(&[0xff; 11]).u64().is_err());
        assert!(Cursor::new(&[5, 1]).bytes(5).is_err());
    }
}
