/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl show, history and diff: runs read back from the journal
 * (ctl-journal.c), printed for a terminal or as JSON. show and diff exit with
 * the (second) run's verdict, as the daemon did; an unknown run id is 66.
 */
#include <inttypes.h>

#include "ctl-journal.h"

#define SHORT_ID_LEN       12
#define NAME_COLUMN        12  /* "migrations" and a space or two */
#define EVIDENCE_LINES_MAX 256 /* lines of evidence a diff lists per check and side */

static int open_journal(const CtlOptions *o, sd_journal **ret)
{
        int r = run_journal_open(o, ret);

        if (r < 0) {
                fprintf(stderr, "Cannot open the journal%s%s: %s\n",
                        o->journal_directory ? " in " : "", strempty(o->journal_directory),
                        strerror(-r));
                return EX_NOINPUT;
        }
        return 0;
}

/* Explains an empty answer: an account outside systemd-journal sees only its own entries. */
static const char *access_hint(void)
{
        return geteuid() == 0
                       ? ""
                       : " (this account reads only the entries it may: run as root, or add it to group systemd-journal or adm)";
}

/*
 * What --json adds to every document read from the journal: how many entries
 * claiming to be the daemon's were not (run_trust_entry()); stderr says it too.
 */
static void add_ignored(json_object *doc, const RunTrust *t)
{
        if (doc)
                json_object_object_add(doc, "ignored_entries", json_object_new_int64(t->ignored));
}

/* A run named on the command line, loaded; an exit code and a message when it cannot be. */
static int load_named(const CtlOptions *o, sd_journal *j, RunTrust *t, const char *text, Run **ret)
{
        _cleanup_free_ char *error = NULL;
        char id[SD_ID128_STRING_MAX];
        sd_id128_t run_id;
        int r;

        r = run_resolve(j, t, text, &run_id, &error);
        if (r == -ENOMEM)
                goto oom;
        if (r < 0) {
                fprintf(stderr, "%s%s\n", strempty(error), r == -ENOENT ? access_hint() : "");
                return r == -ENOENT ? CTL_EXIT_NOT_FOUND : EX_USAGE;
        }
        r = run_load(j, t, run_id, ret);
        if (r == -ENOMEM)
                goto oom;
        if (r == -ENOENT) {
                fprintf(stderr, "No run %s in the journal%s\n", sd_id128_to_string(run_id, id),
                        access_hint());
                return CTL_EXIT_NOT_FOUND;
        }
        if (r < 0) {
                fprintf(stderr, "Cannot read run %s from the journal: %s\n",
                        sd_id128_to_string(run_id, id), strerror(-r));
                return EX_OSERR;
        }
        return 0;
oom:
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
}

static void short_id(sd_id128_t id, char buf[static SD_ID128_STRING_MAX])
{
        sd_id128_to_string(id, buf);
        buf[SHORT_ID_LEN] = 0;
}

/* "nautobot-contract-models 2026.5.17" */
static char *run_subject(const Run *r)
{
        return strjoin_printf("%s %s", r->package ?: "(package unknown)",
                              r->version ?: "(version unknown)");
}

static char *run_counts(const Run *r)
{
        if (!r->verdict)
                return strdup(
                        "the run wrote no summary: stopped before its verdict, or still running");
        return strjoin_printf("%u passed, %u failed, %u could not run, %u skipped", r->passed,
                              r->failed, r->errors, r->skipped);
}

/* Prints "  <label> <text>" with the text escaped and wrapped under itself. */
static void print_field(const CtlOptions *o, const char *label, const char *text)
{
        _cleanup_free_ char *e = ctl_escape(text), *prefix = strjoin_printf("%12s ", label);

        ctl_print_wrapped(o, strempty(prefix), 13, 13, e);
}

static void print_evidence(const CtlOptions *o, const char *evidence)
{
        const char *p = evidence;

        printf("%*s%sevidence:%s\n", NAME_COLUMN + 2, "", ctl_color_on(o, COLOR_GREY),
               ctl_color_off(o, COLOR_GREY));
        while (p && *p) {
                size_t n = strcspn(p, "\n");
                _cleanup_free_ char *line = strndup(p, n), *e = line ? ctl_escape(line) : NULL;

                printf("%*s%s%s%s\n", NAME_COLUMN + 4, "", ctl_color_on(o, COLOR_GREY), strempty(e),
                       ctl_color_off(o, COLOR_GREY));
                p += n;
                if (*p == '\n')
                        p++;
        }
}

