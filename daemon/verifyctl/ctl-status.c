/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl status: per instance and package, the installed and the
 * verified release, the last verdict and when, the daemon's units
 * (ctl-state.c reads them), for a terminal, as JSON, or as one Monitoring
 * Plugins line (--nagios: status word, summary, perfdata, exit 0-3). The exit
 * status otherwise follows the verdict as the daemon's does.
 */
#include <inttypes.h>
#include <langinfo.h>

#include "ctl-state.h"

#define NAGIOS_SUMMARY_MAX 1024

/* The checks of the last report that did not pass: "jobs", "static could not run". */
static char *report_problems(const Row *row)
{
        json_object *checks;
        Buf b;

        if (!row->state || !row->state->report ||
            !json_object_object_get_ex(row->state->report, "checks", &checks) ||
            !json_object_is_type(checks, json_type_array))
                return NULL;
        buf_init(&b, 4096);
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i), *name, *result;

                if (!json_object_object_get_ex(c, "check", &name) ||
                    !json_object_object_get_ex(c, "result", &result))
                        continue;
                if (!streq_ptr(json_object_get_string(result), "fail") &&
                    !streq_ptr(json_object_get_string(result), "error"))
                        continue;
                (void)buf_printf(&b, "%s%s%s", b.len ? ", " : "", json_object_get_string(name),
                                 streq(json_object_get_string(result), "error") ? " could not run"
                                                                                : "");
        }
        if (b.len == 0) {
                buf_done(&b);
                return NULL;
        }
        return b.data;
}

/* One phrase per row for the headline and --nagios. */
static char *row_phrase(const Status *s, const Row *row)
{
        const PackageState *st = row->state;
        _cleanup_free_ char *problems = report_problems(row);
        char when[64] = "";

        if (!st)
                return strdup(strempty(row->error));
        format_clock(st->verified_usec, when, sizeof(when));
        switch (row->status) {
        case ROW_NOT_VERIFIED:
                if (row->installed)
                        return strjoin_printf(
                                "%s %s installed, not verified yet (last verified: %s %s, %s)",
                                row->package, row->installed, st->version ?: "none",
                                ctl_result_word(st->verdict), when);
                return strjoin_printf("%s %s, not verified yet (last verified: %s %s, %s)",
                                      row->package, strempty(row->installed_error),
                                      st->version ?: "none", ctl_result_word(st->verdict), when);
        case ROW_FAIL:
                return strjoin_printf("%s %s FAILED%s%s%s at %s", row->package,
                                      st->version ?: "(not installed)", problems ? " (" : "",
                                      strempty(problems), problems ? ")" : "", when);
        case ROW_INCOMPLETE:
                return strjoin_printf("%s %s incomplete%s%s%s at %s", row->package,
                                      st->version ?: "(not installed)", problems ? " (" : "",
                                      strempty(problems), problems ? ")" : "", when);
        default:
                return strjoin_printf("%s %s verified at %s", row->package,
                                      st->version ?: "(not installed)", when);
        }
}

/* ---- JSON ---- */

static json_object *row_checks_json(const Row *row)
{
        json_object *a = json_object_new_array(), *checks;

        if (!a || !row->app || !row->state->report ||
            !json_object_object_get_ex(row->state->report, "checks", &checks) ||
            !json_object_is_type(checks, json_type_array))
                return a;
        for (size_t i = 0; i < json_object_array_length(checks) && i < 64; i++) {
                json_object *c = json_object_array_get_idx(checks, i),
                            *o = json_object_new_object(), *v;

                if (!o)
                        continue;
                json_object_object_add(o, "check",
                                       ctl_json_string(json_object_object_get_ex(c, "check", &v)
                                                               ? json_object_get_string(v)
                                                               : "?"));
                json_object_object_add(o, "result",
                                       ctl_json_string(json_object_object_get_ex(c, "result", &v)
                                                               ? json_object_get_string(v)
                                                               : "unknown"));
                json_object_object_add(o, "reason",
                                       ctl_json_string(json_object_object_get_ex(c, "reason", &v)
                                                               ? json_object_get_string(v)
                                                               : ""));
                json_object_array_add(a, o);
        }
        return a;
}

