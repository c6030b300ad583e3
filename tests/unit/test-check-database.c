/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database check against the real PostgreSQL on 127.0.0.1:5432 (skipped
 * when it does not answer): a host list whose first address refuses (libpq
 * then opens a new socket, usually under the old fd number), and a query
 * queued behind an ACCESS EXCLUSIVE lock, which must end at database-timeout
 * with the server-side backend gone, not left waiting.
 */
#include <libpq-fe.h>
#include <signal.h>
#include <sys/stat.h>

#include "check.h"
#include "test.h"

#define ADMIN "host=127.0.0.1 port=5432 user=postgres dbname=postgres connect_timeout=3"
#define APP   "nvd_test_app"

static char dbname[64];

static PGconn *connect_or_skip(const char *conninfo)
{
        PGconn *c = PQconnectdb(conninfo);

        if (PQstatus(c) != CONNECTION_OK) {
                printf("skipped: PostgreSQL at 127.0.0.1:5432 does not answer as user postgres: %s",
                       PQerrorMessage(c));
                PQfinish(c);
                exit(77);
        }
        return c;
}

static void sql(PGconn *c, const char *q)
{
        PGresult *r = PQexec(c, q);

        if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
                fprintf(stderr, "%s: %s", q, PQerrorMessage(c));
                abort();
        }
        PQclear(r);
}

static long long backends(PGconn *admin)
{
        const char *params[] = {dbname};
        PGresult *r = PQexecParams(admin,
                                   "SELECT count(*) FROM pg_stat_activity WHERE datname = $1"
                                   " AND application_name = 'nautobot-verifyd'",
                                   1, NULL, params, NULL, NULL, 0);
        long long n;

        ASSERT(PQresultStatus(r) == PGRES_TUPLES_OK);
        n = atoll(PQgetvalue(r, 0, 0));
        PQclear(r);
        return n;
}

typedef struct Run {
        bool done;
} Run;

static void on_done(Check *c, void *userdata)
{
        Run *run = userdata;

        (void)c;
        run->done = true;
}

/* Runs the database check to its end (at most 20 s) and returns how long it took. */
static uint64_t run_check(sd_event *e, Config *cfg, char **env, CheckResult **ret)
{
        CheckEnv ce = {.event = e, .config = cfg, .child_env = env};
        Check c = {.id = CHECK_ID_DATABASE, .env = &ce, .done = on_done};
        Run run = {};
        uint64_t start = now_usec();

        ASSERT(check_result_new(&c.result, "database") == 0);
        c.userdata = &run;
        c.start_usec = start;
        ASSERT(check_database_start(&c) >= 0);
        while (!run.done && now_usec() - start < 20 * USEC_PER_SEC)
                ASSERT(sd_event_run(e, 100 * USEC_PER_MSEC) >= 0);
        if (!run.done) {
                fprintf(stderr, "the database check did not end in 20 s\n");
                abort();
        }
        *ret = c.result;
        return now_usec() - start;
}

static char **db_env(const char *host, const char *port)
{
        char **env = NULL;

        ASSERT(strv_push(&env, strjoin_printf("NAUTOBOT_DB_HOST=%s", host)) == 0);
        ASSERT(strv_push(&env, strjoin_printf("NAUTOBOT_DB_PORT=%s", port)) == 0);
        ASSERT(strv_push(&env, strjoin_printf("NAUTOBOT_DB_NAME=%s", dbname)) == 0);
        ASSERT(strv_extend(&env, "NAUTOBOT_DB_USER=postgres") == 0);
        return env;
}

/* The first address refuses: libpq moves to the next on a new socket, likely the same fd. */
static void test_host_list(sd_event *e, Config *cfg)
{
        _cleanup_strv_free_ char **env = db_env("127.0.0.1,127.0.0.1", "1,5432");
        _cleanup_(check_result_freep) CheckResult *res = NULL;
        uint64_t took;

        cfg->database_timeout_usec = 5 * USEC_PER_SEC;
        took = run_check(e, cfg, env, &res);
        printf("  host list: %s in %.3f s: %s\n", check_state_to_string(res->state),
               (double)took / USEC_PER_SEC, strempty(res->reason));
        ASSERT(res->state == CHECK_PASS);
        ASSERT(took < 2 * USEC_PER_SEC);
}

