/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database check's app profile (profile.h): the data hazards its guide
 * warns about, each a query whose first column says whether its message is a
 * finding, asked in one read-only transaction once the migration it names is
 * applied (check-database.c runs the queries). The profile is data: whatever
 * its queries say, they change nothing.
 */
#include "check-database-internal.h"
#include "check.h"

#define BOOLOID 16 /* PostgreSQL's catalog/pg_type.h: the type of a boolean column */

/*
 * A profile's query answered (or BEGIN did). Its row's first column decides
 * whether its message is a finding. A query that fails ends the read-only
 * transaction, so the profile's later findings are not asked: a finding says
 * so, naming the profile's line, and the verdict on the migrations stands.
 */
int db_on_profile_result(Check *c, PGresult *res)
{
        DbState *s = c->state;
        const ProfileFinding *f =
                s->step == STEP_FINDINGS ? &s->profile->findings[s->finding] : NULL;
        char *values[PROFILE_COLUMNS_MAX] = {};
        _cleanup_free_ char *message = NULL;
        int n;

        if (PQresultStatus(res) != (f ? PGRES_TUPLES_OK : PGRES_COMMAND_OK)) {
                _cleanup_free_ char *e = db_result_error(res);

                s->profile_stopped = true;
                if (!e)
                        return -ENOMEM;
                if (f)
                        return check_result_add_finding(
                                c->result,
                                "%s:%u: [finding %s] could not be asked on %s: %s (the profile's later findings were not asked)",
                                s->profile->path, f->line, f->name, strempty(s->where), e);
                return check_result_add_finding(
                        c->result,
                        "%s: its findings were not asked: no read-only transaction on %s: %s",
                        s->profile->path, strempty(s->where), e);
        }
        if (!f || PQntuples(res) < 1) /* no row: nothing to report */
                return 0;
        n = PQnfields(res) - 1;
        if (PQftype(res, 0) != BOOLOID)
                return check_result_add_finding(
                        c->result, "%s:%u: [finding %s]: the query's first column is not a boolean",
                        s->profile->path, f->line, f->name);
        if (n < (int)f->columns)
                return check_result_add_finding(
                        c->result,
                        "%s:%u: [finding %s]: message= uses {%u}, but the query has only %d column(s) after the first",
                        s->profile->path, f->line, f->name, f->columns, n);
        if (PQgetisnull(res, 0, 0) || !streq(PQgetvalue(res, 0, 0), "t"))
                return 0;
        n = n < PROFILE_COLUMNS_MAX ? n : PROFILE_COLUMNS_MAX;
        for (int i = 0; i < n; i++)
                values[i] = PQgetisnull(res, 0, i + 1) ? NULL : PQgetvalue(res, 0, i + 1);
        message = profile_finding_format(f, values, (size_t)n);
        if (!message)
                return -ENOMEM;
        return check_result_add_finding(c->result, "%s", message);
}

/* The next of the profile's findings whose migration is applied, from 'from'; NULL: none. */
const ProfileFinding *db_next_finding(DbState *s, size_t from)
{
        for (s->finding = from; s->profile && s->finding < s->profile->n_findings; s->finding++) {
                const ProfileFinding *f = &s->profile->findings[s->finding];

                if (!f->after || strv_contains(s->applied, f->after))
                        return f;
        }
        return NULL;
}
