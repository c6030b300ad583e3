/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A verification run. See verify.h. Everything a check needs is prepared
 * once, when the run is made (what it reads of the host: verify-host.c), and
 * what cannot be prepared (an unreadable secret, a broken environment file)
 * turns into that check's error, not a failed run. This file owns the run's
 * life: its Django probe, starting the checks, counting them done, and the
 * results and report; what a check observed is compared with the last passing
 * verification in verify-baseline.c.
 */
#include <json-c/json.h>
#include <sys/stat.h>

#include "check.h"
#include "prefetch.h"
#include "runas.h"
#include "verify-internal.h"
#include "verify.h"

Verify *verify_free(Verify *v)
{
        if (!v)
                return NULL;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                Check *c = &v->checks[i];

                if (c->state && c->state_free)
                        c->state_free(c->state);
                check_result_free(c->result);
        }
        prefetch_free(v->prefetch); /* its sessions, before their client */
        if (v->shared_probe)        /* it lives on: nothing may be told to this run any more */
                probe_unsubscribe(v->shared_probe, v);
        probe_free(v->probe);
        db_settings_free(v->db_known);
        db_settings_free(v->db_seen);
        free(v->baseline_version);
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                strv_free(v->baseline[i]);
        http_client_free(v->http);
        strv_free(v->env.child_env);
        free(v->child_env_error);
        run_as_free(v->run_as);
        erase_and_freep(&v->password);
        free(v->password_error);
        erase_and_freep(&v->token);
        free(v->token_error);
        free(v->version);
        free(v->version_error);
        free(v->nautobot_version);
        for (size_t i = 0; i < v->n_packages; i++) {
                free(v->packages[i].package);
                free(v->packages[i].version);
        }
        free(v->packages);
        free(v->install_what);
        free(v->previous_what);
        free(v->last_verified);
        sd_bus_unref(v->bus);
        sd_event_unref(v->event);
        free(v);
        return NULL;
}

int verify_set_database(Verify *v, const DbSettings *d)
{
        v->db_known = db_settings_free(v->db_known);
        if (d && db_settings_copy(d, &v->db_known) < 0)
                return -ENOMEM;
        v->env.db = v->db_known;
        return 0;
}

const DbSettings *verify_database_seen(const Verify *v)
{
        return v->db_seen;
}

/* Keeps Django's database settings for the runs that have no probe of their own. */
static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Verify *v = userdata;

        (void)db_settings_from_probe(po->report, &v->db_seen);
}

void verify_set_http_cache(Verify *v, HttpCache *cache)
{
        v->env.http_cache = cache;
}

void verify_set_web_wait(Verify *v, uint64_t usec)
{
        v->env.web_wait_usec = usec;
}

int verify_prefetch(Verify *v)
{
        if (!v->env.http_cache || v->prefetch)
                return 0;
        return prefetch_start(&v->prefetch, &v->env, v->config->enabled);
}

void verify_set_probe(Verify *v, Probe *shared)
{
        v->shared_probe = shared;
}

int verify_set_last_verified(Verify *v, const char *what)
{
        return free_and_strdup(&v->last_verified, what);
}

int verify_set_previous(Verify *v, const char *what)
{
        return free_and_strdup(&v->previous_what, what);
}

void verify_set_only(Verify *v, const bool only[_CHECK_ID_MAX])
{
        memcpy(v->only, only, sizeof(v->only));
        v->limited = true;
}