static json_object *row_json(const Row *row)
{
        json_object *o = json_object_new_object();
        const PackageState *st = row->state;

        if (!o)
                return NULL;
        json_object_object_add(o, "package", ctl_json_string(row->package));
        json_object_object_add(o, "state_file", ctl_json_string(row->path));
        json_object_object_add(o, "status",
                               json_object_new_string(row_status_to_string(row->status)));
        json_object_object_add(o, "error", ctl_json_string(row->error));
        json_object_object_add(o, "app", json_object_new_boolean(row->app));
        json_object_object_add(o, "installed_version", ctl_json_string(row->installed));
        json_object_object_add(o, "installed_error", ctl_json_string(row->installed_error));
        json_object_object_add(o, "verified_version", ctl_json_string(st ? st->version : NULL));
        json_object_object_add(o, "verdict", ctl_json_string(st ? st->verdict : NULL));
        ctl_json_add_time(o, "verified", st ? st->verified_usec : 0);
        json_object_object_add(o, "up_to_date",
                               json_object_new_boolean(st && row->status != ROW_NOT_VERIFIED));
        json_object_object_add(o, "site_packages", ctl_json_string(st ? st->site_packages : NULL));
        json_object_object_add(o, "checks", st ? row_checks_json(row) : json_object_new_array());
        return o;
}

static json_object *status_json(const Status *s)
{
        json_object *doc = ctl_json_document("status"), *instances = json_object_new_array(),
                    *systemd = json_object_new_object();

        if (!doc || !instances || !systemd) {
                json_object_put(doc);
                json_object_put(instances);
                json_object_put(systemd);
                return NULL;
        }
        json_object_object_add(doc, "state_directory", ctl_json_string(s->state_directory));
        json_object_object_add(doc, "error", ctl_json_string(s->error));
        json_object_object_add(doc, "verdict", json_object_new_string(status_word(s)));
        json_object_object_add(doc, "exit_status", json_object_new_int(status_exit_code(s)));
        json_object_object_add(systemd, "running", json_object_new_boolean(s->systemd));
        json_object_object_add(systemd, "reason", ctl_json_string(s->systemd_error));
        json_object_object_add(doc, "systemd", systemd);
        for (size_t i = 0; i < s->n_instances; i++) {
                const Instance *in = s->instances[i];
                json_object *o = json_object_new_object(), *rows = json_object_new_array(),
                            *units = json_object_new_array();

                if (!o || !rows || !units) {
                        json_object_put(o);
                        json_object_put(rows);
                        json_object_put(units);
                        continue;
                }
                json_object_object_add(o, "instance", ctl_json_string(in->name));
                json_object_object_add(
                        o, "status",
                        json_object_new_string(row_status_to_string(instance_status(in))));
                json_object_object_add(o, "state_directory", ctl_json_string(in->dir));
                json_object_object_add(o, "site_packages", ctl_json_string(in->site_packages));
                for (size_t k = 0; k < in->n_rows; k++)
                        json_object_array_add(rows, row_json(&in->rows[k]));
                json_object_object_add(o, "packages", rows);
                for (size_t k = 0; s->systemd && k < in->n_units; k++) {
                        const UnitInfo *u = &in->units[k];
                        json_object *uo = json_object_new_object();

                        if (!uo)
                                continue;
                        json_object_object_add(uo, "unit", json_object_new_string(u->unit));
                        json_object_object_add(uo, "loaded", json_object_new_boolean(u->loaded));
                        json_object_object_add(uo, "active_state", ctl_json_string(u->active));
                        json_object_object_add(uo, "sub_state", ctl_json_string(u->sub));
                        json_object_object_add(uo, "status_text", ctl_json_string(u->status_text));
                        json_object_object_add(uo, "error", ctl_json_string(u->error));
                        json_object_array_add(units, uo);
                }
                json_object_object_add(o, "units", units);
                json_object_array_add(instances, o);
        }
        json_object_object_add(doc, "instances", instances);
        json_object_object_add(doc, "truncated", json_object_new_boolean(s->instances_cut));
        return doc;
}