void run_print_check(const CtlOptions *o, const RunCheck *c)
{
        const char *word = ctl_result_word(c->result);
        CtlColor color = ctl_result_color(c->result);
        _cleanup_free_ char *name = ctl_escape(c->check), *reason = ctl_escape(c->reason),
                            *prefix = NULL;
        char duration[32] = "";
        /* name, result, duration, then the reason: its column is where findings go too,
         * unless that leaves a narrow terminal too little room */
        size_t column = 2 + NAME_COLUMN + 9 + 10,
               indent = o->columns > 0 && o->columns < column + 50 ? 6 : column;

        /* A skipped check took no time worth a column. */
        if (!streq_ptr(c->result, "skipped"))
                ctl_format_duration(c->duration_usec, duration, sizeof(duration));
        prefix = strjoin_printf("  %-*s%s%-8s%s %8s  ", NAME_COLUMN, name, ctl_color_on(o, color),
                                word, ctl_color_off(o, color), duration);
        ctl_print_wrapped(o, strempty(prefix), column, indent, reason);
        for (size_t i = 0; i < c->n_findings; i++) {
                _cleanup_free_ char *f = ctl_escape(c->findings[i]),
                                    *fp = strjoin_printf("%*s- ", (int)indent, "");

                ctl_print_wrapped(o, strempty(fp), indent + 2, indent + 2, f);
        }
        if (c->findings_cut)
                printf("%*s(more findings than the %d shown)\n", (int)indent, "", RUN_FINDINGS_MAX);
        if (o->evidence && c->evidence)
                print_evidence(o, c->evidence);
}

static void print_run(const CtlOptions *o, const Run *r)
{
        _cleanup_free_ char *subject = run_subject(r), *counts = run_counts(r), *line = NULL;
        char id[SD_ID128_STRING_MAX], when[64], ago[32], duration[32] = "", pid[32] = "";
        const char *verdict = run_verdict(r);
        CtlColor color = ctl_result_color(r->verdict);

        printf("%sRun %s%s\n", ctl_color_on(o, COLOR_BOLD), sd_id128_to_string(r->id, id),
               ctl_color_off(o, COLOR_BOLD));
        /* print_field() escapes what it prints. */
        print_field(o, "Package:", strempty(subject));
        print_field(o, "Instance:", r->instance ?: "(unknown)");
        if (r->url)
                print_field(o, "Server:", r->url);
        ctl_format_time(r->realtime_usec, when, sizeof(when));
        ctl_format_ago(r->realtime_usec, ctl_now_realtime(), ago, sizeof(ago));
        if (r->pid > 0)
                snprintf(pid, sizeof(pid), ", pid %" PRIu64, r->pid);
        line = strjoin_printf("%s (%s)%s%s%s", when, ago, r->hostname ? " on " : "",
                              strempty(r->hostname), pid);
        print_field(o, "Time:", strempty(line));
        if (r->change) {
                _cleanup_free_ char *t =
                        strjoin_printf("%s %s (%s \u2192 %s)", r->trigger_package ?: "?", r->change,
                                       r->old_version ?: "none", r->new_version ?: "none");

                print_field(o, "Started by:", strempty(t));
        }
        if (r->verdict)
                ctl_format_duration(r->duration_usec, duration, sizeof(duration));
        free(line);
        line = strjoin_printf("%s%s%s: %s%s%s", ctl_color_on(o, color), ctl_result_word(verdict),
                              ctl_color_off(o, color), strempty(counts), r->verdict ? ", in " : "",
                              duration);
        /* Already escaped pieces with colour: printed as is. */
        printf("%12s %s\n", "Verdict:", strempty(line));
        printf("\n");
        for (size_t i = 0; i < r->n_checks; i++)
                run_print_check(o, &r->checks[i]);
        if (r->n_checks == 0)
                printf("  (no check entries in the journal)\n");
        if (r->checks_cut)
                printf("  (more check entries than the %d shown)\n", RUN_CHECKS_MAX);
}