/* A query queued behind "migrate"'s lock: ends at the timeout, and so does the backend. */
static void test_lock_timeout_cancels(sd_event *e, Config *cfg, PGconn *admin)
{
        _cleanup_strv_free_ char **env = db_env("127.0.0.1", "5432");
        _cleanup_(check_result_freep) CheckResult *res = NULL;
        _cleanup_free_ char *conninfo = NULL;
        PGconn *locker;
        uint64_t took, start;
        long long n = -1;

        conninfo = strjoin_printf("host=127.0.0.1 port=5432 user=postgres dbname=%s", dbname);
        ASSERT(conninfo);
        locker = connect_or_skip(conninfo);
        sql(locker, "BEGIN");
        sql(locker, "LOCK TABLE django_migrations IN ACCESS EXCLUSIVE MODE");

        cfg->database_timeout_usec = 1500 * USEC_PER_MSEC;
        took = run_check(e, cfg, env, &res);
        printf("  behind a lock: %s in %.3f s: %s\n", check_state_to_string(res->state),
               (double)took / USEC_PER_SEC, strempty(res->reason));
        ASSERT(res->state == CHECK_ERROR);
        ASSERT(strstr(strempty(res->reason), "did not answer within 1500 ms"));
        ASSERT(took >= 1400 * USEC_PER_MSEC && took < 5 * USEC_PER_SEC);

        /* The lock is still held: only the cancel ends the backend this soon (the server's own
         * lock_timeout is a second later). Nothing at all ends it without either. */
        start = now_usec();
        while (now_usec() - start < 3 * USEC_PER_SEC && (n = backends(admin)) > 0)
                usleep(20 * 1000);
        printf("  backends of the check left after %.3f s: %lld\n",
               (double)(now_usec() - start) / USEC_PER_SEC, n);
        ASSERT(n == 0);
        ASSERT(now_usec() - start < 500 * USEC_PER_MSEC);
        sql(locker, "ROLLBACK");
        PQfinish(locker);
}

/*
 * The app profile's findings: asked in a read-only transaction once their
 * migration is applied, a query that would write refused by the server (and
 * the later ones not asked), the verdict on the migrations unchanged.
 */