/* ---- --nagios ---- */

/*
 * Plugin output may not hold '|' (it starts the perfdata) nor a line break,
 * and goes to web pages and mail: escaped as for a terminal (ctl_escape():
 * valid UTF-8, no controls, "\n" for a line break), then '|' replaced. A copy;
 * NULL when out of memory.
 */
static char *nagios_clean(const char *t)
{
        char *e = ctl_escape(t);

        for (char *p = e; p && *p; p++)
                if (*p == '|')
                        *p = '/';
        return e;
}

static void perf_counts(const Row *row, unsigned count[4], unsigned *total)
{
        json_object *checks;

        *total = 0;
        if (!row->state->report ||
            !json_object_object_get_ex(row->state->report, "checks", &checks) ||
            !json_object_is_type(checks, json_type_array))
                return;
        for (size_t i = 0; i < json_object_array_length(checks); i++) {
                json_object *c = json_object_array_get_idx(checks, i), *v;
                const char *res;

                if (!json_object_object_get_ex(c, "result", &v))
                        continue;
                res = json_object_get_string(v);
                (*total)++;
                if (streq_ptr(res, "pass"))
                        count[0]++;
                else if (streq_ptr(res, "fail"))
                        count[1]++;
                else if (streq_ptr(res, "error"))
                        count[2]++;
                else
                        count[3]++;
        }
}

/*
 * Perfdata per app row: 'label'=value[UOM];[warn];[crit];[min];[max]. One app
 * in one instance: plain labels; several: "<instance>/<package> " before each.
 */
static void nagios_perfdata(const Status *s, Buf *b)
{
        size_t apps = 0;

        for (size_t i = 0; i < s->n_instances; i++)
                for (size_t k = 0; k < s->instances[i]->n_rows; k++)
                        apps += s->instances[i]->rows[k].app;
        for (size_t i = 0; i < s->n_instances; i++)
                for (size_t k = 0; k < s->instances[i]->n_rows; k++) {
                        const Instance *in = s->instances[i];
                        const Row *row = &in->rows[k];
                        unsigned count[4] = {}, total;
                        _cleanup_free_ char *label = NULL, *prefix = NULL;
                        json_object *v;
                        uint64_t age, duration = 0;

                        if (!row->app || !row->state)
                                continue;
                        label = apps > 1 ? strjoin_printf("%s/%s ", in->name, row->package)
                                         : strdup("");
                        prefix = label ? nagios_clean(label) : NULL;
                        if (!prefix)
                                return;
                        for (char *p = prefix; *p; p++) /* labels may not hold ' or = */
                                if (*p == '\'' || *p == '=')
                                        *p = '_';
                        perf_counts(row, count, &total);
                        age = s->now > row->state->verified_usec
                                      ? (s->now - row->state->verified_usec) / USEC_PER_SEC
                                      : 0;
                        if (json_object_object_get_ex(row->state->report, "duration_usec", &v))
                                duration = (uint64_t)json_object_get_int64(v);
                        (void)buf_printf(
                                b,
                                "%s'%spassed'=%u;;;0;%u '%sfailed'=%u;;0;0;%u '%serrors'=%u;0;;0;%u '%sskipped'=%u;;;0;%u '%sage'=%" PRIu64
                                "s;;;0 '%sduration'=%.3fs;;;0",
                                b->len ? " " : "", prefix, count[0], total, prefix, count[1], total,
                                prefix, count[2], total, prefix, count[3], total, prefix, age,
                                prefix, (double)duration / USEC_PER_SEC);
                }
}