static int show(const CtlOptions *o, sd_journal *j, RunTrust *t, const char *run_id)
{
        _cleanup_(run_freep) Run *run = NULL;
        sd_id128_t id;
        int r;

        if (o->last) {
                r = run_find_last(j, t, o, &id);
                if (r == -ENOENT) {
                        fprintf(stderr,
                                "No finished run of nautobot-verifyd in the journal%s%s%s%s%s\n",
                                o->instance ? " for instance " : "", strempty(o->instance),
                                o->package ? " of package " : "", strempty(o->package),
                                access_hint());
                        return CTL_EXIT_NOT_FOUND;
                }
                if (r < 0) {
                        fprintf(stderr, "Cannot read the journal: %s\n", strerror(-r));
                        return EX_OSERR;
                }
                r = run_load(j, t, id, &run);
                if (r < 0) {
                        fprintf(stderr, "Cannot read the last run from the journal: %s\n",
                                strerror(-r));
                        return r == -ENOENT ? CTL_EXIT_NOT_FOUND : EX_OSERR;
                }
        } else {
                r = load_named(o, j, t, run_id, &run);
                if (r != 0)
                        return r;
        }
        if (o->json) {
                json_object *doc = ctl_json_document("show");

                if (doc)
                        json_object_object_add(doc, "run", run_to_json(run, true, o->evidence));
                add_ignored(doc, t);
                r = ctl_json_print(doc);
                if (r < 0) {
                        fprintf(stderr, "Cannot write the output: %s\n", strerror(-r));
                        return EX_OSERR;
                }
        } else
                print_run(o, run);
        return run_exit_code(run);
}

int ctl_show(const CtlOptions *o, const char *run_id)
{
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        RunTrust t;
        int r;

        r = open_journal(o, &j);
        if (r != 0)
                return r;
        run_trust_init(&t, o);
        r = show(o, j, &t, run_id);
        /* After the output (or the error): what was left out, and why. */
        fflush(stdout);
        run_trust_print_ignored(&t);
        return r;
}

/* ---- history ---- */

static void print_history(const CtlOptions *o, Run **runs, size_t n, bool cut)
{
        size_t w_instance = strlen("INSTANCE"), w_package = strlen("PACKAGE"),
               w_version = strlen("VERSION");
        bool instances = false;

        for (size_t i = 0; i < n; i++) {
                /* The columns are as wide as what is printed: the escaped text. */
                _cleanup_free_ char *instance = ctl_escape(runs[i]->instance),
                                    *package = ctl_escape(runs[i]->package),
                                    *version = ctl_escape(runs[i]->version);

                w_instance = MAX(w_instance, strlen(instance));
                w_package = MAX(w_package, strlen(package));
                w_version = MAX(w_version, strlen(version));
                if (!streq_ptr(runs[i]->instance, runs[0]->instance) ||
                    !streq_ptr(runs[i]->instance, "default"))
                        instances = true;
        }
        /* The instance column only when it says something. */
        {
                _cleanup_free_ char *head =
                        strjoin_printf("%s%-19s  %-*s  %s%-*s%s%-*s  %-*s  %-10s %s%s",
                                       ctl_color_on(o, COLOR_BOLD), "TIME", SHORT_ID_LEN, "RUN",
                                       instances ? "INSTANCE" : "",
                                       instances ? (int)(w_instance - strlen("INSTANCE") + 2) : 0,
                                       "", "", (int)w_package, "PACKAGE", (int)w_version, "VERSION",
                                       "VERDICT", "CHECKS", ctl_color_off(o, COLOR_BOLD));

                ctl_print_line(o, strempty(head));
        }
        for (size_t i = 0; i < n; i++) {
                const Run *r = runs[i];
                _cleanup_free_ char *line = NULL, *instance = ctl_escape(r->instance),
                                    *package = ctl_escape(r->package),
                                    *version = ctl_escape(r->version), *checks = NULL;
                char when[64], id[SD_ID128_STRING_MAX], duration[32];
                CtlColor color = ctl_result_color(r->verdict);

                ctl_format_time(r->realtime_usec, when, sizeof(when));
                short_id(r->id, id);
                ctl_format_duration(r->duration_usec, duration, sizeof(duration));
                checks = strjoin_printf("%u pass, %u fail, %u error, %u skipped, %s", r->passed,
                                        r->failed, r->errors, r->skipped, duration);
                line = strjoin_printf("%-19s  %-*s  %-*s%s%-*s  %-*s  %s%-10s%s %s", when,
                                      SHORT_ID_LEN, id, instances ? (int)w_instance : 0,
                                      instances ? instance : "", instances ? "  " : "",
                                      (int)w_package, package, (int)w_version, version,
                                      ctl_color_on(o, color), ctl_result_word(run_verdict(r)),
                                      ctl_color_off(o, color), strempty(checks));
                ctl_print_line(o, strempty(line));
        }
        if (cut)
                printf("(older runs not shown: -n, --since or a filter narrows the list)\n");
}

