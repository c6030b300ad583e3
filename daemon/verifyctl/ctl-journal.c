/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Runs read back from the journal. See ctl-journal.h. The field names are
 * those report-journal.c writes (journal-fields.h); nothing here writes to the journal.
 * What a run says once read (its verdict, its checks' order, JSON) is ctl-run.c's.
 */
#include <ctype.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>

#include "config.h"
#include "ctl-journal.h"
#include "journal-fields.h"

/* What a client claims: the journal matches on it, run_trust_entry() decides. */
#define IDENTIFIER_MATCH      JOURNAL_IDENTIFIER_MATCH
#define RUN_ID_PREFIX_MIN     6
#define RUN_ID_CANDIDATES_MAX 16 /* run ids a prefix matches, checked for a trusted entry */
#define TRUST_STATE_DIRECTORY "/var/lib/nautobot-verifyd"

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

/* ---- which entries are the daemon's ---- */

/* A decimal number of the whole value, strictly (a uid of 0 must not come from garbage). */
static int entry_u64(sd_journal *j, const char *field, uint64_t *ret)
{
        const void *d;
        const char *v;
        size_t l, n;
        int r;

        r = sd_journal_get_data(j, field, &d, &l);
        if (r < 0)
                return r;
        v = field_value(d, l, field, &n);
        if (!v || n == 0 || n > 19 || strspn(v, "0123456789") < n)
                return -EBADMSG;
        *ret = parse_u64(v, n);
        return 0;
}

/* One of the units the daemon runs in: NAME.service or NAME@INSTANCE.service. */
static bool unit_is_ours(const char *u, size_t n)
{
        static const char *const names[] = {"nautobot-verifyd", "nautobot-verifyd-check"};
        static const char suffix[] = ".service";
        const size_t ls = sizeof(suffix) - 1;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                size_t ln = strlen(names[i]);

                if (n < ln + ls || memcmp(u, names[i], ln) != 0 ||
                    memcmp(u + n - ls, suffix, ls) != 0)
                        continue;
                if (n == ln + ls)
                        return true;
                /* A template's instance: '@' and at least one character before ".service". */
                if (u[ln] == '@' && n > ln + 1 + ls && !memchr(u + ln, '/', n - ln - ls))
                        return true;
        }
        return false;
}

/* The state directory of -c's configuration (or its default); a file that cannot be read
 * leaves the default, as for the daemon: status, not history, reports such errors. */
static char *trust_state_directory(const CtlOptions *o)
{
        _cleanup_(config_freep) Config *c = NULL;
        int r;

        if (o->state_directory)
                return strdup(o->state_directory);
        r = config_load(o->config_path, NULL, CONFIG_LOAD_MISSING_OK | CONFIG_LOAD_REFUSED_OK, &c,
                        NULL);
        if (r == -ENOMEM)
                return NULL;
        return strdup(r >= 0 && c->state_directory ? c->state_directory : TRUST_STATE_DIRECTORY);
}

static void trust_add_uid(RunTrust *t, uid_t uid)
{
        for (size_t i = 0; i < t->n_uids; i++)
                if (t->uids[i] == uid)
                        return;
        if (t->n_uids < TRUST_UIDS_MAX)
                t->uids[t->n_uids++] = uid;
}

static void trust_prepare(RunTrust *t)
{
        _cleanup_free_ char *dir = NULL;
        struct stat st;

        if (t->ready)
                return;
        t->ready = true;
        trust_add_uid(t, 0);
        /* Our child runs as we do, unless, started by root, it dropped to the service account. */
        if (t->pid > 0)
                trust_add_uid(t, geteuid());
        /*
         * The service account is whoever owns the state directory: the daemon wrote it, and
         * under systemd StateDirectory= hands it to the unit's User=. Only that account or
         * root can have made it so, unlike "[nautobot] user=" or the server's owner, which
         * name the account of nautobot-server, not necessarily the daemon's. No directory
         * (or out of memory): root alone.
         */
        dir = trust_state_directory(t->o);
        if (dir && stat(dir, &st) >= 0 && S_ISDIR(st.st_mode))
                trust_add_uid(t, st.st_uid);
        /* Under systemd PID 1 the daemon runs in its units only; without it, the integration
         * tests and an admin's "nautobot-verifyd --once" run in no unit at all. The child of
         * verify runs in none either: its pid says it is ours. */
        t->units = t->pid == 0 && sd_booted() > 0;
}