static int print_nagios(const Status *s)
{
        static const char *const words[] = {"OK", "WARNING", "CRITICAL", "UNKNOWN"};
        int code = status_nagios_code(s);
        _cleanup_free_ char *clean = NULL;
        Buf text, perf;

        buf_init(&text, NAGIOS_SUMMARY_MAX);
        buf_init(&perf, 8192);
        if (s->error)
                (void)buf_printf(&text, "%s", s->error);
        else if (status_n_rows(s) == 0)
                (void)buf_printf(&text, "no verification recorded in %s%s%s", s->state_directory,
                                 s->o->instance ? " for instance " : "", strempty(s->o->instance));
        else {
                /* The worst instances first, each "instance: phrase" for the rows that say why;
                 * passing ones only when all pass. */
                RowStatus worst = ROW_PASS;

                for (size_t i = 0; i < s->n_instances; i++)
                        if (instance_status(s->instances[i]) > worst)
                                worst = instance_status(s->instances[i]);
                for (int st = _ROW_STATUS_MAX - 1; st >= 0; st--)
                        for (size_t i = 0; i < s->n_instances; i++) {
                                const Instance *in = s->instances[i];

                                if ((int)instance_status(in) != st ||
                                    (st == ROW_PASS && worst != ROW_PASS))
                                        continue;
                                for (size_t k = 0; k < in->n_rows; k++) {
                                        const Row *row = &in->rows[k];
                                        _cleanup_free_ char *p = NULL;

                                        /* A watched package's verdict is its app's: said once;
                                         * a stale verdict is not said at all. */
                                        if (row->status != ROW_NOT_VERIFIED &&
                                            row->status != ROW_UNKNOWN &&
                                            (!row->app || st == ROW_NOT_VERIFIED))
                                                continue;
                                        /* Of several apps, those that pass go without saying. */
                                        if (row->status == ROW_PASS && st != ROW_PASS)
                                                continue;
                                        p = row_phrase(s, row);
                                        (void)buf_printf(&text, "%s%s: %s", text.len ? "; " : "",
                                                         in->name, strempty(p));
                                }
                        }
                if (text.len == 0)
                        (void)buf_printf(&text, "%zu packages verified", status_n_rows(s));
        }
        clean = nagios_clean(strempty(text.data));
        nagios_perfdata(s, &perf);
        printf("NAUTOBOT-VERIFYD %s - %s%s%s\n", words[code], strempty(clean),
               perf.len ? " | " : "", strempty(perf.data));
        buf_done(&text);
        buf_done(&perf);
        return code;
}

/* ---- for a terminal ---- */

static const char *bullet(void)
{
        return streq_ptr(nl_langinfo(CODESET), "UTF-8") ? "\u25cf" : "*";
}

static CtlColor row_color(RowStatus st)
{
        switch (st) {
        case ROW_PASS:
                return COLOR_GREEN;
        case ROW_FAIL:
                return COLOR_RED;
        default:
                return COLOR_YELLOW;
        }
}

static void print_units(const Status *s, const Instance *in)
{
        Buf b;

        if (!s->systemd) {
                _cleanup_free_ char *e = ctl_escape(s->systemd_error);

                printf("  %-9s systemd: %s\n", "Units:", e);
                return;
        }
        buf_init(&b, 4096);
        for (size_t k = 0; k < in->n_units; k++) {
                const UnitInfo *u = &in->units[k];
                CtlColor c = streq_ptr(u->active, "active")   ? COLOR_GREEN
                             : streq_ptr(u->active, "failed") ? COLOR_RED
                                                              : COLOR_NONE;

                (void)buf_printf(&b, "%s%s %s%s%s%s%s%s%s", k ? ", " : "", u->unit,
                                 ctl_color_on(s->o, c), u->active ?: "unknown",
                                 u->sub && u->active && !streq(u->sub, u->active) ? " (" : "",
                                 u->sub && u->active && !streq(u->sub, u->active) ? u->sub : "",
                                 u->sub && u->active && !streq(u->sub, u->active) ? ")" : "",
                                 ctl_color_off(s->o, c), u->error ? " (cannot ask: " : "");
                if (u->error) {
                        _cleanup_free_ char *e = ctl_escape(u->error);

                        (void)buf_printf(&b, "%s)", e);
                }
        }
        ctl_print_wrapped(s->o, "  Units:    ", 12, 12, strempty(b.data));
        buf_done(&b);
        /* An upgrade being followed: what the service waits for, in its own words. */
        for (size_t k = 0; k < in->n_units; k++)
                if (in->units[k].status_text && strstr(in->units[k].status_text, "waiting for:")) {
                        _cleanup_free_ char *e = ctl_escape(in->units[k].status_text);

                        ctl_print_wrapped(s->o, "  Upgrade:  ", 12, 12, e);
                }
}

