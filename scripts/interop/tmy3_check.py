"""Checks an Isobar import of a TMY3 file against pandas over the same file.

Usage: tmy3_check.py SOURCE.CSV SCAN.CSV ZONE DAILY.CSV MONTHLY.CSV

SOURCE.CSV is the TMY3 file as pvlib ships it, read here with pandas alone (not Isobar's reader):
times are hour-ending in the station's standard time (the offset on its first line), `24:00` being
the midnight that ends the day (pvlib's own reader moves the 24:00 that ends 28 February of a leap
year to 1 March; the file and Isobar mean 29 February 00:00), -9900 is missing;
SCAN.CSV is `isobar --format csv scan TABLE --all` after the import. Both sides are grouped in
local time of ZONE (a zone with daylight saving time, so local days are 23, 24 or 25 hours long):
the daily maxima of the dry-bulb temperature and the monthly means of temperature and global
horizontal irradiance must agree. DAILY.CSV and MONTHLY.CSV are Isobar's own aggregates in ZONE
(`isobar agg --tz ZONE --bucket 1d --fn max:met.temp_c:temp_max` and `--bucket 1mo --fn
avg:met.temp_c:temp_c --fn avg:met.ghi:ghi`, CSV): each bucket must start at local midnight (of the
1st for months) and hold the same value as pandas' grouping. Exits non-zero with the first
difference.
"""

import sys

import numpy as np
import pandas as pd


def main():
    source, scanned, zone, daily, monthly = sys.argv[1:6]
    with open(source) as f:
        offset_h = float(f.readline().split(",")[3])
    raw = pd.read_csv(source, skiprows=1)
    day = pd.to_datetime(raw["Date (MM/DD/YYYY)"], format="%m/%d/%Y")
    hour = raw["Time (HH:MM)"].str.slice(0, 2).astype(int)
    local_standard = day + pd.to_timedelta(hour, unit="h")
    utc = (local_standard - pd.Timedelta(hours=offset_h)).dt.tz_localize("UTC")
    ref = pd.DataFrame(
        {"temp_c": raw["Dry-bulb (C)"].to_numpy(), "ghi": raw["GHI (W/m^2)"].to_numpy(dtype=float)},
        index=pd.DatetimeIndex(utc).as_unit("ns"),
    ).replace(-9900, float("nan"))

    got = pd.read_csv(scanned)
    got.index = pd.DatetimeIndex(pd.to_datetime(got["ts"], utc=True)).as_unit("ns")
    got = got.rename(columns={"met.temp_c": "temp_c", "met.ghi": "ghi"})[["temp_c", "ghi"]]

    assert len(got) == len(ref) == 8760, f"rows: isobar {len(got)}, pvlib {len(ref)}"
    missing = sorted(set(ref.index) - set(got.index))[:3]
    extra = sorted(set(got.index) - set(ref.index))[:3]
    assert not missing and not extra, f"timestamps differ: pvlib has {missing}, isobar has {extra}"

    def local(frame):
        out = frame.sort_index().copy()
        out.index = out.index.tz_convert(zone)
        return out

    ref_l, got_l = local(ref), local(got)
    day = lambda f: f.index.date
    month = lambda f: [f.index.year, f.index.month]
    ref_max = ref_l["temp_c"].groupby(day(ref_l)).max()
    got_max = got_l["temp_c"].groupby(day(got_l)).max()
    pd.testing.assert_series_equal(got_max, ref_max, check_names=False)
    ref_mean = ref_l.groupby(month(ref_l)).mean()
    got_mean = got_l.groupby(month(got_l)).mean()
    pd.testing.assert_frame_equal(got_mean, ref_mean, check_names=False, rtol=1e-12)
    # Isobar's calendar buckets in the zone against pandas' local grouping.
    agg_day = pd.read_csv(daily)
    starts = pd.to_datetime(agg_day["bucket"], utc=True).dt.tz_convert(zone)
    assert (starts.dt.hour == 0).all() and (starts.dt.minute == 0).all(), "a day bucket not at local midnight"
    agg_max = pd.Series(agg_day["temp_max"].to_numpy(), index=starts.dt.date.to_numpy())
    pd.testing.assert_series_equal(agg_max, ref_max, check_names=False, check_index_type=False)
    agg_month = pd.read_csv(monthly)
    starts = pd.to_datetime(agg_month["bucket"], utc=True).dt.tz_convert(zone)
    assert (starts.dt.day == 1).all() and (starts.dt.hour == 0).all(), "a month bucket not at the 1st, 00:00"
    months = [(int(y), int(m)) for y, m in zip(starts.dt.year, starts.dt.month)]
    ref_months = [(int(y), int(m)) for y, m in ref_mean.index]
    assert months == ref_months, f"months: isobar {months[:3]}..., pandas {ref_months[:3]}..."
    for column in ["temp_c", "ghi"]:
        got_values, ref_values = agg_month[column].to_numpy(), ref_mean[column].to_numpy()
        assert np.allclose(got_values, ref_values, rtol=1e-9, atol=0), f"monthly {column}: {got_values} vs {ref_values}"
    # The zone really has DST in this data: some local day is not 24 hours of rows.
    hours = got_l.groupby(day(got_l)).size()
    assert set(hours.unique()) - {24}, f"no DST day seen in {zone}"
    print(
        f"tmy3 ok: {len(got)} rows, {len(got_max)} local days, {len(got_mean)} months in {zone}; "
        f"isobar agg: {len(agg_max)} local days, {len(months)} months"
    )


if __name__ == "__main__":
    main()
