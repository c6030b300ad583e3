/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database check's verdict on the app's migrations (check-database.c
 * asks the database): those on disk against django_migrations, and Django's
 * plan against both. A schema ahead of the code (a rollback, pip first) fails
 * with the recovery that works, and what its migrate back drops, from the
 * state's record of the release that shipped those migrations, is counted in
 * the read-only transaction.
 */
#include "check-database-internal.h"
#include "check.h"
#include "migrations.h"
#include "state.h"

static bool same_set(char **a, char **b)
{
        if (strv_length(a) != strv_length(b))
                return false;
        STRV_FOREACH (x, a)
                if (!strv_contains(b, *x))
                        return false;
        return true;
}

/*
 * What unapplying 'unknown' drops, from the state's record of the release that shipped them
 * (the installed code no longer has them: Django cannot say). Fills s->drop_*; returns that
 * release, or NULL when no verification of it passed here.
 */
static int recorded_drops(Check *c, char **unknown)
{
        const Config *cfg = c->env->config;
        DbState *s = c->state;
        _cleanup_(package_state_freep) PackageState *st = NULL;
        json_object *reversal;
        const char *newer;
        int r;

        if (!cfg->instance_state_directory ||
            state_load(cfg->instance_state_directory, cfg->package, &st, NULL) < 0)
                return 0;
        newer = state_release_shipping(st, unknown, &reversal);
        if (!newer)
                return 0;
        if (!(s->newer = strdup(newer)))
                return -ENOMEM;
        STRV_FOREACH (m, unknown) {
                json_object *undo = json_object_object_get(reversal, *m), *t, *cols;

                t = json_object_object_get(undo, "tables");
                cols = json_object_object_get(undo, "columns");
                for (size_t i = 0; i < json_object_array_length(t); i++)
                        if ((r = strv_extend(&s->drop_tables,
                                             json_object_get_string(
                                                     json_object_array_get_idx(t, i)))) < 0 ||
                            (r = strv_extend(&s->drop_columns, "")) < 0)
                                return r;
                for (size_t i = 0; i < json_object_array_length(cols); i++) {
                        json_object *e = json_object_array_get_idx(cols, i);

                        if ((r = strv_extend(&s->drop_tables,
                                             json_object_get_string(
                                                     json_object_object_get(e, "table")))) < 0 ||
                            (r = strv_extend(&s->drop_columns,
                                             json_object_get_string(
                                                     json_object_object_get(e, "column")))) < 0)
                                return r;
                }
        }
        return 0;
}

/*
 * The database holds migrations the installed code does not ship: the older release went in
 * before "migrate <app> <target>". That migrate cannot run now (the older code has not the
 * migrations to unapply): the recovery that works goes back through the newer release.
 */
static void rolled_back_first(Check *c, char **unknown, const char *k)
{
        const Config *cfg = c->env->config;
        DbState *s = c->state;
        const char *app = cfg->app_label, *installed = c->env->installed_version;
        size_t n_disk = strv_length(s->on_disk);
        const char *target = s->leaf ?: (n_disk ? s->on_disk[n_disk - 1] : "zero");
        _cleanup_free_ char *newer = NULL;

        if (recorded_drops(c, unknown) < 0) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                return;
        }
        newer = s->newer ? strjoin_printf("%s==%s", cfg->package, s->newer)
                         : strjoin_printf(
                                   "the release of %s that ships %s (the one installed before)",
                                   cfg->package, unknown[strv_length(unknown) - 1]);
        s->reason = strjoin_printf(
                "the database has %zu migration(s) of '%s' that the installed code does not ship (%s): the package was rolled back without \"nautobot-server migrate %s <target>\" first, so the schema is ahead of the code. Recover: 1. pip install %s; 2. nautobot-server migrate %s %s; 3. pip install %s==%s; 4. nautobot-server migrate; nautobot-server collectstatic --noinput; 5. systemctl restart nautobot.service nautobot-worker.service nautobot-scheduler.service",
                strv_length(unknown), app, strempty(k), app, strempty(newer), app, target,
                cfg->package, installed ?: "<the installed version>");
        if (!s->reason) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                return;
        }
        if (s->drop_tables)
                check_result_set(c->result, CHECK_FAIL, "%s", s->reason); /* counted next */
        else
                check_result_set(
                        c->result, CHECK_FAIL,
                        "%s. What step 2 drops is not known here: no verification of %s passed on this host; after step 1, \"nautobot-verifyctl rollback %s %s\" counts it",
                        s->reason, s->newer ? s->newer : "that release", cfg->package,
                        installed ?: "<version>");
}