void run_trust_init(RunTrust *t, const CtlOptions *o)
{
        *t = (RunTrust){.o = o};
}

void run_trust_init_pid(RunTrust *t, const CtlOptions *o, pid_t pid)
{
        *t = (RunTrust){.o = o, .pid = pid};
}

/* FNV-1a: the entries told apart are few and nobody chooses their cursors. */
static uint64_t hash_string(const char *s)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
        return h;
}

static void trust_count_ignored(RunTrust *t, sd_journal *j, bool uid_known, uint64_t uid)
{
        _cleanup_free_ char *cursor = NULL;

        /* show --last and verify look at some entries more than once: count each once. */
        if (sd_journal_get_cursor(j, &cursor) >= 0) {
                uint64_t h = hash_string(cursor);

                for (size_t i = 0; i < t->n_seen; i++)
                        if (t->seen[i] == h)
                                return;
                if (t->n_seen < TRUST_SEEN_MAX)
                        t->seen[t->n_seen++] = h;
        }
        t->ignored++;
        if (!uid_known)
                return;
        for (size_t i = 0; i < t->n_ignored_uids; i++)
                if (t->ignored_uids[i] == (uid_t)uid)
                        return;
        if (t->n_ignored_uids < TRUST_IGNORED_UIDS_MAX)
                t->ignored_uids[t->n_ignored_uids++] = (uid_t)uid;
        else
                t->ignored_uids_cut = true;
}

bool run_trust_entry(RunTrust *t, sd_journal *j)
{
        uint64_t uid = 0, pid = 0;
        bool uid_known, ok = false;

        trust_prepare(t);
        uid_known = entry_u64(j, "_UID", &uid) >= 0 && uid <= UINT32_MAX;
        for (size_t i = 0; uid_known && i < t->n_uids; i++)
                ok = ok || t->uids[i] == (uid_t)uid;
        if (ok && t->pid > 0)
                ok = entry_u64(j, "_PID", &pid) >= 0 && pid == (uint64_t)t->pid;
        if (ok && t->units) {
                const void *d;
                const char *v;
                size_t l, n;

                ok = sd_journal_get_data(j, "_SYSTEMD_UNIT", &d, &l) >= 0 &&
                     (v = field_value(d, l, "_SYSTEMD_UNIT", &n)) && unit_is_ours(v, n);
        }
        if (!ok)
                trust_count_ignored(t, j, uid_known, uid);
        return ok;
}

/* Whose entries were left out, by the rule that left them out. */
static const char *ignored_from(const RunTrust *t)
{
        if (t->pid > 0)
                return "processes";
        return t->units ? "accounts or units" : "accounts";
}

void run_trust_print_ignored(const RunTrust *t)
{
        Buf uids;

        if (t->ignored == 0)
                return;
        buf_init(&uids, 256);
        for (size_t i = 0; i < t->n_ignored_uids; i++)
                (void)buf_printf(&uids, "%s%u", i ? ", " : "", (unsigned)t->ignored_uids[i]);
        fprintf(stderr,
                "Ignored %u journal %s claiming to be nautobot-verifyd from other %s (uid %s%s)\n",
                t->ignored, t->ignored == 1 ? "entry" : "entries", ignored_from(t),
                uids.len ? uids.data : "unknown", t->ignored_uids_cut ? ", ..." : "");
        buf_done(&uids);
}

