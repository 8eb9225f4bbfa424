//! IP addresses: the `cidr` operator and IP canonicalisation of exact values.
//!
//! Addresses use the standard library parsers, which are strict: IPv4 must be
//! four decimal octets without leading zeros (`10.1` and `010.0.0.1` are
//! rejected), IPv6 accepts `::` compression, any hex case and an embedded
//! IPv4 tail, but no zone id. IPv4 and IPv6 never match each other
//! (`::ffff:10.0.0.1` is not in `10.0.0.0/24`).

use std::net::IpAddr;

/// A parsed `cidr` operand: network bits and mask length.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cidr {
    v6: bool,
    bits: u128,
    mask: u32,
}

fn to_bits(ip: IpAddr) -> (bool, u128) {
    match ip {
        IpAddr::V4(a) => (false, u128::from(u32::from(a))),
        IpAddr::V6(a) => (true, u128::from(a)),
    }
}

/// Parses an IP-looking string; cheap rejection first because this runs on
/// event strings.
pub(crate) fn parse_ip(s: &str) -> Option<IpAddr> {
    let b = s.as_bytes();
    if b.len() < 2 || b.len() > 45 || !(b[0].is_ascii_hexdigit() || b[0] == b':') {
        return None;
    }
    s.parse().ok()
}

impl Cidr {
    /// Validates `addr/mask`; the mask is required and must be below the
    /// address width (use an exact value for a single host). Host bits are
    /// allowed and ignored.
    pub(crate) fn parse(s: &str) -> Result<Cidr, String> {
        let bad = || format!("Nonstandard IP address: {s}");
        let (addr, mask) = s.split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = addr.parse().map_err(|_| bad())?;
        let (v6, bits) = to_bits(ip);
        let width = if v6 { 128 } else { 32 };
        let mask_ok = !mask.is_empty()
            && mask.len() <= 3
            && mask.bytes().all(|b| b.is_ascii_digit())
            && (mask == "0" || !mask.starts_with('0'));
        let mask: u32 = if mask_ok {
            mask.parse().map_err(|_| bad())?
        } else {
            return Err(bad());
        };
        if mask >= width {
            return Err(bad());
        }
        Ok(Cidr { v6, bits, mask })
    }

    /// True if `s` is an address of the same family inside the network.
    pub(crate) fn contains(&self, s: &str) -> bool {
        let Some(ip) = parse_ip(s) else {
            return false;
        };
        let (v6, bits) = to_bits(ip);
        if v6 != self.v6 {
            return false;
        }
        let width = if v6 { 128 } else { 32 };
        let shift = width - self.mask;
        // mask < width, so shift is 1..=128; shifting a u128 by 128 is UB-free
        // only via checked_shr.
        bits.checked_shr(shift).unwrap_or(0) == self.bits.checked_shr(shift).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_rules() {
        for ok in [
            "10.0.0.0/24",
            "10.0.0.77/24",
            "0.0.0.0/0",
            "10.0.0.0/31",
            "2001:db8::/32",
            "2001:DB8::/127",
        ] {
            assert!(Cidr::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "10.0.0.0",
            "10.0.0.0/32",
            "2001:db8::/128",
            "10.0/16",
            "10/8",
            "256.0.0.0/8",
            " 10.0.0.0/8",
            "10.0.0.0/8 ",
            "",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/08",
            "010.0.0.0/8",
            "2001:db8:::/32",
        ] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn containment() {
        let c = Cidr::parse("10.0.0.0/24").unwrap_or_else(|e| panic!("{e}"));
        assert!(c.contains("10.0.0.255"));
        assert!(!c.contains("10.0.1.0"));
        assert!(!c.contains("10.0.0.1:80"));
        assert!(!c.contains("::ffff:10.0.0.1"));
        let c6 = Cidr::parse("2001:db8::/32").unwrap_or_else(|e| panic!("{e}"));
        assert!(c6.contains("2001:DB8:ffff::1"));
        assert!(!c6.contains("2001:db9::1"));
        let all = Cidr::parse("0.0.0.0/0").unwrap_or_else(|e| panic!("{e}"));
        assert!(all.contains("255.255.255.255"));
    }
}