int ctl_history(const CtlOptions *o)
{
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        Run **runs = NULL;
        size_t n = 0;
        bool cut = false;
        RunTrust t;
        int r;

        r = open_journal(o, &j);
        if (r != 0)
                return r;
        run_trust_init(&t, o);
        r = run_history(j, &t, o, &runs, &n, &cut);
        if (r < 0) {
                fprintf(stderr, "Cannot read the journal: %s\n", strerror(-r));
                return EX_OSERR;
        }
        if (o->json) {
                json_object *doc = ctl_json_document("history"), *a = json_object_new_array();

                for (size_t i = 0; a && i < n; i++)
                        json_object_array_add(a, run_to_json(runs[i], false, false));
                if (doc) {
                        json_object_object_add(doc, "runs", a);
                        json_object_object_add(doc, "truncated", json_object_new_boolean(cut));
                } else
                        json_object_put(a);
                add_ignored(doc, &t);
                r = ctl_json_print(doc);
                run_free_many(runs, n);
                run_trust_print_ignored(&t);
                if (r < 0) {
                        fprintf(stderr, "Cannot write the output: %s\n", strerror(-r));
                        return EX_OSERR;
                }
                return 0;
        }
        if (n == 0)
                printf("No verification runs in the journal%s%s%s%s%s.\n",
                       o->instance ? " for instance " : "", strempty(o->instance),
                       o->package ? " of package " : "", strempty(o->package), access_hint());
        else
                print_history(o, runs, n, cut);
        run_free_many(runs, n);
        fflush(stdout);
        run_trust_print_ignored(&t);
        return 0;
}

/* ---- diff ---- */

/* The non-empty lines of a check's evidence, trimmed. */
static int evidence_lines(const char *evidence, char ***ret)
{
        _cleanup_strv_free_ char **l = NULL;
        const char *p = evidence;

        while (p && *p) {
                size_t n = strcspn(p, "\n");
                char *line = strndup(p, n);

                if (!line)
                        return -ENOMEM;
                strstrip(line);
                if (*line == 0)
                        free(line);
                else if (strv_push(&l, line) < 0)
                        return -ENOMEM;
                p += n;
                if (*p == '\n')
                        p++;
        }
        *ret = TAKE_PTR(l);
        return 0;
}

static bool contains(const RunCheck *c, const char *finding)
{
        for (size_t i = 0; c && i < c->n_findings; i++)
                if (streq(c->findings[i], finding))
                        return true;
        return false;
}

/* The findings of 'a' that 'b' does not have. */
static json_object *findings_minus(const RunCheck *a, const RunCheck *b)
{
        json_object *arr = json_object_new_array();

        for (size_t i = 0; arr && a && i < a->n_findings; i++)
                if (!contains(b, a->findings[i]))
                        json_object_array_add(arr, ctl_json_string(a->findings[i]));
        return arr;
}

/*
 * The evidence lists what a check saw, one item a line (the Jobs, the panels,
 * the migrations): the lines of 'a' that 'b' lacks, trimmed, each once, at
 * most EVIDENCE_LINES_MAX. Where the Jobs and panels of two runs differ.
 */