void db_judge(Check *c)
{
        DbState *s = c->state;
        CheckResult *res = c->result;
        const char *app = c->env->config->app_label;
        _cleanup_strv_free_ char **unapplied = NULL, **unknown = NULL;
        _cleanup_free_ char *u = NULL, *k = NULL, *ev = NULL;
        size_t n_disk = strv_length(s->on_disk), n_applied = strv_length(s->applied);

        if (migrations_compare(s->on_disk, s->applied, &unapplied, &unknown) < 0) {
                check_result_set(res, CHECK_ERROR, "out of memory");
                return;
        }
        /* Django's answer (the probe, a few seconds earlier) and ours must agree. */
        if (s->have_plan &&
            (!same_set(unapplied, s->plan_unapplied) || !same_set(unknown, s->plan_unknown))) {
                _cleanup_free_ char *du = strv_join(s->plan_unapplied, ", "),
                                    *lu = strv_join(unapplied, ", ");

                check_result_add_finding(
                        res,
                        "Django's migration plan and django_migrations disagree about '%s' (Django: not applied [%s]; the database: not applied [%s]): a migrate running right now, or the probe and this check reading different databases",
                        app, strempty(du), strempty(lu));
        }
        u = strv_join(unapplied, ", ");
        k = strv_join(unknown, ", ");
        ev = strjoin_printf(
                "database %s\nmigrations of %s: %zu shipped by the installed code, %zu recorded as applied\nlast shipped: %s\nlast applied: %s\nnot applied: %s\napplied but not shipped: %s",
                strempty(s->where), app, n_disk, n_applied, n_disk ? s->on_disk[n_disk - 1] : "-",
                n_applied ? s->applied[n_applied - 1] : "-", unapplied ? strempty(u) : "none",
                unknown ? strempty(k) : "none");
        if (ev)
                check_result_set_evidence(res, ev);

        if (unknown)
                rolled_back_first(c, unknown, k);
        else if (unapplied)
                check_result_set(
                        res, CHECK_FAIL,
                        "%zu migration(s) of '%s' are not applied (%s): run \"nautobot-server migrate\"",
                        strv_length(unapplied), app, strempty(u));
        else
                check_result_set(res, CHECK_PASS, "all %zu migrations of '%s' are applied", n_disk,
                                 app);
        if (unapplied)
                (void)check_result_set_pending(res, "migrate (%zu unapplied)",
                                               strv_length(unapplied));
        else if (unknown)
                (void)check_result_set_pending(res, "migrate %s back", app);
}

/*
 * Rows of each recorded table (and of each column, where not null) that migrating back
 * drops; NULL where this database has no such table or column. Dynamic SQL through
 * query_to_xml(), so that one read-only statement counts them all.
 */
const char db_drops_query[] =
        "SELECT t.tbl, t.col, CASE WHEN to_regclass(quote_ident(t.tbl)) IS NULL THEN NULL "
        "WHEN t.col = '' THEN (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I', t.tbl), false, true, '')))[1]::text::bigint "
        "WHEN NOT EXISTS (SELECT 1 FROM information_schema.columns i WHERE i.table_schema = current_schema() AND i.table_name = t.tbl AND i.column_name = t.col) THEN NULL "
        "ELSE (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I WHERE %I IS NOT NULL', t.tbl, t.col), false, true, '')))[1]::text::bigint END "
        "FROM unnest($1::text[], $2::text[]) AS t(tbl, col)";

/* A PostgreSQL array literal of 'l': {"a","b"}. */
char *db_pg_array(char **l)
{
        Buf b;

        buf_init(&b, 64 * 1024);
        buf_printf(&b, "{");
        STRV_FOREACH (x, l) {
                buf_printf(&b, "%s\"", x == l ? "" : ",");
                for (const char *p = *x; *p; p++)
                        buf_printf(&b, "%s%c", *p == '"' || *p == '\\' ? "\\" : "", *p);
                buf_printf(&b, "\"");
        }
        buf_printf(&b, "}");
        if (b.truncated) {
                buf_done(&b);
                return NULL;
        }
        return b.data;
}

int db_on_drops_result(Check *c, PGresult *res)
{
        DbState *s = c->state;
        const char *app = c->env->config->app_label;
        size_t n_disk = strv_length(s->on_disk);
        const char *target = s->leaf ?: (n_disk ? s->on_disk[n_disk - 1] : "zero");
        Buf sum;
        int r;

        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                _cleanup_free_ char *e = db_result_error(res);

                s->profile_stopped = true;
                return check_result_add_finding(
                        c->result,
                        "what migrating %s back to %s drops could not be counted on %s: %s", app,
                        target, strempty(s->where), strempty(e));
        }
        buf_init(&sum, 4096);
        for (int i = 0; i < PQntuples(res); i++) {
                const char *t = PQgetvalue(res, i, 0), *col = PQgetvalue(res, i, 1);
                bool absent = PQgetisnull(res, i, 2);
                const char *n = absent ? "" : PQgetvalue(res, i, 2);

                if (*col)
                        r = check_result_add_finding(
                                c->result,
                                "migrating %s back to %s drops column %s.%s: %s%s (recorded by %s's verification)",
                                app, target, t, col, absent ? "not in this database" : n,
                                absent ? "" : " row(s) with a value", strempty(s->newer));
                else
                        r = check_result_add_finding(
                                c->result,
                                "migrating %s back to %s drops table %s: %s%s (recorded by %s's verification)",
                                app, target, t, absent ? "not in this database" : n,
                                absent ? "" : " row(s)", strempty(s->newer));
                if (r < 0)
                        return r;
                buf_printf(&sum, "%s%s %s%s%s (%s%s)", i ? ", " : "", *col ? "column" : "table", t,
                           *col ? "." : "", col, absent ? "absent" : n,
                           absent ? ""
                           : *col ? " values"
                                  : " rows");
        }
        if (sum.data && PQntuples(res) > 0)
                check_result_set(c->result, CHECK_FAIL, "%s. Step 2 drops: %s", strempty(s->reason),
                                 sum.data);
        buf_done(&sum);
        return 0;
}
