/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The database check, through libpq on the shared event loop (asynchronous
 * connect and queries; nothing blocks). This file owns the connection: where
 * to connect, the steps of its queries, the timeout and the cancel. It
 * compares the app's migrations on disk with django_migrations, which catches
 * the upgrade guide's two schema hazards: an upgrade whose "migrate" was
 * forgotten, and a rollback of the package without "migrate <app> <target>"
 * first (the verdict: check-database-migrations.c). The app's profile
 * (profile.h) adds the data hazards its guide warns about as findings: each a
 * query, run once the migration it names is applied, all in one read-only
 * transaction on the same connection and within the same database-timeout
 * (check-database-profile.c).
 *
 * Connection parameters are Django's own: DATABASES["default"] as the probe
 * reports it (nautobot_config.py commonly sets it), else NAUTOBOT_DB_* from
 * the child environment (the environment file), as nautobot-server reads them.
 *
 * What does block: libpq resolves a host *name* with getaddrinfo() inside
 * PQconnectStartParams()/PQconnectPoll() (libpq 15 has no asynchronous
 * resolver). An IP address (NAUTOBOT_DB_HOST=127.0.0.1) or a socket directory
 * resolves nothing; "localhost", the default, is answered from /etc/hosts. A
 * name that needs DNS can hold the loop up to the resolver's own timeouts
 * (resolv.conf "timeout"/"attempts"): configure an address where that matters.
 *
 * The server does not work on after we give up: on a timeout the running
 * query is cancelled (PQcancel(), from a short-lived child because it blocks)
 * before the connection is closed, and statement_timeout and lock_timeout,
 * a second longer than database-timeout, end it should the cancel not arrive.
 */
#include <signal.h>
#include <sys/pidfd.h>
#include <sys/wait.h>

#include "check-database-internal.h"
#include "check.h"
#include "migrations.h"

static void db_state_free(void *p)
{
        DbState *s = p;

        if (s->probe)
                probe_unsubscribe(s->probe, s->check);
        sd_event_source_disable_unref(s->io);
        sd_event_source_disable_unref(s->timer);
        /* Owns the process: a canceller still running is killed and reaped here. */
        sd_event_source_disable_unref(s->cancel);
        if (s->conn)
                PQfinish(s->conn);
        strv_free(s->on_disk);
        strv_free(s->applied);
        strv_free(s->plan_unapplied);
        strv_free(s->plan_unknown);
        free(s->leaf);
        strv_free(s->drop_tables);
        strv_free(s->drop_columns);
        free(s->reason);
        free(s->newer);
        free(s->where);
        free(s);
}

static const char *env_get(char *const *env, const char *key)
{
        size_t l = strlen(key);

        STRV_FOREACH (e, (char **)env)
                if (strncmp(*e, key, l) == 0 && (*e)[l] == '=')
                        return *e + l + 1;
        return NULL;
}

/* libpq's messages end in a newline and may span lines: one line for a reason. */
static char *pq_error(PGconn *conn)
{
        char *m = strdup(PQerrorMessage(conn) ?: "unknown error");

        if (m)
                for (char *p = m; *p; p++)
                        if (*p == '\n')
                                *p = p[1] ? ' ' : 0;
        return m;
}

static void fail_db(Check *c, const char *what)
{
        DbState *s = c->state;
        _cleanup_free_ char *e = pq_error(s->conn);

        check_result_set(c->result, CHECK_ERROR, "%s %s: %s", what, strempty(s->where),
                         strempty(e));
        check_complete(c);
}

static int watch_fd(Check *c, uint32_t events, bool reregister);

static int send_query(Check *c, const char *sql, int n_params, const char *const *params)
{
        DbState *s = c->state;

        if (!PQsendQueryParams(s->conn, sql, n_params, NULL, params, NULL, NULL, 0))
                return -EIO;
        s->flushing = true;
        return watch_fd(c, EPOLLIN | EPOLLOUT, false);
}

/* The first line of a failed result's error, for a finding. */
char *db_result_error(PGresult *res)
{
        char *e = strdup(PQresultErrorMessage(res) ?: "");

        if (e) {
                e[strcspn(e, "\n")] = 0;
                if (!*e && free_and_strdup(&e, PQresStatus(PQresultStatus(res))) < 0)
                        return mfree(e);
        }
        return e;
}