static char **evidence_minus(const RunCheck *a, const RunCheck *b)
{
        _cleanup_strv_free_ char **la = NULL, **lb = NULL;
        char **out = NULL;

        if (!a || !a->evidence)
                return NULL;
        if (evidence_lines(a->evidence, &la) < 0 || (b && evidence_lines(b->evidence, &lb) < 0))
                return NULL;
        STRV_FOREACH (l, la) {
                if (strv_contains(lb, *l) || strv_contains(out, *l))
                        continue;
                if (strv_length(out) >= EVIDENCE_LINES_MAX || strv_extend(&out, *l) < 0)
                        break;
        }
        return out;
}

static json_object *strv_to_json(char **l)
{
        json_object *a = json_object_new_array();

        STRV_FOREACH (x, l)
                if (a)
                        json_object_array_add(a, ctl_json_string(*x));
        return a;
}

/* Check names of both runs, in report order, each once. */
static size_t check_names(const Run *a, const Run *b, const char **names, size_t max)
{
        Run merged = {};
        size_t n = 0;

        for (const Run *r = a; r; r = r == a ? b : NULL)
                for (size_t i = 0; i < r->n_checks && n < max && n < RUN_CHECKS_MAX; i++) {
                        bool seen = false;

                        for (size_t k = 0; k < n; k++)
                                seen = seen || streq(merged.checks[k].check, r->checks[i].check);
                        if (!seen)
                                merged.checks[n++].check = r->checks[i].check;
                }
        merged.n_checks = n;
        run_sort_checks(&merged);
        for (size_t i = 0; i < n; i++)
                names[i] = merged.checks[i].check;
        return n;
}

static bool check_changed(const RunCheck *x, const RunCheck *y)
{
        if (!x || !y)
                return x != y;
        if (!streq_ptr(x->result, y->result))
                return true;
        for (size_t i = 0; i < x->n_findings; i++)
                if (!contains(y, x->findings[i]))
                        return true;
        for (size_t i = 0; i < y->n_findings; i++)
                if (!contains(x, y->findings[i]))
                        return true;
        return false;
}

static json_object *from_to(const char *from, const char *to)
{
        json_object *o = json_object_new_object();

        if (!o)
                return NULL;
        json_object_object_add(o, "from", ctl_json_string(from));
        json_object_object_add(o, "to", ctl_json_string(to));
        json_object_object_add(o, "changed", json_object_new_boolean(!streq_ptr(from, to)));
        return o;
}

static json_object *diff_to_json(const Run *a, const Run *b, const char **names, size_t n,
                                 const RunTrust *t)
{
        json_object *doc = ctl_json_document("diff"), *checks = json_object_new_array();
        bool changed = !streq_ptr(a->version, b->version) || !streq(run_verdict(a), run_verdict(b));

        if (!doc || !checks) {
                json_object_put(doc);
                json_object_put(checks);
                return NULL;
        }
        json_object_object_add(doc, "from", run_to_json(a, false, false));
        json_object_object_add(doc, "to", run_to_json(b, false, false));
        json_object_object_add(doc, "version", from_to(a->version, b->version));
        json_object_object_add(doc, "verdict", from_to(run_verdict(a), run_verdict(b)));
        for (size_t i = 0; i < n; i++) {
                const RunCheck *x = run_check(a, names[i]), *y = run_check(b, names[i]);
                json_object *c = json_object_new_object();

                if (!c)
                        continue;
                changed = changed || check_changed(x, y);
                json_object_object_add(c, "check", ctl_json_string(names[i]));
                json_object_object_add(c, "from", ctl_json_string(x ? x->result : NULL));
                json_object_object_add(c, "to", ctl_json_string(y ? y->result : NULL));
                json_object_object_add(c, "changed", json_object_new_boolean(check_changed(x, y)));
                json_object_object_add(c, "reason_from", ctl_json_string(x ? x->reason : NULL));
                json_object_object_add(c, "reason_to", ctl_json_string(y ? y->reason : NULL));
                json_object_object_add(c, "findings_added", findings_minus(y, x));
                json_object_object_add(c, "findings_removed", findings_minus(x, y));
                {
                        _cleanup_strv_free_ char **added = evidence_minus(y, x),
                                                 **removed = evidence_minus(x, y);

                        json_object_object_add(c, "evidence_added", strv_to_json(added));
                        json_object_object_add(c, "evidence_removed", strv_to_json(removed));
                }
                json_object_array_add(checks, c);
        }
        json_object_object_add(doc, "checks", checks);
        json_object_object_add(doc, "changed", json_object_new_boolean(changed));
        add_ignored(doc, t);
        return doc;
}

