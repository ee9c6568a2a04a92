//! Numbers with HAProxy's units: times (`10s`, `1m`, default ms), sizes
//! (`16k`), and plain integers.
use nom::character::complete::digit1;
use nom::combinator::map_res;
use nom::IResult;

/// Why a time value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimeError {
    Empty,
    /// The first character that is neither a digit nor a known unit.
    BadChar(char),
    Overflow,
}

fn number(s: &str) -> IResult<&str, u64> {
    map_res(digit1, str::parse::<u64>)(s)
}

/// `<digits>[us|ms|s|m|h|d]`, in `unit_ms` units of the result (1 for ms).
/// The largest value HAProxy accepts is 2^31-1 ms.
pub fn parse_time_ms(text: &str) -> Result<u64, TimeError> {
    let (rest, n) = match number(text) {
        Ok(v) => v,
        Err(_) => {
            return Err(match text.chars().next() {
                None => TimeError::Empty,
                Some(c) => TimeError::BadChar(c),
            })
        }
    };
    let (num, den): (u64, u64) = match rest {
        "" | "ms" => (1, 1),
        "us" => (1, 1000),
        "s" => (1000, 1),
        "m" => (60_000, 1),
        "h" => (3_600_000, 1),
        "d" => (86_400_000, 1),
        other => {
            // HAProxy names the first character it could not use.
            let bad = other
                .char_indices()
                .find(|(i, _)| {
                    !["us", "ms", "s", "m", "h", "d"]
                        .iter()
                        .any(|u| other[..*i + 1] == u[..(*i + 1).min(u.len())])
                })
                .map(|(_, c)| c)
                .unwrap_or_else(|| other.chars().next().unwrap_or('?'));
            return Err(TimeError::BadChar(bad));
        }
    };
    let ms = n.checked_mul(num).ok_or(TimeError::Overflow)?.div_ceil(den);
    if ms > i32::MAX as u64 {
        return Err(TimeError::Overflow);
    }
    Ok(ms)
}

/// A time whose valid unit is followed by more characters (`10sx`): 2.6
/// takes the value and only warns. Returns the value and the warning text.
pub fn time_with_trailing(text: &str) -> Option<(u64, String)> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let rest = &text[digits..];
    let unit = ["us", "ms", "s", "m", "h", "d"]
        .into_iter()
        .find(|u| rest.starts_with(u))?;
    let junk = rest[unit.len()..].chars().next()?;
    let ms = parse_time_ms(&text[..digits + unit.len()]).ok()?;
    Some((
        ms,
        format!(
            "unexpected character '{junk}' after the timer value '{text}', only (us=microseconds,ms=milliseconds,s=seconds,m=minutes,h=hours,d=days) are supported. This will be reported as an error in next versions."
        ),
    ))
}

/// `<digits>[k|m|g]` (binary multiples, as HAProxy's sizes).
pub fn parse_size(text: &str) -> Option<u64> {
    let (rest, n) = number(text).ok()?;
    let mult = match rest {
        "" => 1,
        "k" | "K" => 1 << 10,
        "m" | "M" => 1 << 20,
        "g" | "G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// Leading digits as C's `atol` reads them (HAProxy uses it for many
/// settings, so `retries x` is 0 and `maxconn 10x` is 10: we accept the same).
pub fn atol(text: &str) -> i64 {
    let t = text.trim_start();
    let (neg, digits) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let n = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |a, d| {
            a.saturating_mul(10).saturating_add((d - b'0') as i64)
        });
    if neg {
        -n
    } else {
        n
    }
}

/// A strict integer: all digits, fits in u32.
pub fn parse_u32(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time_ms("5000"), Ok(5000));
        assert_eq!(parse_time_ms("5s"), Ok(5000));
        assert_eq!(parse_time_ms("1m"), Ok(60_000));
        assert_eq!(parse_time_ms("2h"), Ok(7_200_000));
        assert_eq!(parse_time_ms("1d"), Ok(86_400_000));
        assert_eq!(parse_time_ms("100ms"), Ok(100));
        assert_eq!(parse_time_ms("1500us"), Ok(2));
        assert_eq!(parse_time_ms("30x"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time_ms("1mx"), Err(TimeError::BadChar('x')));
        assert_eq!(parse_time_ms("abc"), Err(TimeError::BadChar('a')));
        assert_eq!(parse_time_ms(""), Err(TimeError::Empty));
        assert_eq!(parse_time_ms("30d"), Err(TimeError::Overflow));
        assert_eq!(time_with_trailing("10sx").map(|t| t.0), Some(10_000));
        assert_eq!(time_with_trailing("30x"), None);
        assert_eq!(time_with_trailing("5s"), None);
    }

    #[test]
    fn sizes_and_ints() {
        assert_eq!(parse_size("16k"), Some(16384));
        assert_eq!(parse_size("1m"), Some(1 << 20));
        assert_eq!(parse_size("12"), Some(12));
        assert_eq!(parse_size("1x"), None);
        assert_eq!(atol("10x"), 10);
        assert_eq!(atol("x"), 0);
        assert_eq!(parse_u32("42"), Some(42));
        assert_eq!(parse_u32("4a"), None);
    }
}
