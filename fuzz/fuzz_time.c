/*
 * fuzz_time: ISO-8601 and duration parsing on arbitrary bytes, and the
 * formatter on arbitrary instants.
 *
 * Invariants from tgtime.h:
 * - tgtime_parse_iso() leaves *us alone on failure. On success the input is
 *   "YYYY-MM-DDTHH:MM:SS[.f…]Z", and tgtime_format_iso() writes the same
 *   text back with the fraction cut or padded to six digits; that text
 *   parses to the same value (the round trip), and the day count agrees with
 *   tgtime_days_from_civil().
 * - tgtime_format_iso() of any int64 writes 27 bytes that parse back to the
 *   instant clamped to years 0000..9999.
 * - tgtime_parse_iso_near() gives what tgtime_parse_iso() gives, for the
 *   input and for the input with its first 16 bytes taken from the
 *   reference (the same minute: the short path).
 * - tgtime_parse_seconds() agrees with a plain reading of the number:
 *   microseconds rounded half up at the seventh fraction digit.
 */
#include "fuzz_check.h"

#include <string.h>

#include "decode/tgtime.h"

#define SENTINEL INT64_C(0x5eadbeef5eadbeef)

static void check_iso(const char *s, size_t n)
{
    int64_t us = SENTINEL;
    if (!tgtime_parse_iso(s, n, &us)) {
        FZ_CHECK(us == SENTINEL, "failed parse wrote %lld", (long long)us);
        return;
    }
    FZ_CHECK(n >= 20 && n <= 30 && (n == 20 || n >= 22), "accepted %zu bytes", n);

    char out[32];
    FZ_CHECK(tgtime_format_iso(us, out) == 27 && strlen(out) == 27, "format length");
    /* The expected text: the input's date and time, the fraction cut or
     * padded to six digits. */
    char want[28];
    memcpy(want, s, 19);
    want[19] = '.';
    size_t nf = n > 20 ? n - 21 : 0;
    for (size_t i = 0; i < 6; i++)
        want[20 + i] = i < nf ? s[20 + i] : '0';
    want[26] = 'Z';
    want[27] = '\0';
    FZ_CHECK(memcmp(out, want, 27) == 0, "\"%.*s\" parsed to %lld, formatted as %s (want %s)",
             (int)n, s, (long long)us, out, want);

    /* The round trip. Digits past the sixth were already dropped by the
     * parse, so it holds for every accepted fraction, not only those of at
     * most six digits. */
    int64_t back = SENTINEL;
    FZ_CHECK(tgtime_parse_iso(out, 27, &back) && back == us,
             "round trip: %s parses to %lld, not %lld", out, (long long)back, (long long)us);

    int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    unsigned mo = (unsigned)((s[5] - '0') * 10 + (s[6] - '0'));
    unsigned d = (unsigned)((s[8] - '0') * 10 + (s[9] - '0'));
    int64_t days = tgtime_days_from_civil(y, mo, d);
    int64_t day_us = INT64_C(86400000000);
    int64_t floor_days = us >= 0 ? us / day_us : -((-us + day_us - 1) / day_us);
    FZ_CHECK(floor_days == days, "%.*s: %lld days from the parse, %lld from days_from_civil",
             (int)n, s, (long long)floor_days, (long long)days);
}

static void check_near(const char *s, size_t n)
{
    static const char *const refs[] = {"2025-11-20T08:00:59.999999Z", "1969-12-31T23:59:30.5Z"};
    char t[40];
    if (n > sizeof t)
        return;
    for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++) {
        int64_t ref_us = 0;
        FZ_CHECK(tgtime_parse_iso(refs[r], strlen(refs[r]), &ref_us), "reference");
        for (int same_minute = 0; same_minute < 2; same_minute++) {
            memcpy(t, s, n);
            if (same_minute && n >= 16)
                memcpy(t, refs[r], 16);
            int64_t near = SENTINEL, full = SENTINEL;
            bool ok_near = tgtime_parse_iso_near(t, n, refs[r], ref_us, &near);
            bool ok_full = tgtime_parse_iso(t, n, &full);
            FZ_CHECK(ok_near == ok_full && near == full,
                     "\"%.*s\" near %s: %d %lld, full parse %d %lld", (int)n, t, refs[r], ok_near,
                     (long long)near, ok_full, (long long)full);
        }
    }
}

static void check_format(int64_t us)
{
    const int64_t day_us = INT64_C(86400000000);
    const int64_t lo = INT64_C(-719528) * day_us, hi = INT64_C(2932897) * day_us - 1;
    int64_t want = us < lo ? lo : us > hi ? hi : us;
    char out[32];
    memset(out, 'x', sizeof out);
    FZ_CHECK(tgtime_format_iso(us, out) == 27, "format length");
    FZ_CHECK(out[27] == '\0' && strlen(out) == 27, "format not terminated");
    int64_t back = SENTINEL;
    FZ_CHECK(tgtime_parse_iso(out, 27, &back) && back == want,
             "%lld formatted as %s, which parses to %lld", (long long)us, out, (long long)back);
}

static void check_seconds(const char *s, size_t n)
{
    int64_t us = SENTINEL;
    bool ok = tgtime_parse_seconds(s, n, &us);

    /* The same number read plainly. */
    bool rok;
    int64_t rus = 0;
    if ((n == 1 && s[0] == '-') || (n == 2 && s[0] == '-' && s[1] == '1')) {
        rok = true;
        rus = -1;
    } else {
        size_t i = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        size_t whole_digits = i;
        rok = whole_digits >= 1 && whole_digits <= 12;
        size_t frac_from = n, frac_digits = 0;
        if (rok && i < n) {
            frac_from = i + 1;
            rok = s[i] == '.' && i + 1 < n;
            for (size_t k = i + 1; rok && k < n; k++)
                rok = s[k] >= '0' && s[k] <= '9';
            frac_digits = rok ? n - frac_from : 0;
        }
        if (rok) {
            for (size_t k = 0; k < whole_digits; k++)
                rus = rus * 10 + (s[k] - '0');
            int64_t frac = 0;
            for (size_t k = 0; k < 6; k++)
                frac = frac * 10 + (k < frac_digits ? s[frac_from + k] - '0' : 0);
            if (frac_digits > 6 && s[frac_from + 6] >= '5')
                frac++;
            rus = rus * 1000000 + frac;
        }
    }
    FZ_CHECK(ok == rok, "tgtime_parse_seconds(\"%.*s\") says %d, plain reading %d", (int)n, s,
             ok, rok);
    if (!ok) {
        FZ_CHECK(us == SENTINEL, "failed parse wrote %lld", (long long)us);
        return;
    }
    FZ_CHECK(us == rus, "tgtime_parse_seconds(\"%.*s\") = %lld, plain reading %lld", (int)n, s,
             (long long)us, (long long)rus);
    FZ_CHECK(us >= -1, "negative duration %lld", (long long)us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *s = (const char *)data;
    check_iso(s, size);
    check_near(s, size);
    check_seconds(s, size);
    if (size >= 8) {
        uint64_t v;
        memcpy(&v, data, 8);
        check_format((int64_t)v);
    }
    /* The last 4 bytes read as an offset from an instant near today (and
     * from one before 1970) reach ordinary days more often than raw int64s
     * do. */
    if (size >= 4) {
        uint32_t v;
        memcpy(&v, data + size - 4, 4);
        check_format(INT64_C(1700000000000000) + (int64_t)v * 997);
        check_format(-INT64_C(1700000000000000) - (int64_t)v * 1000003);
    }
    return 0;
}
