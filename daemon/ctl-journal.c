/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs read back from the journal. See ctl-journal.h. The field names are
 * those report-journal.c writes; nothing here writes to the journal.
 */
#include <ctype.h>
#include <inttypes.h>

#include "config.h"
#include "ctl-journal.h"

#define IDENTIFIER_MATCH  "SYSLOG_IDENTIFIER=nautobot-verifyd"
#define RUN_ID_PREFIX_MIN 6

static void run_check_done(RunCheck *c)
{
        free(c->check);
        free(c->result);
        free(c->reason);
        free(c->evidence);
        for (size_t i = 0; i < c->n_findings; i++)
                free(c->findings[i]);
        free(c->findings);
}

Run *run_free(Run *r)
{
        if (!r)
                return NULL;
        free(r->instance);
        free(r->package);
        free(r->app);
        free(r->version);
        free(r->url);
        free(r->hostname);
        free(r->verdict);
        free(r->trigger_package);
        free(r->change);
        free(r->old_version);
        free(r->new_version);
        for (size_t i = 0; i < r->n_checks; i++)
                run_check_done(&r->checks[i]);
        free(r);
        return NULL;
}

void run_free_many(Run **runs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                run_free(runs[i]);
        free(runs);
}

int run_journal_open(const CtlOptions *o, sd_journal **ret)
{
        sd_journal *j = NULL;
        int r;

        if (o->journal_directory)
                r = sd_journal_open_directory(&j, o->journal_directory, 0);
        else if (o->journal_files)
                r = sd_journal_open_files(&j, (const char **)o->journal_files, 0);
        else
                r = sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY);
        if (r < 0)
                return r;
        /* Compressed fields are decompressed only this far; the rest is cut below too. */
        r = sd_journal_set_data_threshold(j, RUN_FIELD_MAX);
        if (r < 0) {
                sd_journal_close(j);
                return r;
        }
        *ret = j;
        return 0;
}

/* The value of a "FIELD=value" datum when its name is 'field', else NULL. */
static const char *field_value(const void *data, size_t len, const char *field, size_t *ret_len)
{
        size_t n = strlen(field);

        if (len <= n || memcmp(data, field, n) != 0 || ((const char *)data)[n] != '=')
                return NULL;
        *ret_len = len - n - 1;
        return (const char *)data + n + 1;
}

/* A copy cut at RUN_FIELD_MAX bytes (at a character boundary) and at a NUL byte. */
static char *value_dup(const char *v, size_t len)
{
        if (len > RUN_FIELD_MAX) {
                len = RUN_FIELD_MAX;
                while (len > 0 && ((unsigned char)v[len] & 0xc0) == 0x80)
                        len--;
        }
        return strndup(v, len);
}

/* Sets *dst once (the first entry's value wins); -ENOMEM. */
static int set_once(char **dst, const char *v, size_t len)
{
        if (*dst)
                return 0;
        *dst = value_dup(v, len);
        return *dst ? 0 : -ENOMEM;
}

static uint64_t parse_u64(const char *v, size_t len)
{
        char buf[24], *end;
        unsigned long long x;

        if (len == 0 || len >= sizeof(buf))
                return 0;
        memcpy(buf, v, len);
        buf[len] = 0;
        errno = 0;
        x = strtoull(buf, &end, 10);
        return errno || *end || !isdigit((unsigned char)buf[0]) ? 0 : (uint64_t)x;
}

static unsigned parse_count(const char *v, size_t len)
{
        uint64_t x = parse_u64(v, len);

        return x > UINT32_MAX ? UINT32_MAX : (unsigned)x;
}

/* The fields every entry of a run carries (report-journal.c's add_common()). */
static int parse_common(Run *run, const void *d, size_t l)
{
        static const struct {
                const char *field;
                size_t offset;
        } fields[] = {
                {"NVD_INSTANCE", offsetof(Run, instance)},
                {"NVD_PACKAGE", offsetof(Run, package)},
                {"NVD_APP", offsetof(Run, app)},
                {"NVD_VERSION", offsetof(Run, version)},
                {"NVD_URL", offsetof(Run, url)},
                {"_HOSTNAME", offsetof(Run, hostname)},
                {"NVD_TRIGGER_PACKAGE", offsetof(Run, trigger_package)},
                {"NVD_CHANGE", offsetof(Run, change)},
                {"NVD_OLD_VERSION", offsetof(Run, old_version)},
                {"NVD_NEW_VERSION", offsetof(Run, new_version)},
        };
        const char *v;
        size_t n;

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if ((v = field_value(d, l, fields[i].field, &n)))
                        return set_once((char **)((uint8_t *)run + fields[i].offset), v, n);
        if ((v = field_value(d, l, "_PID", &n)) && run->pid == 0)
                run->pid = parse_u64(v, n);
        return 0;
}

