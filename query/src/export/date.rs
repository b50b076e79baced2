//! Calendar dates of timestamps, for the `date=`, `month=` and `year=` partitions (UTC,
//! proleptic Gregorian calendar).

/// Nanoseconds in a day.
pub(crate) const DAY_NS: i64 = 86_400_000_000_000;

/// The day number (days since 1970-01-01) of `ts`.
pub(crate) fn day_of(ts: i64) -> i64 {
    ts.div_euclid(DAY_NS)
}

/// `(year, month, day)` of day number `days`.
///
/// Works on 400-year eras of 146,097 days starting on March 1st, so that the leap day is the
/// last day of a shifted year and months have a closed form.
pub(crate) fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097; // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365], from March 1st
    let mp = (5 * doy + 2) / 153; // month from March: [0, 11]
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The day number of `year-month-day` (the inverse of [`civil`]; `month` in 1..=12).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400; // [0, 399]
    let mp = i64::from((month + 9) % 12); // month from March: [0, 11]
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1; // [0, 365]
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; // [0, 146096]
    era * 146_097 + doe - 719_468
}

/// `YYYY-MM-DD` of day number `days`.
pub(crate) fn date_string(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(date_string(0), "1970-01-01");
        assert_eq!(date_string(-1), "1969-12-31");
        assert_eq!(date_string(day_of(1_704_067_200_000_000_000)), "2024-01-01");
        assert_eq!(date_string(day_of(1_709_164_800_000_000_000)), "2024-02-29");
        assert_eq!(date_string(day_of(951_782_400_000_000_000)), "2000-02-29");
        assert_eq!(date_string(day_of(-1)), "1969-12-31");
    }

    #[test]
    fn days_from_civil_inverts_civil() {
        for d in (-800_000..800_000).step_by(7) {
            let (y, m, day) = civil(d);
            assert_eq!(days_from_civil(y, m, day), d, "{y}-{m}-{day}");
        }
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 1), 29);
    }

    #[test]
    fn consecutive_days_advance_by_one() {
        let mut prev = civil(-800_000);
        for d in -799_999..800_000 {
            let cur = civil(d);
            let next_in_month = cur.0 == prev.0 && cur.1 == prev.1 && cur.2 == prev.2 + 1;
            let new_month = cur.2 == 1
                && ((cur.0 == prev.0 && cur.1 == prev.1 + 1) || (cur.0 == prev.0 + 1 && cur.1 == 1 && prev.1 == 12));
            assert!(next_in_month || new_month, "{prev:?} -> {cur:?}");
            prev = cur;
        }
    }
}
