//! Reading the first bytes a client sends, without terminating anything:
//! the TLS record and ClientHello fields that `req.ssl_hello_type` and
//! `req.ssl_sni` fetch (so TLS can be routed by name and passed through),
//! and `req.payload_lv`'s length-prefixed blocks.

/// Why a value could not be read from the bytes at hand.
#[derive(Debug, PartialEq, Eq)]
pub enum Need {
    /// Not there yet: more bytes may complete it.
    More,
    /// Not this kind of data: more bytes will not help.
    Never,
}

/// A bounds-checked reader over a byte slice.
struct Cursor<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], Need> {
        let end = self.at.checked_add(n).ok_or(Need::Never)?;
        let s = self.b.get(self.at..end).ok_or(Need::More)?;
        self.at = end;
        Ok(s)
    }
    fn u8(&mut self) -> Result<usize, Need> {
        Ok(self.take(1)?[0] as usize)
    }
    fn u16(&mut self) -> Result<usize, Need> {
        let s = self.take(2)?;
        Ok((s[0] as usize) << 8 | s[1] as usize)
    }
    fn u24(&mut self) -> Result<usize, Need> {
        let s = self.take(3)?;
        Ok((s[0] as usize) << 16 | (s[1] as usize) << 8 | s[2] as usize)
    }
}

/// The handshake message type of an SSLv3/TLS record (1: ClientHello),
/// once the whole handshake message has arrived.
pub fn hello_type(data: &[u8]) -> Result<u8, Need> {
    let first = *data.first().ok_or(Need::More)?;
    // Record content types 20..23 (or SSLv2's 0xFF) carry the v3 header.
    if !((0x14..=0x17).contains(&first) || first == 0xff) {
        return Err(Need::Never);
    }
    let mut c = Cursor { b: data, at: 1 };
    let version = c.u16()?;
    let record_len = c.u16()?;
    if version < 0x0300 || record_len < 4 {
        return Err(Need::Never);
    }
    let hs_type = c.u8()? as u8;
    let hs_len = c.u24()?;
    c.take(hs_len)?;
    Ok(hs_type)
}

/// The server name of the ClientHello at the start of `data` (the
/// `server_name` extension's host name), as sent.
pub fn client_hello_sni(data: &[u8]) -> Result<&[u8], Need> {
    let mut c = Cursor { b: data, at: 0 };
    if c.u8()? != 0x16 {
        return Err(Need::Never);
    }
    let version = c.u16()?;
    let record_len = c.u16()?;
    if version < 0x0300 || record_len < 4 + 2 + 32 + 1 + 2 + 1 + 2 {
        return Err(Need::Never);
    }
    // The hello must fit in this first record; parse within it only.
    let record = c.take(record_len)?;
    // Inside the record, running short means a malformed hello.
    let never = |e: Need| match e {
        Need::More => Need::Never,
        n => n,
    };
    let mut h = Cursor { b: record, at: 0 };
    if h.u8().map_err(never)? != 0x01 {
        return Err(Need::Never);
    }
    let hs_len = h.u24().map_err(never)?;
    let hello = h.take(hs_len).map_err(never)?;
    let mut m = Cursor { b: hello, at: 0 };
    (|| -> Result<&[u8], Need> {
        m.take(2 + 32)?; // client_version, random
        let sid = m.u8()?;
        m.take(sid)?;
        let suites = m.u16()?;
        m.take(suites)?;
        let comp = m.u8()?;
        m.take(comp)?;
        let ext_total = m.u16()?;
        let mut e = Cursor {
            b: m.take(ext_total)?,
            at: 0,
        };
        while e.at < e.b.len() {
            let ty = e.u16()?;
            let len = e.u16()?;
            let body = e.take(len)?;
            if ty != 0 {
                continue;
            }
            let mut s = Cursor { b: body, at: 0 };
            let list = s.u16()?;
            let mut l = Cursor {
                b: s.take(list)?,
                at: 0,
            };
            while l.at < l.b.len() {
                let name_type = l.u8()?;
                let n = l.u16()?;
                let name = l.take(n)?;
                if name_type == 0 {
                    return Ok(name);
                }
            }
        }
        Err(Need::Never)
    })()
    .map_err(never)
}