/* The fields every entry of a run carries (report-journal.c's add_common()). */
static int parse_common(Run *run, const void *d, size_t l)
{
        static const struct {
                const char *field;
                size_t offset;
        } fields[] = {
                {FIELD_NVD_INSTANCE, offsetof(Run, instance)},
                {FIELD_NVD_PACKAGE, offsetof(Run, package)},
                {FIELD_NVD_APP, offsetof(Run, app)},
                {FIELD_NVD_VERSION, offsetof(Run, version)},
                {FIELD_NVD_URL, offsetof(Run, url)},
                {"_HOSTNAME", offsetof(Run, hostname)},
                {FIELD_NVD_TRIGGER_PACKAGE, offsetof(Run, trigger_package)},
                {FIELD_NVD_CHANGE, offsetof(Run, change)},
                {FIELD_NVD_OLD_VERSION, offsetof(Run, old_version)},
                {FIELD_NVD_NEW_VERSION, offsetof(Run, new_version)},
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

        if ((v = field_value(d, l, FIELD_NVD_RESULT, &n)))
                return set_once(&run->verdict, v, n);
        if ((v = field_value(d, l, FIELD_NVD_PASSED, &n)))
                run->passed = parse_count(v, n);
        else if ((v = field_value(d, l, FIELD_NVD_FAILED, &n)))
                run->failed = parse_count(v, n);
        else if ((v = field_value(d, l, FIELD_NVD_ERRORS, &n)))
                run->errors = parse_count(v, n);
        else if ((v = field_value(d, l, FIELD_NVD_SKIPPED, &n)))
                run->skipped = parse_count(v, n);
        else if ((v = field_value(d, l, FIELD_NVD_DURATION_USEC, &n)))
                run->duration_usec = parse_u64(v, n);
        return 0;
}

static int parse_check_field(RunCheck *c, const void *d, size_t l)
{
        const char *v;
        size_t n;

        if ((v = field_value(d, l, FIELD_NVD_RESULT, &n)))
                return set_once(&c->result, v, n);
        if ((v = field_value(d, l, FIELD_NVD_REASON, &n)))
                return set_once(&c->reason, v, n);
        if ((v = field_value(d, l, FIELD_NVD_EVIDENCE, &n)))
                return set_once(&c->evidence, v, n);
        if ((v = field_value(d, l, FIELD_NVD_DURATION_USEC, &n))) {
                c->duration_usec = parse_u64(v, n);
                return 0;
        }
        if ((v = field_value(d, l, FIELD_NVD_FINDING, &n))) {
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

        r = sd_journal_get_data(j, FIELD_NVD_CHECK, &d, &l);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        v = field_value(d, l, FIELD_NVD_CHECK, &n);
        if (!v || n == 0)
                return 0;
        check = value_dup(v, n);
        if (!check)
                return -ENOMEM;
        (void)sd_journal_get_realtime_usec(j, &t);
        summary = streq(check, JOURNAL_CHECK_SUMMARY);
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

/* The journal positioned before the first entry of run 'id' (ours by identifier). */
static int seek_run(sd_journal *j, sd_id128_t id)
{
        char match[sizeof(FIELD_NVD_RUN_ID "=") + SD_ID128_STRING_MAX];
        int r;

        snprintf(match, sizeof(match), FIELD_NVD_RUN_ID "=" SD_ID128_FORMAT_STR,
                 SD_ID128_FORMAT_VAL(id));
        sd_journal_flush_matches(j);
        r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, IDENTIFIER_MATCH, 0);
        return r < 0 ? r : sd_journal_seek_head(j);
}

int run_load(sd_journal *j, RunTrust *t, sd_id128_t id, Run **ret)
{
        _cleanup_(run_freep) Run *run = NULL;
        unsigned entries = 0;
        int r;

        run = calloc(1, sizeof(*run));
        if (!run)
                return -ENOMEM;
        run->id = id;
        r = seek_run(j, id);
        if (r < 0)
                return r;
        /* A run writes ten entries; a journal holding many more under one id is not ours. */
        while (entries < 4 * RUN_CHECKS_MAX && (r = sd_journal_next(j)) > 0) {
                entries++;
                if (!run_trust_entry(t, j))
                        continue;
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

/* Whether run 'id' has a trusted entry: 1, 0, or < 0. */
static int run_trusted(sd_journal *j, RunTrust *t, sd_id128_t id)
{
        unsigned entries = 0;
        int r;

        r = seek_run(j, id);
        if (r < 0)
                return r;
        while (entries++ < 4 * RUN_CHECKS_MAX && (r = sd_journal_next(j)) > 0)
                if (run_trust_entry(t, j))
                        return 1;
        return r < 0 ? r : 0;
}

int run_resolve(sd_journal *j, RunTrust *t, const char *text, sd_id128_t *ret, char **ret_error)
{
        _cleanup_free_ char *prefix = NULL;
        sd_id128_t candidates[RUN_ID_CANDIDATES_MAX], found[3];
        unsigned n_candidates = 0, n_found = 0, seen = 0;
        bool candidates_cut = false;
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
        r = sd_journal_query_unique(j, FIELD_NVD_RUN_ID);
        if (r < 0)
                return r;
        SD_JOURNAL_FOREACH_UNIQUE(j, d, l)
        {
                const char *v;
                size_t vl;
                char id[SD_ID128_STRING_MAX];

                if (++seen > RUN_ENTRIES_MAX)
                        break;
                v = field_value(d, l, FIELD_NVD_RUN_ID, &vl);
                if (!v || vl != 32 || strncmp(v, prefix, n) != 0)
                        continue;
                memcpy(id, v, 32);
                id[32] = 0;
                if (n_candidates >= ELEMENTSOF(candidates))
                        candidates_cut = true;
                else if (sd_id128_from_string(id, &candidates[n_candidates]) >= 0)
                        n_candidates++;
        }
        if (candidates_cut) {
                *ret_error = strjoin_printf(
                        "Run id prefix '%s' matches more than %d runs: give more digits", text,
                        RUN_ID_CANDIDATES_MAX);
                return -ENOTUNIQ;
        }
        /* NVD_RUN_ID is a client's field too: a forged run's id must not make a prefix of a
         * real one ambiguous. (The unique values ignore matches: the entries are asked.) */
        for (unsigned i = 0; i < n_candidates && n_found < ELEMENTSOF(found); i++) {
                r = run_trusted(j, t, candidates[i]);
                if (r < 0)
                        return r;
                if (r > 0)
                        found[n_found++] = candidates[i];
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
                r = sd_journal_add_match(j, FIELD_NVD_CHECK "=" JOURNAL_CHECK_SUMMARY, 0);
        if (r >= 0 && o->instance) {
                instance = strjoin_printf(FIELD_NVD_INSTANCE "=%s", o->instance);
                r = instance ? sd_journal_add_match(j, instance, 0) : -ENOMEM;
        }
        if (r >= 0 && o->package) {
                package = strjoin_printf(FIELD_NVD_PACKAGE "=%s", o->package);
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

        r = sd_journal_get_data(j, FIELD_NVD_RUN_ID, &d, &l);
        if (r < 0)
                return r;
        v = field_value(d, l, FIELD_NVD_RUN_ID, &n);
        if (!v || n != 32)
                return -EBADMSG;
        memcpy(id, v, 32);
        id[32] = 0;
        return sd_id128_from_string(id, ret);
}

int run_find_last(sd_journal *j, RunTrust *t, const CtlOptions *o, sd_id128_t *ret)
{
        unsigned entries = 0;
        int r;

        r = add_filters(j, o);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        /* The newest trusted summary that names its run (an entry without one is not ours). */
        while (entries++ < RUN_ENTRIES_MAX && (r = sd_journal_previous(j)) > 0)
                if (run_trust_entry(t, j) && entry_run_id(j, ret) >= 0)
                        return 0;
        return r < 0 ? r : -ENOENT;
}

int run_find_by_pid(sd_journal *j, RunTrust *t, pid_t pid, uint64_t since_usec, sd_id128_t *ids,
                    size_t max, size_t *ret_n)
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
                r = sd_journal_add_match(j, FIELD_NVD_CHECK "=" JOURNAL_CHECK_SUMMARY, 0);
        if (r >= 0)
                r = sd_journal_add_match(j, match, 0);
        if (r >= 0)
                r = sd_journal_seek_tail(j);
        if (r < 0)
                return r;
        /* Newest first; the oldest first in the answer (the order the runs ended). */
        while (n < max && entries++ < RUN_ENTRIES_MAX && (r = sd_journal_previous(j)) > 0) {
                uint64_t when = 0;
                sd_id128_t id;

                if (sd_journal_get_realtime_usec(j, &when) >= 0 && when < since_usec)
                        break; /* older: an earlier process of that pid */
                if (!run_trust_entry(t, j) || entry_run_id(j, &id) < 0)
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

int run_history(sd_journal *j, RunTrust *t, const CtlOptions *o, Run ***ret, size_t *ret_n,
                bool *ret_cut)
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
                uint64_t when = 0;

                if (++entries > RUN_ENTRIES_MAX) {
                        cut = true;
                        break;
                }
                if (sd_journal_get_realtime_usec(j, &when) >= 0 && o->since_usec > 0 &&
                    when < o->since_usec)
                        break;
                if (!run_trust_entry(t, j))
                        continue;
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
