/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A run once read from the journal (ctl-journal.c reads it): its verdict word
 * and exit code, its checks in report order (lib/checks' table), and the run
 * as JSON (schema "run" of README.md). Declared in ctl-journal.h.
 */
#include "config.h"
#include "ctl-journal.h"
#include "verdict.h"

const char *run_verdict(const Run *r)
{
        return r->verdict ?: "unfinished";
}

int run_exit_code(const Run *r)
{
        /* An unknown word (or none: unfinished) is incomplete, as the daemon's own exit. */
        return verdict_exit_status(verdict_from_string(r->verdict));
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
        json_object_object_add(o, "verdict", ctl_json_string(run_verdict(r)));
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