/* The widths of the table's columns: as wide as the widest value, or the heading. */
typedef struct Widths {
        size_t package, installed, verified;
} Widths;

static size_t instance_n_apps(const Instance *in)
{
        size_t n_apps = 0;

        for (size_t k = 0; k < in->n_rows; k++)
                n_apps += in->rows[k].app;
        return n_apps;
}

/* "● default: <the headline>", then where its state and its Python are. */
static void print_instance_head(const Status *s, const Instance *in, size_t n_apps)
{
        const CtlOptions *o = s->o;
        RowStatus worst = instance_status(in);
        const Row *headline = instance_headline(in);
        _cleanup_free_ char *head = NULL;

        {
                _cleanup_free_ char *phrase = headline ? row_phrase(s, headline) : NULL, *e = NULL;

                if (n_apps > 1 && worst == ROW_PASS && headline && headline->state) {
                        /* Every app verified, all passing: say so, not the first one's. */
                        char when[64] = "";

                        format_clock(headline->state->verified_usec, when, sizeof(when));
                        free(phrase);
                        phrase = strjoin_printf("%zu apps verified at %s", n_apps, when);
                }
                e = ctl_escape(phrase);

                head = strjoin_printf(
                        "%s%s%s %s%s%s: %s%s%s", ctl_color_on(o, row_color(worst)), bullet(),
                        ctl_color_off(o, row_color(worst)), ctl_color_on(o, COLOR_BOLD), in->name,
                        ctl_color_off(o, COLOR_BOLD), ctl_color_on(o, row_color(worst)),
                        strempty(e), ctl_color_off(o, row_color(worst)));
                ctl_print_line(o, strempty(head));
        }
        {
                _cleanup_free_ char *state = ctl_escape(in->dir),
                                    *site = ctl_escape(in->site_packages ?: "unknown"),
                                    *l1 = strjoin_printf("  %-9s %s", "State:", state),
                                    *l2 = strjoin_printf("  %-9s %s", "Python:", site);

                ctl_print_line(o, strempty(l1));
                ctl_print_line(o, strempty(l2));
        }
}

/* PACKAGE, INSTALLED, VERIFIED, VERDICT, WHEN: one row per package. */
static void print_instance_table(const Status *s, const Instance *in)
{
        const CtlOptions *o = s->o;
        Widths w = {strlen("PACKAGE"), strlen("INSTALLED"), strlen("VERIFIED")};

        for (size_t k = 0; k < in->n_rows; k++) {
                const Row *row = &in->rows[k];

                w.package = MAX(w.package, strlen(row->package));
                w.installed = MAX(w.installed, strlen(row->installed ?: "-"));
                w.verified =
                        MAX(w.verified, strlen(row->state ? row->state->version ?: "(none)" : "?"));
        }
        {
                _cleanup_free_ char *h = strjoin_printf(
                        "  %s%-*s  %-*s  %-*s  %-10s  %s%s", ctl_color_on(o, COLOR_BOLD),
                        (int)w.package, "PACKAGE", (int)w.installed, "INSTALLED", (int)w.verified,
                        "VERIFIED", "VERDICT", "WHEN", ctl_color_off(o, COLOR_BOLD));

                ctl_print_line(o, strempty(h));
        }
        for (size_t k = 0; k < in->n_rows; k++) {
                const Row *row = &in->rows[k];
                const PackageState *st = row->state;
                _cleanup_free_ char *line = NULL, *package = ctl_escape(row->package),
                                    *installed = ctl_escape(row->installed ?: "-"),
                                    *verified = ctl_escape(st ? st->version ?: "(none)" : "?");
                char when[64] = "", ago[32] = "";
                CtlColor vc = st ? ctl_result_color(st->verdict) : COLOR_YELLOW;
                CtlColor ic = row->status == ROW_NOT_VERIFIED ? COLOR_YELLOW : COLOR_NONE;

                if (st) {
                        ctl_format_time(st->verified_usec, when, sizeof(when));
                        ctl_format_ago(st->verified_usec, s->now, ago, sizeof(ago));
                }
                line = strjoin_printf(
                        "  %-*s  %s%-*s%s  %-*s  %s%-10s%s  %s%s%s%s", (int)w.package, package,
                        ctl_color_on(o, ic), (int)w.installed, installed, ctl_color_off(o, ic),
                        (int)w.verified, verified, ctl_color_on(o, vc),
                        st ? ctl_result_word(st->verdict) : "unreadable", ctl_color_off(o, vc),
                        when, st ? " (" : "", ago, st ? ")" : "");
                ctl_print_line(o, strempty(line));
        }
}