static void test_profile_findings(sd_event *e, Config *cfg)
{
        static const char text[] =
                "[app]\npackage = nvd-test-app\nlabel = " APP "\n"
                "[finding empty]\nafter = 0001_initial\n"
                "query = SELECT count(*) = 0, count(*), '!' FROM nvd_t\nmessage = nvd_t has {1} rows{2}\n"
                "[finding later]\nafter = 0099_later\nquery = SELECT true\nmessage = not applied\n"
                "[finding quiet]\nquery = SELECT false, 1\nmessage = false\n"
                "[finding notbool]\nquery = SELECT 1\nmessage = not a boolean\n"
                "[finding write]\n"
                "query = WITH d AS (DELETE FROM django_migrations RETURNING 1) SELECT true FROM d\n"
                "message = wrote\n"
                "[finding after-write]\nquery = SELECT true\nmessage = asked after a failure\n";
        _cleanup_strv_free_ char **env = db_env("127.0.0.1", "5432");
        _cleanup_(check_result_freep) CheckResult *res = NULL;
        _cleanup_free_ char *conninfo = NULL;
        Profile *p = NULL;
        PGconn *db;
        PGresult *r;

        conninfo = strjoin_printf("host=127.0.0.1 port=5432 user=postgres dbname=%s", dbname);
        db = connect_or_skip(conninfo);
        sql(db, "CREATE TABLE nvd_t (x int)");
        ASSERT(profile_parse(text, "p.conf", NULL, &p, NULL) == 0);
        ASSERT(cfg->profiles = calloc(1, sizeof(Profile *)));
        cfg->profiles[cfg->n_profiles++] = p;
        ASSERT(free_and_strdup(&cfg->package, "nvd-test-app") == 0);
        cfg->database_timeout_usec = 5 * USEC_PER_SEC;

        run_check(e, cfg, env, &res);
        for (size_t i = 0; i < strv_length(res->findings); i++)
                printf("  finding: %s\n", res->findings[i]);
        ASSERT(res->state == CHECK_PASS);
        ASSERT(strv_length(res->findings) == 3);
        ASSERT_STREQ(res->findings[0], "nvd_t has 0 rows!");
        ASSERT_STREQ(res->findings[1],
                     "p.conf:15: [finding notbool]: the query's first column is not a boolean");
        ASSERT(startswith(
                res->findings[2],
                "p.conf:18: [finding write] could not be asked on postgres@127.0.0.1:5432/"));
        ASSERT(strstr(res->findings[2], "read-only transaction"));
        ASSERT(strstr(res->findings[2], "(the profile's later findings were not asked)"));

        r = PQexec(db, "SELECT count(*) FROM django_migrations");
        ASSERT(PQresultStatus(r) == PGRES_TUPLES_OK && streq(PQgetvalue(r, 0, 0), "1"));
        PQclear(r);
        PQfinish(db);
}

int main(void)
{
        char sp[] = "/tmp/nvd-test-db-XXXXXX";
        _cleanup_(config_freep) Config *cfg = NULL;
        _cleanup_free_ char *q = NULL, *dir = NULL, *file = NULL, *conninfo = NULL, *rm = NULL;
        PGconn *admin, *db;
        sd_event *e = NULL;
        sigset_t mask;
        FILE *f;

        /* sd-event's child sources (the canceller) want SIGCHLD blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        ASSERT(sigprocmask(SIG_BLOCK, &mask, NULL) == 0);

        admin = connect_or_skip(ADMIN);
        snprintf(dbname, sizeof(dbname), "nvd_unit_db_%d", (int)getpid());
        q = strjoin_printf("CREATE DATABASE %s", dbname);
        sql(admin, q);
        conninfo = strjoin_printf("host=127.0.0.1 port=5432 user=postgres dbname=%s", dbname);
        db = connect_or_skip(conninfo);
        sql(db, "CREATE TABLE django_migrations (id serial PRIMARY KEY, app varchar(255),"
                " name varchar(255), applied timestamptz DEFAULT now())");
        sql(db, "INSERT INTO django_migrations (app, name) VALUES ('" APP "', '0001_initial')");
        PQfinish(db);

        /* The app's migrations as the installed code ships them. */
        ASSERT(mkdtemp(sp));
        dir = strjoin_printf("%s/" APP "/migrations", sp);
        rm = strjoin_printf("mkdir -p '%s'", dir);
        ASSERT(system(rm) == 0);
        file = strjoin_printf("%s/0001_initial.py", dir);
        f = fopen(file, "we");
        ASSERT(f);
        fclose(f);

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, APP) == 0);
        ASSERT(free_and_strdup(&cfg->site_packages, sp) == 0);
        ASSERT(sd_event_new(&e) >= 0);

        test_host_list(e, cfg);
        printf("ok - test_host_list\n");
        test_lock_timeout_cancels(e, cfg, admin);
        printf("ok - test_lock_timeout_cancels\n");
        test_profile_findings(e, cfg);
        printf("ok - test_profile_findings\n");

        free(q);
        q = strjoin_printf("DROP DATABASE %s WITH (FORCE)", dbname);
        sql(admin, q);
        PQfinish(admin);
        sd_event_unref(e);
        free(rm);
        rm = strjoin_printf("rm -rf '%s'", sp);
        ASSERT(system(rm) == 0);
        return 0;
}