int verify_new(Verify **ret, sd_event *e, sd_bus *bus, const Config *config)
{
        _cleanup_(verify_freep) Verify *v = NULL;
        int r;

        v = calloc(1, sizeof(*v));
        if (!v)
                return -ENOMEM;
        v->event = sd_event_ref(e);
        v->bus = sd_bus_ref(bus);
        v->config = config;
        r = http_client_new(&v->http, e);
        if (r < 0)
                return r;
        if ((r = verify_build_child_env(v)) < 0 || (r = verify_read_version(v)) < 0 ||
            (r = verify_snapshot_packages(v)) < 0)
                return r;
        r = verify_load_secret(config, SECRET_WEB_PASSWORD, "web password", &v->password,
                               &v->password_error);
        if (r < 0)
                return r;
        r = verify_load_secret(config, SECRET_API_TOKEN, "API token", &v->token, &v->token_error);
        if (r < 0)
                return r;

        v->env = (CheckEnv){
                .event = e,
                .http = v->http,
                .config = config,
                .child_env = v->env.child_env,
                .child_env_error = v->child_env_error,
                .child_user = v->run_as ? &v->run_as->user : NULL,
                .password = v->password,
                .password_error = v->password_error,
                .token = v->token,
                .token_error = v->token_error,
                .installed_version = v->version,
                .nautobot_installed_version = v->nautobot_version,
                .bus = bus,
                .install_usec = v->env.install_usec,
                .install_what = v->install_what,
        };
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                r = check_result_new(&v->checks[i].result, check_id_to_string(i));
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(v);
        return 0;
}

static void on_check_done(Check *c, void *userdata)
{
        Verify *v = userdata;
        const char *note;

        v->n_running--;
        if (verify_note_changes(v, c->result, c->id) < 0)
                (void)check_result_set(c->result, CHECK_ERROR, "out of memory");
        /* Who ran nautobot-server: the account root handed it to, or the one root became. */
        note = v->run_as ? v->run_as->note : v->config->dropped_note;
        if (note && check_type(c->id)->runs_server && !c->result->disabled &&
            check_result_add_finding(c->result, "%s", note) < 0)
                (void)check_result_set(c->result, CHECK_ERROR, "out of memory");
        if (v->cb->check_done)
                v->cb->check_done(v, c->result, v->userdata);
        if (v->n_running == 0) {
                v->end_usec = now_usec();
                v->cb->all_done(v, v->userdata);
        }
}

static bool runs(const Verify *v, CheckId id)
{
        return v->config->enabled[id] && (!v->limited || v->only[id]);
}