static int parse_summary_field(Run *run, const void *d, size_t l)
{
        const char *v;
        size_t n;

        if ((v = field_value(d, l, "NVD_RESULT", &n)))
                return set_once(&run->verdict, v, n);
        if ((v = field_value(d, l, "NVD_PASSED", &n)))
                run->passed = parse_count(v, n);
        else if ((v = field_value(d, l, "NVD_FAILED", &n)))
                run->failed = parse_count(v, n);
        else if ((v = field_value(d, l, "NVD_ERRORS", &n)))
                run->errors = parse_count(v, n);
        else if ((v = field_value(d, l, "NVD_SKIPPED", &n)))
                run->skipped = parse_count(v, n);
        else if ((v = field_value(d, l, "NVD_DURATION_USEC", &n)))
                run->duration_usec = parse_u64(v, n);
        return 0;
}

static int parse_check_field(RunCheck *c, const void *d, size_t l)
{
        const char *v;
        size_t n;

        if ((v = field_value(d, l, "NVD_RESULT", &n)))
                return set_once(&c->result, v, n);
        if ((v = field_value(d, l, "NVD_REASON", &n)))
                return set_once(&c->reason, v, n);
        if ((v = field_value(d, l, "NVD_EVIDENCE", &n)))
                return set_once(&c->evidence, v, n);
        if ((v = field_value(d, l, "NVD_DURATION_USEC", &n))) {
                c->duration_usec = parse_u64(v, n);
                return 0;
        }
        if ((v = field_value(d, l, "NVD_FINDING", &n))) {
                char **f;

                if (c->n_findings >= RUN_FINDINGS_MAX) {
                        c->findings_cut = true;
                        return 0;
                }
                f = realloc(c->findings, (c->n_findings + 1) * sizeof(char *));
                if (!f)
                        return -ENOMEM;
                c->findings = f;
                f[c->n_findings] = value_dup(v, n);
                if (!f[c->n_findings])
                        return -ENOMEM;
                c->n_findings++;
        }
        return 0;
}

int run_add_entry(sd_journal *j, Run *run)
{
        _cleanup_free_ char *check = NULL;
        RunCheck *c = NULL;
        const void *d;
        const char *v;
        uint64_t t = 0;
        size_t l, n;
        bool summary;
        int r;

        r = sd_journal_get_data(j, "NVD_CHECK", &d, &l);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        v = field_value(d, l, "NVD_CHECK", &n);
        if (!v || n == 0)
                return 0;
        check = value_dup(v, n);
        if (!check)
                return -ENOMEM;
        (void)sd_journal_get_realtime_usec(j, &t);
        summary = streq(check, "summary");
        if (summary) {
                if (run->verdict) /* a second summary of one run: keep the first */
                        return 0;
                run->realtime_usec = t;
        } else {
                for (size_t i = 0; i < run->n_checks; i++)
                        if (streq(run->checks[i].check, check))
                                return 0; /* one entry per check; a repeat is ignored */
                if (run->n_checks >= RUN_CHECKS_MAX) {
                        run->checks_cut = true;
                        return 0;
                }
                c = &run->checks[run->n_checks++];
                c->check = TAKE_PTR(check);
                c->realtime_usec = t;
                if (!run->verdict && t > run->realtime_usec)
                        run->realtime_usec = t;
        }
        SD_JOURNAL_FOREACH_DATA(j, d, l)
        {
                r = parse_common(run, d, l);
                if (r >= 0)
                        r = summary ? parse_summary_field(run, d, l) : parse_check_field(c, d, l);
                if (r < 0)
                        return r;
        }
        /* A summary without NVD_RESULT would read as unfinished: say what it is. */
        if (summary && !run->verdict && !(run->verdict = strdup("incomplete")))
                return -ENOMEM;
        return 0;
}