static void print_run_line(const CtlOptions *o, const char *label, const Run *r)
{
        _cleanup_free_ char *subject = run_subject(r), *e = NULL, *line = NULL;
        char id[SD_ID128_STRING_MAX], when[64];
        CtlColor color = ctl_result_color(r->verdict);

        e = ctl_escape(subject);
        ctl_format_time(r->realtime_usec, when, sizeof(when));
        short_id(r->id, id);
        line = strjoin_printf("%s %s  %s  %s  %s%s%s", label, id, when, e, ctl_color_on(o, color),
                              ctl_result_word(run_verdict(r)), ctl_color_off(o, color));
        ctl_print_line(o, strempty(line));
}

static void print_diff_findings(const CtlOptions *o, const RunCheck *from, const RunCheck *to,
                                const char *sign, CtlColor color)
{
        const size_t indent = 2 + NAME_COLUMN;

        for (size_t i = 0; from && i < from->n_findings; i++) {
                _cleanup_free_ char *f = NULL, *prefix = NULL;

                if (contains(to, from->findings[i]))
                        continue;
                f = ctl_escape(from->findings[i]);
                prefix = strjoin_printf("%*s%s%s%s ", (int)indent, "", ctl_color_on(o, color), sign,
                                        ctl_color_off(o, color));
                ctl_print_wrapped(o, strempty(prefix), indent + 2, indent + 2, f);
        }
}

static void print_evidence_lines(const CtlOptions *o, char **lines, const char *sign,
                                 CtlColor color)
{
        const size_t indent = 2 + NAME_COLUMN;

        STRV_FOREACH (l, lines) {
                _cleanup_free_ char *e = ctl_escape(*l),
                                    *prefix = strjoin_printf("%*s%s%s%s ", (int)indent, "",
                                                             ctl_color_on(o, color), sign,
                                                             ctl_color_off(o, color));

                ctl_print_wrapped(o, strempty(prefix), indent + 2, indent + 2, e);
        }
}

/*
 * What the checks saw (their evidence: the Jobs, the panels, ...) that differs:
 * the lines with --evidence, else which checks it concerns.
 */
static void print_diff_evidence(const CtlOptions *o, const Run *a, const Run *b, const char **names,
                                size_t n)
{
        Buf which;

        buf_init(&which, 1024);
        for (size_t i = 0; i < n; i++) {
                const RunCheck *x = run_check(a, names[i]), *y = run_check(b, names[i]);
                _cleanup_strv_free_ char **added = evidence_minus(y, x),
                                         **removed = evidence_minus(x, y);
                _cleanup_free_ char *name = NULL;

                if (!added && !removed)
                        continue;
                name = ctl_escape(names[i]);
                if (!o->evidence) {
                        (void)buf_printf(&which, "%s%s", which.len ? ", " : "", name);
                        continue;
                }
                printf("  %-*s%s\n", NAME_COLUMN, "evidence", name);
                print_evidence_lines(o, added, "+", COLOR_GREEN);
                print_evidence_lines(o, removed, "-", COLOR_RED);
        }
        if (which.len > 0) {
                _cleanup_free_ char *t = strjoin_printf(
                        "what %s saw differs (--evidence lists the lines)", which.data);

                ctl_print_wrapped(o, "  evidence    ", 2 + NAME_COLUMN, 2 + NAME_COLUMN,
                                  strempty(t));
        }
        buf_done(&which);
}