/* What needs a look, under the table. */
static void print_instance_notes(const Status *s, const Instance *in)
{
        for (size_t k = 0; k < in->n_rows; k++) {
                const Row *row = &in->rows[k];
                _cleanup_free_ char *note = NULL, *e = NULL;

                if (row->status == ROW_NOT_VERIFIED || row->status == ROW_UNKNOWN)
                        note = row_phrase(s, row);
                else if (row->state && !row->installed && row->installed_error &&
                         row->state->version)
                        note = strjoin_printf("%s: installed version %s", row->package,
                                              row->installed_error);
                if (!note)
                        continue;
                e = ctl_escape(note);
                ctl_print_wrapped(s->o, "  ! ", 4, 4, e);
        }
}

/* One check of an app's report that failed or could not run: "  jobs FAIL: <reason>". */
static void print_failed_check(const CtlOptions *o, const Row *row, json_object *c, size_t n_apps)
{
        json_object *name, *result, *reason;
        _cleanup_free_ char *prefix = NULL, *e = NULL, *name_e = NULL;
        const char *res;

        if (!json_object_object_get_ex(c, "check", &name) ||
            !json_object_object_get_ex(c, "result", &result))
                return;
        res = json_object_get_string(result);
        if (!streq_ptr(res, "fail") && !streq_ptr(res, "error"))
                return;
        e = ctl_escape(json_object_object_get_ex(c, "reason", &reason)
                               ? json_object_get_string(reason)
                               : "");
        if (n_apps > 1)
                name_e = strjoin_printf("%s %s", row->package, json_object_get_string(name));
        else
                name_e = strdup(strempty(json_object_get_string(name)));
        if (!name_e)
                return;
        {
                _cleanup_free_ char *esc = ctl_escape(name_e);

                prefix = strjoin_printf("  %s%s %s%s: ", ctl_color_on(o, ctl_result_color(res)),
                                        esc, ctl_result_word(res),
                                        ctl_color_off(o, ctl_result_color(res)));
                ctl_print_wrapped(o, strempty(prefix),
                                  2 + strlen(esc) + 1 + strlen(ctl_result_word(res)) + 2, 4, e);
        }
}

/* What failed, per app (the app's own report); with several, each line names its app. */
static void print_instance_failures(const Status *s, const Instance *in, size_t n_apps)
{
        for (size_t k = 0; k < in->n_rows; k++) {
                const Row *row = &in->rows[k];
                json_object *checks;

                if (!row->app || !row->state || !row->state->report ||
                    !json_object_object_get_ex(row->state->report, "checks", &checks) ||
                    !json_object_is_type(checks, json_type_array))
                        continue;
                for (size_t i = 0; i < json_object_array_length(checks) && i < 64; i++)
                        print_failed_check(s->o, row, json_object_array_get_idx(checks, i), n_apps);
        }
}