int run_load(sd_journal *j, sd_id128_t id, Run **ret)
{
        _cleanup_(run_freep) Run *run = NULL;
        char match[sizeof("NVD_RUN_ID=") + SD_ID128_STRING_MAX];
        unsigned entries = 0;
        int r;

        run = calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        run->id = id;
        snprintf(match, sizeof(match), "NVD_RUN_ID=" SD_ID128_FORMAT_STR, SD_ID128_FORMAT_VAL(id));
        sd_journal_flush_matches(j);
        r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, IDENTIFIER_MATCH, 0);
        if (r >= 0)
                r = sd_journal_seek_head(j);
        if (r < 0)
                return r;
        /* A run writes ten entries; a journal holding many more under one id is not ours. */
        while (entries < 4 * RUN_CHECKS_MAX && (r = sd_journal_next(j)) > 0) {
                entries++;
                r = run_add_entry(j, run);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        if (run->n_checks == 0 && !run->verdict)
                return -ENOENT;
        run_sort_checks(run);
        *ret = TAKE_PTR(run);
        return 0;
}

static bool is_hex(const char *s)
{
        for (; *s; s++)
                if (!isxdigit((unsigned char)*s))
                        return false;
        return true;
}

int run_resolve(sd_journal *j, const char *text, sd_id128_t *ret, char **ret_error)
{
        _cleanup_free_ char *prefix = NULL;
        sd_id128_t found[3];
        unsigned n_found = 0, seen = 0;
        const void *d;
        size_t l, n = strlen(text);
        int r;

        if ((n == 32 || n == 36) && sd_id128_from_string(text, ret) >= 0)
                return 0;
        if (n < RUN_ID_PREFIX_MIN || n >= 32 || !is_hex(text)) {
                *ret_error = strjoin_printf(
                        "'%s' is not a run id (32 hexadecimal digits as in NVD_RUN_ID, or a unique prefix of at least %d)",
                        text, RUN_ID_PREFIX_MIN);
                return -EINVAL;
        }
        prefix = strdup(text);
        if (!prefix)
                return -ENOMEM;
        for (char *p = prefix; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        r = sd_journal_query_unique(j, "NVD_RUN_ID");
        if (r < 0)
                return r;
        SD_JOURNAL_FOREACH_UNIQUE(j, d, l)
        {
                const char *v;
                size_t vl;
                char id[SD_ID128_STRING_MAX];

                if (++seen > RUN_ENTRIES_MAX)
                        break;
                v = field_value(d, l, "NVD_RUN_ID", &vl);
                if (!v || vl != 32 || strncmp(v, prefix, n) != 0)
                        continue;
                memcpy(id, v, 32);
                id[32] = 0;
                if (n_found < ELEMENTSOF(found) && sd_id128_from_string(id, &found[n_found]) >= 0)
                        n_found++;
        }
        if (n_found == 0) {
                *ret_error =
                        strjoin_printf("No run in the journal has an id starting with '%s'", text);
                return -ENOENT;
        }
        if (n_found > 1) {
                *ret_error =
                        strjoin_printf("Run id prefix '%s' is ambiguous (" SD_ID128_FORMAT_STR
                                       ", " SD_ID128_FORMAT_STR "%s): give more digits",
                                       text, SD_ID128_FORMAT_VAL(found[0]),
                                       SD_ID128_FORMAT_VAL(found[1]), n_found > 2 ? ", ..." : "");
                return -ENOTUNIQ;
        }
        *ret = found[0];
        return 0;
}

static int add_filters(sd_journal *j, const CtlOptions *o)
{
        _cleanup_free_ char *instance = NULL, *package = NULL;
        int r;

        sd_journal_flush_matches(j);
        r = sd_journal_add_match(j, IDENTIFIER_MATCH, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "NVD_CHECK=summary", 0);
        if (r >= 0 && o->instance) {
                instance = strjoin_printf("NVD_INSTANCE=%s", o->instance);
                r = instance ? sd_journal_add_match(j, instance, 0) : -ENOMEM;
        }
        if (r >= 0 && o->package) {
                package = strjoin_printf("NVD_PACKAGE=%s", o->package);
                r = package ? sd_journal_add_match(j, package, 0) : -ENOMEM;
        }
        return r;
}

static int entry_run_id(sd_journal *j, sd_id128_t *ret)
{
        char id[SD_ID128_STRING_MAX];
        const void *d;
        const char *v;
        size_t l, n;
        int r;

        r = sd_journal_get_data(j, "NVD_RUN_ID", &d, &l);
        if (r < 0)
                return r;
        v = field_value(d, l, "NVD_RUN_ID", &n);
        if (!v || n != 32)
                return -EBADMSG;
        memcpy(id, v, 32);
        id[32] = 0;
        return sd_id128_from_string(id, ret);
}

int run_find_last(sd_journal *j, const CtlOptions *o, sd_id128_t *ret)
{
        unsigned entries = 0;
        int r;

        r = add_filters(j, o);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        /* The newest summary that names its run (an entry without one is not ours). */
        while (entries++ < RUN_ENTRIES_MAX && (r = sd_journal_previous(j)) > 0)
                if (entry_run_id(j, ret) >= 0)
                        return 0;
        return r < 0 ? r : -ENOENT;
}

int run_find_by_pid(sd_journal *j, pid_t pid, uint64_t since_usec, sd_id128_t *ids, size_t max,
                    size_t *ret_n)
{
        char match[sizeof("_PID=") + 20];
        unsigned entries = 0;
        size_t n = 0;
        int r;

        *ret_n = 0;
        snprintf(match, sizeof(match), "_PID=%d", (int)pid);
        sd_journal_flush_matches(j);
        r = sd_journal_add_match(j, IDENTIFIER_MATCH, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, "NVD_CHECK=summary", 0);
        if (r >= 0)
                r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        /* Newest first; the oldest first in the answer (the order the runs ended). */
        while (n < max && entries++ < RUN_ENTRIES_MAX && (r = sd_journal_previous(j)) > 0) {
                uint64_t t = 0;
                sd_id128_t id;

                if (sd_journal_get_realtime_usec(j, &t) >= 0 && t < since_usec)
                        break; /* older: an earlier process of that pid */
                if (entry_run_id(j, &id) < 0)
                        continue;
                memmove(ids + 1, ids, n * sizeof(*ids));
                ids[0] = id;
                n++;
        }
        if (r < 0)
                return r;
        *ret_n = n;
        return n > 0 ? 0 : -ENOENT;
}

int run_history(sd_journal *j, const CtlOptions *o, Run ***ret, size_t *ret_n, bool *ret_cut)
{
        unsigned max = o->lines > 0 && o->lines < RUN_HISTORY_MAX ? o->lines : RUN_HISTORY_MAX;
        unsigned entries = 0;
        Run **runs = NULL;
        size_t n = 0;
        bool cut = false;
        int r;

        r = add_filters(j, o);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        while ((r = sd_journal_previous(j)) > 0) {
                Run *run, **grown;
                uint64_t t = 0;

                if (++entries > RUN_ENTRIES_MAX) {
                        cut = true;
                        break;
                }
                if (sd_journal_get_realtime_usec(j, &t) >= 0 && o->since_usec > 0 &&
                    t < o->since_usec)
                        break;
                run = calloc(1, sizeof(*run));
                if (!run) {
                        r = -ENOMEM;
                        break;
                }
                if (entry_run_id(j, &run->id) < 0) {
                        run_free(run);
                        continue;
                }
                if (n >= max) {
                        run_free(run);
                        cut = true;
                        break;
                }
                r = run_add_entry(j, run);
                grown = r >= 0 ? realloc(runs, (n + 1) * sizeof(Run *)) : NULL;
                if (!grown) {
                        run_free(run);
                        r = r < 0 ? r : -ENOMEM;
                        break;
                }
                runs = grown;
                runs[n++] = run;
        }
        if (r < 0) {
                run_free_many(runs, n);
                return r;
        }
        *ret = runs;
        *ret_n = n;
        *ret_cut = cut;
        return 0;
}

const char *run_verdict(const Run *r)
{
        return r->verdict ?: "unfinished";
}

int run_exit_code(const Run *r)
{
        if (streq_ptr(r->verdict, "pass"))
                return CTL_EXIT_PASS;
        if (streq_ptr(r->verdict, "fail"))
                return CTL_EXIT_FAIL;
        return CTL_EXIT_INCOMPLETE;
}

static int check_rank(const char *name)
{
        int id = check_id_from_string(name);

        return id < 0 ? _CHECK_ID_MAX : id;
}

static int check_compare(const void *a, const void *b)
{
        const RunCheck *x = a, *y = b;
        int rx = check_rank(x->check), ry = check_rank(y->check);

        if (rx != ry)
                return rx < ry ? -1 : 1;
        return strcmp(x->check, y->check);
}

void run_sort_checks(Run *r)
{
        qsort(r->checks, r->n_checks, sizeof(RunCheck), check_compare);
}

const RunCheck *run_check(const Run *r, const char *check)
{
        for (size_t i = 0; i < r->n_checks; i++)
                if (streq(r->checks[i].check, check))
                        return &r->checks[i];
        return NULL;
}

static json_object *check_to_json(const RunCheck *c, bool evidence)
{
        json_object *o = json_object_new_object(), *f = json_object_new_array();

        if (!o || !f) {
                json_object_put(o);
                json_object_put(f);
                return NULL;
        }
        json_object_object_add(o, "check", ctl_json_string(c->check));
        json_object_object_add(o, "result", ctl_json_string(c->result ?: "unknown"));
        json_object_object_add(o, "reason", ctl_json_string(strempty(c->reason)));
        json_object_object_add(o, "duration_usec",
                               json_object_new_int64((int64_t)c->duration_usec));
        for (size_t i = 0; i < c->n_findings; i++)
                json_object_array_add(f, ctl_json_string(c->findings[i]));
        json_object_object_add(o, "findings", f);
        json_object_object_add(o, "findings_truncated", json_object_new_boolean(c->findings_cut));
        if (evidence)
                json_object_object_add(o, "evidence", ctl_json_string(c->evidence));
        return o;
}

json_object *run_to_json(const Run *r, bool checks, bool evidence)
{
        json_object *o = json_object_new_object();
        char id[SD_ID128_STRING_MAX];

        if (!o)
                return NULL;
        json_object_object_add(o, "run_id", json_object_new_string(sd_id128_to_string(r->id, id)));
        ctl_json_add_time(o, "time", r->realtime_usec);
        json_object_object_add(o, "instance", ctl_json_string(r->instance));
        json_object_object_add(o, "package", ctl_json_string(r->package));
        json_object_object_add(o, "app", ctl_json_string(r->app));
        json_object_object_add(o, "version", ctl_json_string(r->version));
        json_object_object_add(o, "url", ctl_json_string(r->url));
        json_object_object_add(o, "hostname", ctl_json_string(r->hostname));
        json_object_object_add(o, "verdict", json_object_new_string(run_verdict(r)));
        if (r->verdict) {
                json_object *counts = json_object_new_object();

                if (counts) {
                        json_object_object_add(counts, "passed", json_object_new_int(r->passed));
                        json_object_object_add(counts, "failed", json_object_new_int(r->failed));
                        json_object_object_add(counts, "errors", json_object_new_int(r->errors));
                        json_object_object_add(counts, "skipped", json_object_new_int(r->skipped));
                }
                json_object_object_add(o, "counts", counts);
                json_object_object_add(o, "duration_usec",
                                       json_object_new_int64((int64_t)r->duration_usec));
        } else {
                json_object_object_add(o, "counts", NULL);
                json_object_object_add(o, "duration_usec", NULL);
        }
        if (r->change) {
                json_object *t = json_object_new_object();

                if (t) {
                        json_object_object_add(t, "package", ctl_json_string(r->trigger_package));
                        json_object_object_add(t, "change", ctl_json_string(r->change));
                        json_object_object_add(t, "old_version", ctl_json_string(r->old_version));
                        json_object_object_add(t, "new_version", ctl_json_string(r->new_version));
                }
                json_object_object_add(o, "trigger", t);
        } else
                json_object_object_add(o, "trigger", NULL);
        if (checks) {
                json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < r->n_checks; i++)
                        json_object_array_add(a, check_to_json(&r->checks[i], evidence));
                json_object_object_add(o, "checks", a);
                json_object_object_add(o, "checks_truncated",
                                       json_object_new_boolean(r->checks_cut));
        }
        return o;
}