/* A whole result has arrived: take it and go on. Returns <0 when the check completed. */
static int on_result(Check *c, PGresult *res)
{
        DbState *s = c->state;
        int r;

        if (s->step == STEP_DROPS)
                return db_on_drops_result(c, res);
        if (s->step == STEP_READ_ONLY || s->step == STEP_FINDINGS)
                return db_on_profile_result(c, res);
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
                _cleanup_free_ char *e = strdup(PQresultErrorMessage(res) ?: "");

                if (e)
                        e[strcspn(e, "\n")] = 0;
                check_result_set(c->result, CHECK_ERROR, "query on %s failed: %s",
                                 strempty(s->where), strempty(e));
                return -EIO;
        }
        for (int i = 0; i < PQntuples(res) && i < MIGRATIONS_MAX; i++)
                if ((r = strv_extend(&s->applied, PQgetvalue(res, i, 0))) < 0)
                        return r;
        return 0;
}

static void next_step(Check *c)
{
        DbState *s = c->state;
        const ProfileFinding *f;
        int r;

        if (s->step == STEP_MIGRATIONS) {
                db_judge(c);
                if (!db_next_finding(s, 0) && !s->drop_tables) {
                        check_complete(c);
                        return;
                }
                /* The profile is data: whatever its queries say, they change nothing. */
                s->step = STEP_READ_ONLY;
                if (send_query(c, "BEGIN TRANSACTION READ ONLY", 0, NULL) < 0)
                        fail_db(c, "cannot query");
                return;
        }
        if (s->step == STEP_READ_ONLY && s->drop_tables && !s->profile_stopped) {
                _cleanup_free_ char *tables = db_pg_array(s->drop_tables),
                                    *columns = db_pg_array(s->drop_columns);
                const char *params[] = {tables, columns};

                s->step = STEP_DROPS;
                if (!tables || !columns || send_query(c, db_drops_query, 2, params) < 0)
                        fail_db(c, "cannot query");
                return;
        }
        f = s->profile_stopped ? NULL
            : s->step == STEP_READ_ONLY || s->step == STEP_DROPS
                    ? db_next_finding(s, 0)
                    : db_next_finding(s, s->finding + 1);
        if (!f) {
                check_complete(c);
                return;
        }
        s->step = STEP_FINDINGS;
        r = send_query(c, f->query, 0, NULL);
        if (r < 0)
                fail_db(c, "cannot query");
}

static int on_io(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
        Check *c = userdata;
        DbState *s = c->state;
        int r;

        (void)src, (void)fd, (void)revents;
        if (s->step == STEP_CONNECT) {
                /* When an address fails, libpq closes its socket and opens the next one, which
                 * usually gets the same number: register the socket anew after every poll. */
                switch (PQconnectPoll(s->conn)) {
                case PGRES_POLLING_READING:
                        return watch_fd(c, EPOLLIN, true) < 0 ? (fail_db(c, "cannot connect to"), 0)
                                                              : 0;
                case PGRES_POLLING_WRITING:
                        return watch_fd(c, EPOLLOUT, true) < 0
                                       ? (fail_db(c, "cannot connect to"), 0)
                                       : 0;
                case PGRES_POLLING_OK: {
                        const char *params[] = {c->env->config->app_label};

                        s->step = STEP_MIGRATIONS;
                        if (PQsetnonblocking(s->conn, 1) < 0 ||
                            send_query(
                                    c,
                                    "SELECT name FROM django_migrations WHERE app = $1 ORDER BY name",
                                    1, params) < 0)
                                fail_db(c, "cannot query");
                        return 0;
                }
                default:
                        fail_db(c, "cannot connect to");
                        return 0;
                }
        }
        if (s->flushing) {
                r = PQflush(s->conn);
                if (r < 0) {
                        fail_db(c, "lost the connection to");
                        return 0;
                }
                if (r == 0) {
                        s->flushing = false;
                        (void)watch_fd(c, EPOLLIN, false);
                }
        }
        if (!PQconsumeInput(s->conn)) {
                fail_db(c, "lost the connection to");
                return 0;
        }
        while (!PQisBusy(s->conn)) {
                PGresult *res = PQgetResult(s->conn);

                if (!res) { /* the query is complete */
                        next_step(c);
                        return 0;
                }
                r = on_result(c, res);
                PQclear(res);
                if (r < 0) {
                        if (r == -ENOMEM)
                                check_result_set(c->result, CHECK_ERROR, "out of memory");
                        /* drain nothing more: finishing the connection discards it */
                        check_complete(c);
                        return 0;
                }
        }
        return 0;
}

