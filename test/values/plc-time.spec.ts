import { strict as assert } from "node:assert";
import {
  PlcDate,
  dateFromDays,
  daysFromDate,
  s5TimeToMs,
  msToS5Time,
  dateAndTimeToDate,
  dateToDateAndTime,
  dtlToDate,
  dateToDtl,
  ldtToDate,
  dateToLdt,
  checkTimeOfDayMs,
} from "../../src/values/plc-time.js";
import { fromHex, toHex } from "../../src/protocol/bytes.js";
import { ValueError } from "../../src/errors.js";

describe("PLC date and time formats", () => {
  it("DATE counts days since 1990-01-01", () => {
    assert.equal(dateFromDays(0).toISOString(), "1990-01-01T00:00:00.000Z");
    assert.equal(daysFromDate("2026-11-24"), 13476);
    assert.equal(dateFromDays(13476).toISOString(), "2026-11-24T00:00:00.000Z");
    assert.throws(() => daysFromDate("1989-12-31"), ValueError);
    assert.throws(() => daysFromDate("not a date"), /is not a date/);
  });

  it("S5TIME decodes time base and BCD digits and encodes with the smallest base", () => {
    assert.equal(s5TimeToMs(0x0000), 0);
    assert.equal(s5TimeToMs(0x2127), 127_000); // base 1 s, 127
    assert.equal(s5TimeToMs(0x3999), 9_990_000);
    assert.equal(msToS5Time(500), 0x0050); // 50 × 10 ms
    assert.equal(msToS5Time(127_000), 0x2127); // 127 × 1 s
    for (const ms of [0, 10, 990, 9990, 12_300, 99_900, 999_000, 9_990_000]) assert.equal(s5TimeToMs(msToS5Time(ms)), ms, String(ms));
    assert.equal(s5TimeToMs(msToS5Time(12_345)), 12_300, "finer parts are cut off");
    assert.throws(() => msToS5Time(9_990_001), ValueError);
    assert.throws(() => msToS5Time(-1), ValueError);
  });

  it("DATE_AND_TIME uses BCD with the weekday in the last nibble (capture value 1990-01-01)", () => {
    // S7-1511 all-types capture (test/fixtures/vectors/README.md §5.6 row 17): 90 01 01 00 00 00 00 02 = 1990-01-01 00:00:00.000, Monday.
    assert.equal(dateAndTimeToDate(fromHex("90 01 01 00 00 00 00 02")).toISOString(), "1990-01-01T00:00:00.000Z");
    assert.equal(toHex(dateToDateAndTime(new Date("1990-01-01T00:00:00Z"))), "90 01 01 00 00 00 00 02");
    assert.equal(toHex(dateToDateAndTime("2026-11-24T13:45:59.123Z")), "26 11 24 13 45 59 12 33");
    assert.equal(dateAndTimeToDate(fromHex("26 11 24 13 45 59 12 33")).toISOString(), "2026-11-24T13:45:59.123Z");
    assert.throws(() => dateAndTimeToDate(fromHex("9a 01 01 00 00 00 00 02")), /not BCD/);
    assert.throws(() => dateToDateAndTime("2090-01-01T00:00:00Z"), ValueError);
  });

  it("DTL keeps nanoseconds in a PlcDate", () => {
    const d = dtlToDate(fromHex("07 ea 0b 18 03 0d 2d 3b 07 5b cd 15"));
    assert.ok(d instanceof Date && d instanceof PlcDate);
    assert.equal(d.toISOString(), "2026-11-24T13:45:59.123Z");
    assert.equal(d.nanoseconds, 123_456_789);
    assert.equal(toHex(dateToDtl(d)), "07 ea 0b 18 03 0d 2d 3b 07 5b cd 15");
    assert.equal(toHex(dateToDtl(new Date("2026-11-24T13:45:59.123Z"))), "07 ea 0b 18 03 0d 2d 3b 07 54 d4 c0");
  });

  it("LDT counts nanoseconds since 1970", () => {
    const d = ldtToDate(1_795_009_559_123_456_789n);
    assert.equal(d.toISOString(), "2026-11-18T13:45:59.123Z");
    assert.equal(d.nanoseconds, 123_456_789);
    assert.equal(dateToLdt(d), 1_795_009_559_123_456_789n);
    assert.throws(() => dateToLdt("1969-12-31T23:59:59Z"), ValueError);
  });

  it("TIME_OF_DAY is 0 … 86399999 ms", () => {
    assert.equal(checkTimeOfDayMs(86_399_999), 86_399_999);
    assert.throws(() => checkTimeOfDayMs(86_400_000), /Time_Of_Day: 86400000 is outside/);
    assert.throws(() => checkTimeOfDayMs(1.5), ValueError);
  });
});
