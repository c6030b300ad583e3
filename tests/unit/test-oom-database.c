/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database check's judging with allocations failing (oom-sweep.h): the
 * app's migrations on disk against django_migrations. It includes
 * check-database.c to reach its static steps and private state (the judging
 * they call, check-database-migrations.c and check-database-profile.c, comes
 * from libnvd.a, its allocations wrapped too); the query's answer is a
 * PGresult built with libpq's own functions, taken as on_io() takes one, so
 * no server is needed.
 */
#include "check-database.c"
#include "oom-sweep.h"
#include "test.h"

typedef struct Scenario {
        const char *on_disk; /* ";"-separated */
        const char *applied; /* the rows of django_migrations for the app */
} Scenario;

static char **split(const char *list)
{
        _cleanup_free_ char *copy = strdup(list);
        char **l = NULL, *save = NULL;

        ASSERT(copy);
        for (char *m = strtok_r(copy, ";", &save); m; m = strtok_r(NULL, ";", &save))
                ASSERT(strv_extend(&l, m) == 0);
        return l;
}

static PGresult *query_result(char **rows)
{
        PGresAttDesc name = {
                .name = (char *)"name", .typid = 25 /* text */, .typlen = -1, .atttypmod = -1};
        PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);
        int i = 0;

        ASSERT(res && PQsetResultAttrs(res, 1, &name));
        STRV_FOREACH (m, rows)
                ASSERT(PQsetvalue(res, i++, 0, *m, (int)strlen(*m)));
        return res;
}

static void run(Check *c, const OomPlan *p, void *userdata)
{
        const Scenario *sc = userdata;
        _cleanup_strv_free_ char **applied = split(sc->applied);
        DbState *s = calloc(1, sizeof(*s));
        PGresult *res;
        int r;

        ASSERT(s);
        c->state = s;
        c->state_free = db_state_free;
        s->check = c;
        s->on_disk = split(sc->on_disk);
        s->where = strdup("nautobot@localhost/nautobot");
        ASSERT(s->where);
        s->step = STEP_MIGRATIONS;
        res = query_result(applied);

        oom_arm(p);
        /* What on_io() does with a result and then with the end of the query. */
        r = on_result(c, res);
        PQclear(res);
        if (r < 0) {
                if (r == -ENOMEM)
                        check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
        } else
                next_step(c);
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        CheckEnv env = {};

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "nautobot_contract_models") == 0);
        env = (CheckEnv){.config = cfg};

        /* The upgrade's "migrate" forgotten. */
        oom_sweep("database, a migration not applied", &env, CHECK_ID_DATABASE, run,
                  &(Scenario){.on_disk = "0001_initial;0002_vendor;0003_contract_cost",
                              .applied = "0001_initial;0002_vendor"},
                  "are not applied");
        /* A rollback of the package without "migrate <app> <target>" first. */
        oom_sweep("database, a migration applied but not shipped", &env, CHECK_ID_DATABASE, run,
                  &(Scenario){.on_disk = "0001_initial;0002_vendor",
                              .applied = "0001_initial;0002_vendor;0003_contract_cost"},
                  "that the installed code does not ship");
        printf("ok - database\n");
        return 0;
}