/*
 * Points the io source at libpq's socket. While connecting, the socket may be
 * a new one under the old number (the kernel dropped the closed one from
 * epoll): 'reregister' adds it afresh instead of trusting the number.
 */
static int watch_fd(Check *c, uint32_t events, bool reregister)
{
        DbState *s = c->state;
        int fd = PQsocket(s->conn), r;

        if (fd < 0)
                return -EBADF;
        if (s->io && !reregister)
                return sd_event_source_set_io_events(s->io, events);
        s->io = sd_event_source_disable_unref(s->io);
        r = sd_event_add_io(c->env->event, &s->io, fd, events, on_io, c);
        if (r < 0)
                return r;
        (void)sd_event_source_set_description(s->io, "check-database");
        return 0;
}

static int on_cancel_done(sd_event_source *src, const siginfo_t *si, void *userdata)
{
        Check *c = userdata;

        (void)src, (void)si;
        check_complete(c); /* frees the state: reaps the child, PQfinish() */
        return 0;
}

/*
 * Asks the server to cancel the running query. PQcancel() connects and waits
 * for the server's answer with no timeout of its own, so it runs in a child
 * (it is async-signal-safe, so fine between fork() and _exit()) that an alarm
 * ends after CANCEL_MAX_SEC. The check completes when the child has ended.
 */
#define CANCEL_MAX_SEC 2
static int start_cancel(Check *c)
{
        DbState *s = c->state;
        _cleanup_close_ int pidfd = -1;
        PGcancel *cancel;
        pid_t pid;
        int r;

        cancel = PQgetCancel(s->conn);
        if (!cancel)
                return -ENOMEM;
        pid = fork();
        if (pid < 0) {
                r = -errno;
                PQfreeCancel(cancel);
                return r;
        }
        if (pid == 0) {
                sigset_t all;
                char error[256];

                (void)signal(SIGALRM, SIG_DFL);
                sigemptyset(&all);
                (void)sigprocmask(SIG_SETMASK, &all, NULL);
                alarm(CANCEL_MAX_SEC);
                _exit(PQcancel(cancel, error, sizeof(error)) ? 0 : 1);
        }
        PQfreeCancel(cancel);
        pidfd = pidfd_open(pid, 0);
        if (pidfd >= 0) {
                r = sd_event_add_child_pidfd(c->env->event, &s->cancel, pidfd, WEXITED,
                                             on_cancel_done, c);
                if (r >= 0) {
                        (void)sd_event_source_set_child_pidfd_own(s->cancel, true);
                        TAKE_FD(pidfd);
                }
        } else /* kernels before 5.3, and valgrind: sd-event watches the pid via SIGCHLD */
                r = sd_event_add_child(c->env->event, &s->cancel, pid, WEXITED, on_cancel_done, c);
        if (r < 0) {
                (void)kill(pid, SIGKILL);
                (void)waitpid(pid, NULL, 0);
                return r;
        }
        (void)sd_event_source_set_child_process_own(s->cancel, true);
        (void)sd_event_source_set_description(s->cancel, "check-database-cancel");
        return 0;
}

static int on_timeout(sd_event_source *src, uint64_t usec, void *userdata)
{
        Check *c = userdata;
        DbState *s = c->state;
        uint64_t t = c->env->config->database_timeout_usec;

        (void)src, (void)usec;
        check_result_set(c->result, CHECK_ERROR,
                         "the database %s did not answer within %" PRIu64 "%s (database-timeout)",
                         strempty(s->where),
                         t % USEC_PER_SEC ? t / USEC_PER_MSEC : t / USEC_PER_SEC,
                         t % USEC_PER_SEC ? " ms" : " s");
        s->io = sd_event_source_disable_unref(s->io);
        /* A query in flight keeps running on the server after we close: cancel it first. */
        if (s->step != STEP_CONNECT && PQstatus(s->conn) == CONNECTION_OK &&
            PQtransactionStatus(s->conn) == PQTRANS_ACTIVE && start_cancel(c) >= 0)
                return 0;
        check_complete(c);
        return 0;
}

