//! Dates as log lines write them: syslog headers (`Nov  5 08:07:06`), ISO
//! 8601 with microseconds, and HAProxy's `25/Nov/2026:08:57:46.116` forms,
//! in local time (the process's TZ) or GMT.
use std::time::{SystemTime, UNIX_EPOCH};

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// A broken-down date.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tm {
    pub year: i32,
    /// 1..=12
    pub mon: u32,
    pub mday: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub usec: u32,
    /// Seconds east of UTC.
    pub gmtoff: i64,
}

impl Tm {
    /// `t` in local time (`utc`: in GMT).
    pub fn of(t: SystemTime, utc: bool) -> Tm {
        let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
        let secs = d.as_secs() as libc::time_t;
        // SAFETY: an all-zero `tm` is a valid value for the C struct, and
        // localtime_r/gmtime_r only write into the one we own.
        let mut tm: libc::tm = unsafe { std::mem::zeroed() };
        unsafe {
            if utc {
                libc::gmtime_r(&secs, &mut tm);
            } else {
                libc::localtime_r(&secs, &mut tm);
            }
        }
        Tm {
            year: tm.tm_year + 1900,
            mon: (tm.tm_mon + 1) as u32,
            mday: tm.tm_mday as u32,
            hour: tm.tm_hour as u32,
            min: tm.tm_min as u32,
            sec: tm.tm_sec as u32,
            usec: d.subsec_micros(),
            gmtoff: if utc { 0 } else { tm.tm_gmtoff },
        }
    }

    fn month(&self) -> &'static str {
        MONTHS[(self.mon.clamp(1, 12) - 1) as usize]
    }

    /// `+01:00` (`colon`) or `+0100`.
    fn offset(&self, colon: bool) -> String {
        let sign = if self.gmtoff < 0 { '-' } else { '+' };
        let m = self.gmtoff.unsigned_abs() / 60;
        if colon {
            format!("{sign}{:02}:{:02}", m / 60, m % 60)
        } else {
            format!("{sign}{:02}{:02}", m / 60, m % 60)
        }
    }

    /// `25/Nov/2026:08:57:46.116` (`%t`, `%tr`).
    pub fn accept_ms(&self) -> String {
        format!(
            "{:02}/{}/{:04}:{:02}:{:02}:{:02}.{:03}",
            self.mday,
            self.month(),
            self.year,
            self.hour,
            self.min,
            self.sec,
            self.usec / 1000
        )
    }

    /// `25/Nov/2026:08:57:46 +0000` (`%T`, `%Tl`, `%trg`, `%trl`).
    pub fn clf(&self) -> String {
        format!(
            "{:02}/{}/{:04}:{:02}:{:02}:{:02} {}",
            self.mday,
            self.month(),
            self.year,
            self.hour,
            self.min,
            self.sec,
            self.offset(false)
        )
    }
}

/// The time a line is sent, as its header writes it.
pub struct Now {
    tm: Tm,
}

impl Now {
    pub fn get() -> Now {
        Now {
            tm: Tm::of(SystemTime::now(), false),
        }
    }

    #[cfg(test)]
    pub fn fixed(year: i32, mon: u32, mday: u32, hour: u32, min: u32, sec: u32, usec: u32) -> Now {
        Now {
            tm: Tm {
                year,
                mon,
                mday,
                hour,
                min,
                sec,
                usec,
                gmtoff: 0,
            },
        }
    }

    /// `Nov  5 08:07:06` (RFC 3164: the day padded with a space).
    pub fn syslog(&self) -> String {
        let t = &self.tm;
        format!(
            "{} {:2} {:02}:{:02}:{:02}",
            t.month(),
            t.mday,
            t.hour,
            t.min,
            t.sec
        )
    }

    /// `2026-11-05T08:07:06.123456+00:00`.
    pub fn iso(&self) -> String {
        let t = &self.tm;
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}{}",
            t.year,
            t.mon,
            t.mday,
            t.hour,
            t.min,
            t.sec,
            t.usec,
            t.offset(true)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn haproxy_date_forms() {
        // 2026-11-25 08:57:46.116 UTC
        let t = UNIX_EPOCH + Duration::from_millis(1_795_597_066_116);
        let tm = Tm::of(t, true);
        assert_eq!(tm.accept_ms(), "25/Nov/2026:08:57:46.116");
        assert_eq!(tm.clf(), "25/Nov/2026:08:57:46 +0000");
    }
}