/// `payload_lv(off1,len1[,off2])`: the block whose length is the `len1`
/// big-endian bytes at `off1`; it starts right after them, or at `off2`
/// (`+N`/`-N`: relative to the end of the length field).
pub fn payload_lv<'a>(
    data: &'a [u8],
    off1: usize,
    len1: usize,
    off2: Option<&str>,
) -> Result<&'a [u8], Need> {
    if len1 == 0 || len1 > 4 {
        return Err(Need::Never);
    }
    let mut c = Cursor { b: data, at: off1 };
    let len = c
        .take(len1)?
        .iter()
        .fold(0usize, |v, b| v << 8 | *b as usize);
    let after = off1 + len1;
    let start = match off2.map(str::trim) {
        None | Some("") => after,
        Some(o) if o.starts_with('+') || o.starts_with('-') => {
            let d: i64 = o.parse().map_err(|_| Need::Never)?;
            usize::try_from(after as i64 + d).map_err(|_| Need::Never)?
        }
        Some(o) => o.parse().map_err(|_| Need::Never)?,
    };
    let mut b = Cursor { b: data, at: start };
    b.take(len)
}

#[cfg(test)]
pub mod tests {
    use super::*;

    /// A minimal TLS 1.2 ClientHello naming `sni` (what a client sends first).
    pub fn client_hello(sni: &str) -> Vec<u8> {
        let name = sni.as_bytes();
        let mut sni_ext = Vec::new();
        sni_ext.extend(((name.len() + 3) as u16).to_be_bytes());
        sni_ext.push(0);
        sni_ext.extend((name.len() as u16).to_be_bytes());
        sni_ext.extend(name);
        let mut exts = Vec::new();
        // An unrelated extension first (supported_groups).
        exts.extend([0x00, 0x0a, 0x00, 0x04, 0x00, 0x02, 0x00, 0x1d]);
        exts.extend([0x00, 0x00]);
        exts.extend((sni_ext.len() as u16).to_be_bytes());
        exts.extend(sni_ext);
        let mut hello = vec![0x03, 0x03];
        hello.extend([7u8; 32]);
        hello.push(0); // no session id
        hello.extend([0x00, 0x02, 0x13, 0x01]);
        hello.extend([0x01, 0x00]);
        hello.extend((exts.len() as u16).to_be_bytes());
        hello.extend(exts);
        let mut hs = vec![0x01];
        hs.extend(&(hello.len() as u32).to_be_bytes()[1..]);
        hs.extend(hello);
        let mut rec = vec![0x16, 0x03, 0x01];
        rec.extend((hs.len() as u16).to_be_bytes());
        rec.extend(hs);
        rec
    }

    #[test]
    fn sni_and_hello_type_from_a_client_hello() {
        let h = client_hello("www.example.com");
        assert_eq!(client_hello_sni(&h), Ok(&b"www.example.com"[..]));
        assert_eq!(hello_type(&h), Ok(1));
        // Every prefix is "not yet", never a wrong answer.
        for n in 0..h.len() {
            assert_eq!(client_hello_sni(&h[..n]), Err(Need::More), "prefix {n}");
        }
        assert_eq!(client_hello_sni(b"GET / HTTP/1.1\r\n"), Err(Need::Never));
        assert_eq!(hello_type(b"GET /"), Err(Need::Never));
    }

    #[test]
    fn length_prefixed_blocks() {
        let d = b"\x00\x03abcdef";
        assert_eq!(payload_lv(d, 0, 2, None), Ok(&b"abc"[..]));
        assert_eq!(payload_lv(d, 0, 2, Some("+1")), Ok(&b"bcd"[..]));
        assert_eq!(payload_lv(d, 0, 2, Some("5")), Ok(&b"def"[..]));
        assert_eq!(payload_lv(b"\x00\x09ab", 0, 2, None), Err(Need::More));
    }
}