/* Connects with these parameters; the check goes on from the event loop. */
static void db_connect(Check *c, const char *host, const char *port, const char *name,
                       const char *user, const char *password)
{
        const Config *cfg = c->env->config;
        DbState *s = c->state;
        _cleanup_free_ char *timeout = NULL, *options = NULL;
        int r;

        s->where = strjoin_printf("%s@%s%s%s/%s", isempty(user) ? "(default user)" : user,
                                  isempty(host) ? "(local socket)" : host, isempty(port) ? "" : ":",
                                  strempty(port), name);
        /* libpq's connect_timeout is per address, in whole seconds (at least 2). */
        timeout = strjoin_printf("%" PRIu64, cfg->database_timeout_usec / USEC_PER_SEC ?: 1);
        /* The server's own limits, a second after ours: we give up first and cancel; they
         * end the query should the cancel request not get through. */
        options = strjoin_printf("-c statement_timeout=%" PRIu64 " -c lock_timeout=%" PRIu64,
                                 (cfg->database_timeout_usec + USEC_PER_SEC) / USEC_PER_MSEC,
                                 (cfg->database_timeout_usec + USEC_PER_SEC) / USEC_PER_MSEC);
        if (!s->where || !timeout || !options) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        const char *keys[] = {"host",     "port",
                              "dbname",   "user",
                              "password", "connect_timeout",
                              "options",  "application_name",
                              NULL};
        const char *values[] = {
                host, port, name, user, password, timeout, options, "nautobot-verifyd", NULL};
        s->conn = PQconnectStartParams(keys, values, 0);
        if (!s->conn) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        if (PQstatus(s->conn) == CONNECTION_BAD) {
                fail_db(c, "cannot connect to");
                return;
        }
        r = sd_event_add_time_relative(c->env->event, &s->timer, CLOCK_MONOTONIC,
                                       cfg->database_timeout_usec, 0, on_timeout, c);
        if (r < 0) {
                check_result_set(c->result, CHECK_ERROR, "cannot add a timer: %s", strerror(-r));
                check_complete(c);
                return;
        }
        (void)sd_event_source_set_description(s->timer, "check-database-timeout");
        r = watch_fd(c, EPOLLOUT, true);
        if (r < 0)
                fail_db(c, "cannot connect to");
}

/* [database] keys win, one by one, over what Django or the environment says. */
static void connect_final(Check *c, const char *host, const char *port, const char *name,
                          const char *user, const char *password)
{
        const Config *cfg = c->env->config;
        _cleanup_erase_free_ char *pw = NULL;
        int r;

        if (cfg->db_password_file) {
                _cleanup_free_ char *why = NULL;

                /* config_finalize() made sure host=, port= and name= are set too: the admin's
                 * password goes where the admin said, never where the probe (the app's code)
                 * or the environment file points. */
                r = config_secret(cfg, SECRET_DB_PASSWORD, &pw, NULL, &why);
                if (r < 0) {
                        check_result_set(c->result, CHECK_ERROR,
                                         "cannot read [database] password-file= %s: %s",
                                         cfg->db_password_file, why ?: strerror(-r));
                        check_complete(c);
                        return;
                }
        }
        if ((cfg->db_name && !streq(cfg->db_name, name)) ||
            (cfg->db_host && !streq(cfg->db_host, host)))
                check_result_add_finding(
                        c->result,
                        "[database] names %s on %s, where Nautobot uses %s on %s: checked the configured one",
                        cfg->db_name ?: name, cfg->db_host ?: host, name, host);
        db_connect(c, cfg->db_host ?: host, cfg->db_port ?: port, cfg->db_name ?: name,
                   cfg->db_user ?: user, pw ?: password);
}

/* Nautobot's default settings (nautobot/core/settings.py) where the environment is silent. */
static void connect_env(Check *c)
{
        char *const *env = c->env->child_env;

        connect_final(c, env_get(env, "NAUTOBOT_DB_HOST") ?: "localhost",
                      env_get(env, "NAUTOBOT_DB_PORT") ?: "",
                      env_get(env, "NAUTOBOT_DB_NAME") ?: "nautobot",
                      env_get(env, "NAUTOBOT_DB_USER") ?: "",
                      env_get(env, "NAUTOBOT_DB_PASSWORD") ?: "");
}