static void print_instance(const Status *s, const Instance *in)
{
        size_t n_apps = instance_n_apps(in);

        print_instance_head(s, in, n_apps);
        print_units(s, in);
        printf("\n");
        print_instance_table(s, in);
        print_instance_notes(s, in);
        print_instance_failures(s, in, n_apps);
        if (in->rows_cut)
                printf("  (more than %d state files: not all shown)\n", PACKAGES_MAX);
        {
                _cleanup_free_ char *details =
                        n_apps > 1
                                ? strjoin_printf(
                                          "  Details:  nautobot-verifyctl history -n %zu%s%s (each app's run), show --last --package NAME",
                                          n_apps, streq(in->name, "default") ? "" : " --instance ",
                                          streq(in->name, "default") ? "" : in->name)
                                : strjoin_printf("  Details:  nautobot-verifyctl show --last%s%s",
                                                 streq(in->name, "default") ? "" : " --instance ",
                                                 streq(in->name, "default") ? "" : in->name);

                ctl_print_line(s->o, strempty(details));
        }
}

static void print_status(const Status *s)
{
        if (s->error) {
                _cleanup_free_ char *e = ctl_escape(s->error);

                printf("%s\n", e);
                return;
        }
        if (s->n_instances == 0 || status_n_rows(s) == 0) {
                _cleanup_free_ char *e = ctl_escape(s->state_directory);

                printf("No verification recorded in %s%s%s.\n", e,
                       s->o->instance ? " for instance " : "", strempty(s->o->instance));
                return;
        }
        for (size_t i = 0; i < s->n_instances; i++) {
                if (i > 0)
                        printf("\n");
                print_instance(s, s->instances[i]);
        }
        if (s->instances_cut)
                printf("\n(more than %d instances: not all shown)\n", INSTANCES_MAX);
}

int ctl_status(const CtlOptions *o)
{
        _cleanup_(status_done) Status s = {.o = o};
        int r;

        s.now = ctl_now_realtime();
        r = status_load_config(&s);
        if (r != 0) {
                if (o->nagios) {
                        _cleanup_free_ char *path = nagios_clean(o->config_path);

                        printf("NAUTOBOT-VERIFYD UNKNOWN - cannot read the configuration %s\n",
                               strempty(path));
                }
                return o->nagios ? NAGIOS_UNKNOWN : r;
        }
        r = status_read(&s);
        /* The units are asked only for what a terminal or JSON shows. */
        if (r >= 0 && !o->nagios)
                r = status_ask_systemd(&s);
        if (r < 0) {
                fprintf(stderr, "Cannot read the state: %s\n", strerror(-r));
                if (o->nagios) {
                        _cleanup_free_ char *dir = nagios_clean(s.state_directory);

                        printf("NAUTOBOT-VERIFYD UNKNOWN - cannot read the state in %s: %s\n",
                               strempty(dir), strerror(-r));
                }
                return o->nagios ? NAGIOS_UNKNOWN : EX_OSERR;
        }
        if (o->nagios)
                return print_nagios(&s);
        if (o->json) {
                /* The document says it too; stderr for whoever reads only that. */
                if (s.error) {
                        _cleanup_free_ char *e = ctl_escape(s.error);

                        fprintf(stderr, "%s\n", e);
                }
                for (size_t i = 0; i < s.n_instances; i++)
                        for (size_t k = 0; k < s.instances[i]->n_rows; k++)
                                if (s.instances[i]->rows[k].error) {
                                        _cleanup_free_ char *e =
                                                ctl_escape(s.instances[i]->rows[k].error);

                                        fprintf(stderr, "%s\n", e);
                                }
                r = ctl_json_print(status_json(&s));
                if (r < 0) {
                        fprintf(stderr, "Cannot write the output: %s\n", strerror(-r));
                        return EX_OSERR;
                }
        } else
                print_status(&s);
        return status_exit_code(&s);
}