/* Whether the comma-separated 'list' names 'section'. */
static bool section_listed(const char *list, const char *section)
{
        size_t n = strlen(section);

        for (const char *p = list; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
                if (strncmp(p, section, n) == 0 && (p[n] == ',' || p[n] == '\0'))
                        return true;
        return false;
}

/*
 * Whether the probe booted ahead may have loaded the code that is installed
 * now: no release written and no distribution added or removed
 * (site-packages' own mtime) since it started. One that ended is handed on
 * all the same: probe_start() says so (probe_refused()).
 */
static bool warm_current(const Verify *v)
{
        uint64_t booted = probe_boot_realtime(v->warm);
        struct stat st;

        if (booted == 0)
                return true;
        if (v->config->site_packages && stat(v->config->site_packages, &st) >= 0 &&
            (uint64_t)st.st_mtim.tv_sec * USEC_PER_SEC + (uint64_t)st.st_mtim.tv_nsec / 1000 <
                    booted &&
            v->env.install_usec < booted)
                return true;
        probe_refuse(v->warm, "site-packages was written after it started");
        return false;
}

/*
 * The probe for 'labels' ("label,..." or "*": every app), with this run's
 * environment and account, answering what its running checks read (each
 * answer costs time: Redis, the database); 'discover': also which apps the
 * server loads.
 */
static int new_probe(Verify *v, const char *labels, bool discover, Probe **ret)
{
        const Config *c = v->config;
        Buf sections;
        int r;

        buf_init(&sections, 256);
        /* The probe takes them as a set: the order is the table's. */
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (runs(v, i) && check_type(i)->probe_sections)
                        buf_printf(&sections, "%s,", check_type(i)->probe_sections);
        if (discover && !section_listed(sections.data, "apps"))
                buf_printf(&sections, "apps,");
        /* Django's DATABASES, kept for the runs that have no probe of their own (on_probe). */
        buf_printf(&sections, "database");
        r = probe_new(ret, v->event,
                      &(ProbeOptions){
                              .server = c->server,
                              .path = c->probe,
                              .app_labels = labels,
                              .sections = strempty(sections.data),
                              .web_user = c->username,
                              .user = v->env.child_user,
                              .envp = v->env.child_env,
                              .cwd = c->root,
                              .timeout_usec = c->command_timeout_usec,
                              .output_max = c->output_max,
                      });
        buf_done(&sections);
        if (r >= 0 && v->warm && warm_current(v))
                probe_set_warm(*ret, v->warm);
        return r;
}

/* Whether a running check is worth a Django boot ('db_unknown': nothing but Django says
 * where the database is). */
static bool probe_wanted(const Verify *v, bool db_unknown)
{
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (runs(v, i) &&
                    (check_type(i)->needs_probe || (check_type(i)->needs_database && db_unknown)))
                        return true;
        return false;
}

/* One Django boot for the checks that need Django, when one of them runs ([checks] django=). */
static int start_probe(Verify *v)
{
        const Config *c = v->config;
        bool env_names_db = false;

        STRV_FOREACH (e, v->env.child_env)
                env_names_db |= !!startswith(*e, "NAUTOBOT_DB_");
        if (v->shared_probe) {
                v->env.probe = v->shared_probe;
                return 0;
        }
        if (!c->use_probe || v->child_env_error ||
            !probe_wanted(v, /* Where is the database? Only Django knows when nothing else says. */
                          !v->env.db && !env_names_db))
                return 0;
        v->env.probe = NULL;
        v->probe = probe_free(v->probe);
        return new_probe(v, c->app_label, false, &v->probe);
}

int verify_shared_probe(Verify *v, Probe **ret)
{
        *ret = NULL;
        if (!v->config->use_probe || v->child_env_error)
                return 0;
        return new_probe(v, "*", true, ret);
}

int verify_boot_ahead(Verify *v, uint64_t hold_usec, Probe **ret)
{
        _cleanup_(probe_freep) Probe *p = NULL;
        int r;

        *ret = NULL;
        if (!v->config->use_probe || v->child_env_error)
                return 0;
        r = new_probe(v, "*", true, &p);
        if (r >= 0)
                r = probe_boot(p, hold_usec);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

void verify_set_warm(Verify *v, Probe *warm)
{
        v->warm = warm;
}

const ProbeReport *verify_probe_report(const Verify *v)
{
        return v->env.probe ? probe_report(v->env.probe) : NULL;
}

void verify_set_started(Verify *v, uint64_t usec)
{
        v->started_usec = usec;
}

const char *verify_server_error(const Verify *v)
{
        return v->child_env_error;
}

int verify_start(Verify *v, const VerifyCallbacks *cb, void *userdata)
{
        int r;

        v->cb = cb;
        v->userdata = userdata;
        v->start_usec = v->started_usec ?: now_usec();
        v->env.previous_what = v->previous_what;
        v->env.last_verified = v->last_verified;
        r = start_probe(v);
        if (r < 0)
                return r;
        if (!v->shared_probe)
                v->env.probe = v->probe;
        /* Count them all first: a check may complete inside its start function. */
        v->n_running = _CHECK_ID_MAX;
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                Check *c = &v->checks[i];

                c->id = i;
                c->env = &v->env;
                c->done = on_check_done;
                c->userdata = v;
                c->start_usec = now_usec();
                if (!runs(v, i)) {
                        check_result_set(c->result, CHECK_SKIPPED, "%s",
                                         v->config->enabled[i] ? "not part of this run"
                                                               : "disabled by [checks] enable=");
                        c->result->disabled = true;
                        check_complete(c);
                        continue;
                }
                r = check_type(i)->start(c);
                if (r < 0 && !c->completed) {
                        check_result_set(c->result, CHECK_ERROR, "cannot start: %s", strerror(-r));
                        check_complete(c);
                }
        }
        /* After every check that needs Django has subscribed to it; it runs for them only. */
        if (v->env.probe && probe_subscribe(v->env.probe, on_probe, v) >= 0)
                probe_start(v->env.probe);
        v->warm = NULL; /* taken over, or not: the owner frees it now */
        return 0;
}

void verify_abort(Verify *v, const char *reason)
{
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                check_abort(&v->checks[i], reason);
}

const char *verify_version(const Verify *v)
{
        return v->version;
}

const char *verify_version_error(const Verify *v)
{
        return v->version_error;
}

size_t verify_n_results(const Verify *v)
{
        (void)v;
        return _CHECK_ID_MAX;
}

const CheckResult *verify_result(const Verify *v, size_t i)
{
        return i < _CHECK_ID_MAX ? v->checks[i].result : NULL;
}

size_t verify_n_running(const Verify *v)
{
        return v->n_running;
}

char *verify_running_names(const Verify *v)
{
        _cleanup_strv_free_ char **l = NULL;

        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (!v->checks[i].completed && strv_extend(&l, check_id_to_string(i)) < 0)
                        return NULL;
        return strv_join(l, ", ");
}

uint64_t verify_duration_usec(const Verify *v)
{
        return (v->end_usec ?: now_usec()) - v->start_usec;
}

CheckState verify_overall(const Verify *v)
{
        CheckState worst = CHECK_PASS;

        for (CheckId i = 0; i < _CHECK_ID_MAX; i++)
                if (!v->checks[i].result->disabled)
                        worst = check_state_worse(worst, v->checks[i].result->state);
        return worst;
}

Verdict verify_verdict(const Verify *v)
{
        return verdict_from_check_state(verify_overall(v));
}

json_object *verify_report_json(const Verify *v)
{
        json_object *root = json_object_new_object(), *checks = json_object_new_array();

        if (!root || !checks) {
                json_object_put(root);
                json_object_put(checks);
                return NULL;
        }
        json_object_object_add(root, "package", json_object_new_string(v->config->package));
        json_object_object_add(root, "version",
                               v->version ? json_object_new_string(v->version) : NULL);
        if (v->version_error)
                json_object_object_add(root, "version_error",
                                       json_object_new_string(v->version_error));
        json_object_object_add(root, "url", json_object_new_string(v->config->url));
        json_object_object_add(root, "verdict",
                               json_object_new_string(verdict_to_string(verify_verdict(v))));
        json_object_object_add(root, "duration_usec",
                               json_object_new_int64((int64_t)verify_duration_usec(v)));
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                const CheckResult *r = v->checks[i].result;
                json_object *c = json_object_new_object(), *f = json_object_new_array();

                if (!c || !f) {
                        json_object_put(c);
                        json_object_put(f);
                        json_object_put(root);
                        json_object_put(checks);
                        return NULL;
                }
                json_object_object_add(c, "check", json_object_new_string(r->check));
                json_object_object_add(c, "result",
                                       json_object_new_string(check_state_to_string(r->state)));
                json_object_object_add(c, "reason", json_object_new_string(strempty(r->reason)));
                json_object_object_add(c, "duration_usec",
                                       json_object_new_int64((int64_t)r->duration_usec));
                json_object_object_add(c, "evidence",
                                       r->evidence ? json_object_new_string(r->evidence) : NULL);
                STRV_FOREACH (x, r->findings)
                        json_object_array_add(f, json_object_new_string(*x));
                json_object_object_add(c, "findings", f);
                if (r->observed) {
                        json_object *o = json_object_new_array();

                        STRV_FOREACH (x, r->observed)
                                json_object_array_add(o, json_object_new_string(*x));
                        json_object_object_add(c, "observed", o);
                }
                json_object_array_add(checks, c);
        }
        json_object_object_add(root, "checks", checks);
        return root;
}