/* Django's own settings; says so when the environment file names another database. */
static void connect_django(Check *c, const DbSettings *d)
{
        char *const *env = c->env->child_env;
        const char *name = env_get(env, "NAUTOBOT_DB_NAME"),
                   *host = env_get(env, "NAUTOBOT_DB_HOST");

        if ((name && !streq(name, d->name)) || (host && !streq(host, d->host)))
                check_result_add_finding(
                        c->result,
                        "the environment file names database %s on %s, but Django uses %s on %s (nautobot_config.py sets DATABASES): checked Django's",
                        strempty(name), strempty(host), d->name,
                        isempty(d->host) ? "the local socket" : d->host);
        connect_final(c, d->host, d->port, d->name, d->user, d->password);
}

/* The app's entries of the probe's "app.name" list, as migration names. */
static int keep_app_plan(Check *c, char **plan, char ***ret)
{
        const char *app = c->env->config->app_label;

        STRV_FOREACH (m, plan) {
                const char *name = startswith(*m, app);
                int r;

                if (name && *name == '.' && (r = strv_extend(ret, name + 1)) < 0)
                        return r;
        }
        return 0;
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Check *c = userdata;
        DbState *s = c->state;
        _cleanup_(db_settings_freep) DbSettings *d = NULL;

        s->probe = NULL; /* told */
        if (po->report && !po->report->plan_error &&
            (keep_app_plan(c, po->report->unapplied, &s->plan_unapplied) < 0 ||
             keep_app_plan(c, po->report->applied_not_shipped, &s->plan_unknown) < 0)) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
                return;
        }
        s->have_plan = po->report && !po->report->plan_error;
        {
                const ProbeAppAnswer *a = probe_report_app(po->report, c->env->config->app_label);

                /* Django's leaf of the installed code: where a migrate back goes. */
                if (a && strv_length(a->leaves) == 1 && !(s->leaf = strdup(a->leaves[0]))) {
                        check_result_set(c->result, CHECK_ERROR, "out of memory");
                        check_complete(c);
                        return;
                }
        }
        if (db_settings_from_probe(po->report, &d) < 0) {
                check_result_set(c->result, CHECK_ERROR, "out of memory");
                check_complete(c);
        } else if (d)
                connect_django(c, d);
        else {
                check_result_add_finding(
                        c->result,
                        "Django's database settings are unknown (the probe %s): checked the one NAUTOBOT_DB_* names",
                        po->report ? "reported no PostgreSQL database" : "gave no answer");
                connect_env(c);
        }
}

int check_database_start(Check *c)
{
        const Config *cfg = c->env->config;
        _cleanup_free_ char *dir = NULL;
        const char *engine;
        DbState *s;
        int r;

        if (c->env->child_env_error) {
                check_result_set(c->result, CHECK_ERROR, "%s", c->env->child_env_error);
                check_complete(c);
                return 0;
        }
        engine = env_get(c->env->child_env, "NAUTOBOT_DB_ENGINE");
        if (engine && !strstr(engine, "postgresql")) {
                check_result_set(c->result, CHECK_SKIPPED,
                                 "the database engine is %s; this check reads PostgreSQL only",
                                 engine);
                check_complete(c);
                return 0;
        }

        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = db_state_free;
        s->check = c;
        s->profile = config_profile(cfg, cfg->package);
        dir = strjoin_printf("%s/%s/migrations", strempty(cfg->site_packages), cfg->app_label);
        if (!dir)
                return -ENOMEM;
        r = migrations_list_dir(strempty(cfg->site_packages), cfg->app_label, &s->on_disk);
        if (r < 0) {
                check_result_set(
                        c->result, CHECK_ERROR, "cannot list the app's migrations in %s: %s", dir,
                        r == -ELOOP ? "a symbolic link on the way, not followed" : strerror(-r));
                check_complete(c);
                return 0;
        }
        /*
         * The database Django really uses: nautobot_config.py may set DATABASES
         * itself. The probe of this run says it (the check waits for it); an
         * earlier probe's answer serves the runs without one (an upgrade's step
         * rounds); NAUTOBOT_DB_* is the fallback.
         */
        if (c->env->probe) {
                r = probe_subscribe(c->env->probe, on_probe, c);
                if (r < 0)
                        return r;
                s->probe = c->env->probe;
        } else if (c->env->db)
                connect_django(c, c->env->db);
        else
                connect_env(c);
        return 0;
}