static void print_diff(const CtlOptions *o, const Run *a, const Run *b, const char **names,
                       size_t n)
{
        _cleanup_free_ char *version = NULL, *escaped = NULL;
        Buf same;
        bool any = false;

        print_run_line(o, "From", a);
        print_run_line(o, "  To", b);
        printf("\n");
        if (!streq_ptr(a->instance, b->instance) || !streq_ptr(a->package, b->package)) {
                _cleanup_free_ char *t = strjoin_printf(
                        "runs of different Nautobots or apps: %s/%s and %s/%s", a->instance ?: "?",
                        a->package ?: "?", b->instance ?: "?", b->package ?: "?");

                print_field(o, "note:", strempty(t));
        }
        version = strjoin_printf("%s \u2192 %s%s", a->version ?: "unknown", b->version ?: "unknown",
                                 streq_ptr(a->version, b->version) ? " (unchanged)" : "");
        escaped = ctl_escape(version);
        printf("  %-*s%s\n", NAME_COLUMN, "version", escaped);
        printf("  %-*s%s%s%s \u2192 %s%s%s\n", NAME_COLUMN, "verdict",
               ctl_color_on(o, ctl_result_color(a->verdict)), ctl_result_word(run_verdict(a)),
               ctl_color_off(o, ctl_result_color(a->verdict)),
               ctl_color_on(o, ctl_result_color(b->verdict)), ctl_result_word(run_verdict(b)),
               ctl_color_off(o, ctl_result_color(b->verdict)));
        buf_init(&same, 4096);
        for (size_t i = 0; i < n; i++) {
                const RunCheck *x = run_check(a, names[i]), *y = run_check(b, names[i]);
                const char *fx = x ? x->result : "absent", *fy = y ? y->result : "absent";
                _cleanup_free_ char *prefix = NULL, *reason = NULL, *name = ctl_escape(names[i]);

                if (!check_changed(x, y)) {
                        (void)buf_printf(&same, "%s%s (%s)", same.len ? ", " : "", name,
                                         ctl_result_word(fx));
                        continue;
                }
                any = true;
                prefix = strjoin_printf("  %-*s%s%s%s \u2192 %s%s%s%s", NAME_COLUMN, name,
                                        ctl_color_on(o, ctl_result_color(fx)), ctl_result_word(fx),
                                        ctl_color_off(o, ctl_result_color(fx)),
                                        ctl_color_on(o, ctl_result_color(fy)), ctl_result_word(fy),
                                        ctl_color_off(o, ctl_result_color(fy)),
                                        streq_ptr(fx, fy) ? " (findings changed)" : ": ");
                reason = streq_ptr(fx, fy) || !y ? strdup("") : ctl_escape(y->reason);
                ctl_print_wrapped(o, strempty(prefix),
                                  2 + NAME_COLUMN + strlen(ctl_result_word(fx)) + 3 +
                                          strlen(ctl_result_word(fy)) +
                                          (streq_ptr(fx, fy) ? 19 : 2),
                                  2 + NAME_COLUMN + 2, strempty(reason));
                print_diff_findings(o, y, x, "+", COLOR_GREEN);
                print_diff_findings(o, x, y, "-", COLOR_RED);
        }
        if (!any)
                printf("  no check changed its result or findings\n");
        if (same.len > 0) {
                _cleanup_free_ char *prefix = strjoin_printf("  %-*s", NAME_COLUMN, "unchanged");

                ctl_print_wrapped(o, strempty(prefix), 2 + NAME_COLUMN, 2 + NAME_COLUMN, same.data);
        }
        buf_done(&same);
        print_diff_evidence(o, a, b, names, n);
}

static int diff(const CtlOptions *o, sd_journal *j, RunTrust *t, const char *first,
                const char *second)
{
        _cleanup_(run_freep) Run *a = NULL, *b = NULL;
        const char *names[2 * RUN_CHECKS_MAX];
        size_t n;
        int r;

        r = load_named(o, j, t, first, &a);
        if (r == 0)
                r = load_named(o, j, t, second, &b);
        if (r != 0)
                return r;
        n = check_names(a, b, names, ELEMENTSOF(names));
        if (o->json) {
                r = ctl_json_print(diff_to_json(a, b, names, n, t));
                if (r < 0) {
                        fprintf(stderr, "Cannot write the output: %s\n", strerror(-r));
                        return EX_OSERR;
                }
        } else
                print_diff(o, a, b, names, n);
        return run_exit_code(b);
}

int ctl_diff(const CtlOptions *o, const char *first, const char *second)
{
        _cleanup_(sd_journal_closep) sd_journal *j = NULL;
        RunTrust t;
        int r;

        r = open_journal(o, &j);
        if (r != 0)
                return r;
        run_trust_init(&t, o);
        r = diff(o, j, &t, first, second);
        fflush(stdout);
        run_trust_print_ignored(&t);
        return r;
}
