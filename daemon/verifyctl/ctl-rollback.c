/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl rollback PACKAGE VERSION: the app's upgrade guide's rollback, before it
 * is done. The target migration of VERSION (its leaf, as the state recorded it when VERSION
 * passed here, or read from that release's files given with --from), Django's backward plan
 * from the database's state to it and what each step destroys on this database, counted
 * (through the probe's "rollback" section: one nautobot-server run, as the daemon runs it,
 * as the installation's owner when we are root), then the guide's commands in their order.
 * Read-only: the probe counts in a read-only transaction, nothing else is touched.
 */
#include <glob.h>
#include <libgen.h>
#include <pwd.h>
#include <signal.h>

#include "config.h"
#include "ctl.h"
#include "envfile.h"
#include "metadata.h"
#include "pkgwatch.h"
#include "probe.h"
#include "profile.h"
#include "privilege.h"
#include "runas.h"
#include "state.h"
#include "verify.h"
#include "version.h"

/* The units the guide and Nautobot's docs restart after an install, in that order. */
static const char *const restart_units[] = {"nautobot.service", "nautobot-worker.service",
                                            "nautobot-scheduler.service"};

typedef struct Rollback {
        const CtlOptions *o;
        const char *package;
        const char *version; /* rolled back to */
        Config *config;
        const char *label;
        char *installed; /* NULL: not installed */
        PackageState *state;
        char *target; /* NULL: unknown so far */
        char *target_source;
        char *from; /* the release's files: --from, or a wheel in pip's cache */
        RunAs *run_as;
        char **env;
        char *error; /* the probe gave no plan: why */
        sd_event *event;
        Probe *probe;
        const ProbeReport *report; /* the probe's */
        bool done;
} Rollback;

static void rollback_done(Rollback *rb)
{
        config_free(rb->config);
        free(rb->installed);
        package_state_free(rb->state);
        free(rb->target);
        free(rb->target_source);
        free(rb->from);
        run_as_free(rb->run_as);
        strv_free(rb->env);
        free(rb->error);
        probe_free(rb->probe);
        sd_event_unref(rb->event);
}

static int oom(void)
{
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
}

static int load_config(Rollback *rb)
{
        const CtlOptions *o = rb->o;
        _cleanup_free_ char *error = NULL;
        const Profile *profile;
        int r;

        r = config_load(o->config_path, o->instance, o->config_given ? 0 : CONFIG_LOAD_MISSING_OK,
                        &rb->config, &error);
        if (r == -ENOMEM)
                return oom();
        if (r < 0) {
                fprintf(stderr, "Invalid configuration: %s\n", error ?: strerror(-r));
                return EX_CONFIG;
        }
        /* The app's label: the configuration's for its app, else its profile's. */
        profile = config_profile(rb->config, rb->package);
        if (rb->config->package && python_name_equal(rb->config->package, rb->package))
                rb->label = rb->config->app_label;
        else if (config_app_section(rb->config, rb->package) &&
                 config_app_section(rb->config, rb->package)->app_label)
                rb->label = config_app_section(rb->config, rb->package)->app_label;
        else if (profile && profile->label)
                rb->label = profile->label;
        return 0;
}

/*
 * The account nautobot-server runs as, and its environment. Root becomes that
 * account first, as the daemon does (privilege.h): the environment file, the
 * state and the probe's answer are the account's, never read by root.
 */
static int build_env(Rollback *rb)
{
        const Config *c = rb->config;
        _cleanup_free_ char *error = NULL;
        int r;

        r = run_as_resolve(c->server, c->user, geteuid(), &rb->run_as, &error);
        if (r < 0) {
                fprintf(stderr, "Cannot run %s: %s\n", c->server, error ?: strerror(-r));
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        }
        if (rb->run_as && rb->run_as->user.uid != 0) {
                r = privilege_drop(rb->run_as->user.uid, rb->run_as->user.gid,
                                   rb->run_as->user.groups, rb->run_as->user.n_groups);
                if (r < 0) {
                        fprintf(stderr, "Failed to become user %s: %s\n", rb->run_as->name,
                                strerror(-r));
                        return EX_OSERR;
                }
                rb->run_as = run_as_free(rb->run_as); /* children run as we do now */
        }
        r = verify_child_env(c, &rb->env, &error);
        if (r < 0)
                return oom();
        if (!rb->env) {
                fprintf(stderr, "Cannot run %s: %s\n", c->server, strempty(error));
                return EX_CONFIG;
        }
        return 0;
}

/* The target: the leaf VERSION had when it passed here (the state), else --from's files. */
/* pip's cache of whoever runs this (nautobot-server's account, once root dropped). */
static char *pip_cache_dir(void)
{
        const char *e = getenv("PIP_CACHE_DIR"), *x = getenv("XDG_CACHE_HOME");
        struct passwd *pw;

        if (!isempty(e))
                return strdup(e);
        if (!isempty(x))
                return strjoin_printf("%s/pip", x);
        pw = getpwuid(geteuid());
        return pw && !isempty(pw->pw_dir) ? strjoin_printf("%s/.cache/pip", pw->pw_dir) : NULL;
}

/*
 * A wheel of package==version that pip built or kept: <cache>/wheels/ holds
 * them below four levels of hash folders (pip >= 20). -ENOMEM, or 0 with
 * *ret NULL when there is none.
 */
static int pip_cache_wheel(const char *package, const char *version, char **ret)
{
        _cleanup_free_ char *cache = pip_cache_dir(), *name = NULL, *pattern = NULL;
        glob_t g = {};
        int r;

        *ret = NULL;
        name = python_name_normalize(package);
        if (!name)
                return -ENOMEM;
        if (!cache)
                return 0; /* no home to look in */
        /* Wheel file names spell the name with underscores (PEP 427). */
        for (char *c = name; *c; c++)
                if (*c == '-' || *c == '.')
                        *c = '_';
        pattern = strjoin_printf("%s/wheels/*/*/*/*/%s-%s-*.whl", cache, name, version);
        if (!pattern)
                return -ENOMEM;
        r = glob(pattern, GLOB_NOSORT, NULL, &g);
        if (r == 0 && g.gl_pathc > 0)
                *ret = strdup(g.gl_pathv[0]);
        globfree(&g);
        if (r == GLOB_NOSPACE || (r == 0 && !*ret))
                return -ENOMEM;
        return 0;
}

static int find_target(Rollback *rb)
{
        _cleanup_free_ char *error = NULL;
        json_object *leaves;
        int r;

        r = state_load(rb->config->instance_state_directory, rb->package, &rb->state, &error);
        if (r < 0 && r != -ENOENT)
                fprintf(stderr, "Warning: cannot read the state in %s: %s\n",
                        rb->config->instance_state_directory, error ?: state_error_to_string(r));
        leaves = state_release_leaves(rb->state, rb->version);
        if (leaves && json_object_array_length(leaves) == 1) {
                json_object *v = json_object_object_get(rb->state->releases, rb->version);
                json_object *when = json_object_object_get(v, "verified_usec");
                char t[64];

                ctl_format_time((uint64_t)json_object_get_int64(when), t, sizeof(t));
                rb->target = strdup(json_object_get_string(json_object_array_get_idx(leaves, 0)));
                rb->target_source = strjoin_printf(
                        "the leaf migration of %s when it passed here on %s (the state)",
                        rb->version, t);
                return rb->target && rb->target_source ? 0 : oom();
        }
        if (!rb->from && rb->o->from && !(rb->from = strdup(rb->o->from)))
                return oom();
        if (!rb->from && (r = pip_cache_wheel(rb->package, rb->version, &rb->from)) < 0)
                return oom();
        if (rb->from) {
                rb->target = strdup("-"); /* the probe reads it from the files */
                return rb->target ? 0 : oom();
        }
        return 0;
}

static void on_probe(const ProbeOutcome *po, void *userdata)
{
        Rollback *rb = userdata;

        rb->done = true;
        if (po->report && po->report->rollback.present)
                rb->report = po->report; /* the probe's: it lives until we are done */
        else
                rb->error = strdup(po->report         ? strempty(po->report->rollback.error)
                                   : po->report_error ? po->report_error
                                   : po->start_error  ? strerror(-po->start_error)
                                                      : "the probe gave no answer");
}

static int run_probe(Rollback *rb)
{
        _cleanup_free_ char *what = strjoin_printf("%s:%s", rb->label, rb->target);
        sigset_t mask;
        int r;

        if (!what || env_set(&rb->env, "NVD_PROBE_ROLLBACK", what) < 0 ||
            (rb->from && env_set(&rb->env, "NVD_PROBE_ROLLBACK_FROM", rb->from) < 0))
                return oom();
        /* sd-event's child sources want SIGCHLD blocked. */
        sigemptyset(&mask);
        sigaddset(&mask, SIGCHLD);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || sd_event_new(&rb->event) < 0)
                return oom();
        r = probe_new(&rb->probe, rb->event,
                      &(ProbeOptions){
                              .server = rb->config->server,
                              .path = rb->config->probe,
                              .app_labels = rb->label,
                              .sections = "rollback",
                              .user = rb->run_as ? &rb->run_as->user : NULL,
                              .envp = rb->env,
                              .cwd = rb->config->root,
                              .timeout_usec = rb->config->command_timeout_usec,
                              .output_max = rb->config->output_max,
                      });
        if (r >= 0)
                r = probe_subscribe(rb->probe, on_probe, rb);
        if (r < 0)
                return oom();
        probe_start(rb->probe);
        while (!rb->done) {
                r = sd_event_run(rb->event, UINT64_MAX);
                if (r < 0) {
                        fprintf(stderr, "Event loop failed: %s\n", strerror(-r));
                        return EX_OSERR;
                }
        }
        return 0;
}

/* The profile's [rollback] sections this plan goes below: "below: drops". */
static char **profile_warnings(const Rollback *rb, const ProbeRollback *plan)
{
        const Profile *p = config_profile(rb->config, rb->package);
        char **l = NULL;

        for (size_t i = 0; p && i < p->n_rollbacks; i++)
                for (size_t j = 0; j < plan->n_steps; j++) {
                        const char *name = startswith(plan->steps[j].migration, rb->label);

                        if (name && *name == '.' && streq(name + 1, p->rollbacks[i].below)) {
                                char *w = strjoin_printf("going below %s drops %s",
                                                         p->rollbacks[i].below,
                                                         p->rollbacks[i].drops);

                                if (!w || strv_push(&l, w) < 0)
                                        return strv_free(l), NULL;
                        }
                }
        return l;
}

static char *pip_path(const Rollback *rb)
{
        _cleanup_free_ char *bindir = strdup(rb->config->server);

        return bindir ? strjoin_printf("%s/pip", dirname(bindir)) : NULL;
}

/*
 * The guide's order: migrate back while the newer code is installed, then install the older
 * one. The guide stops there; its upgrade path's "migrate" (which here applies nothing but
 * refreshes Nautobot's Job records: Jobs of the newer release stay "installed" until it runs)
 * and "collectstatic" (the older release's static files), then the restarts, are what makes
 * the server whole again.
 */
static char **commands(const Rollback *rb, const char *target)
{
        _cleanup_free_ char *pip = pip_path(rb);
        const char *server = rb->config->server;
        char **l = NULL;
        Buf restart;

        buf_init(&restart, 256);
        buf_printf(&restart, "systemctl restart");
        for (size_t i = 0; i < ELEMENTSOF(restart_units); i++)
                buf_printf(&restart, " %s", restart_units[i]);
        if (!pip ||
            strv_push(&l, strjoin_printf("%s migrate %s %s", server, rb->label, target)) < 0 ||
            strv_push(&l, strjoin_printf("%s install %s==%s", pip, rb->package, rb->version)) < 0 ||
            strv_push(&l, strjoin_printf("%s migrate", server)) < 0 ||
            strv_push(&l, strjoin_printf("%s collectstatic --noinput", server)) < 0 ||
            strv_push(&l, strdup(strempty(restart.data))) < 0 || strv_length(l) != 5) {
                buf_done(&restart);
                return strv_free(l), NULL;
        }
        buf_done(&restart);
        return l;
}

static json_object *drop_json(const ProbeDrop *d)
{
        json_object *o = json_object_new_object();

        json_object_object_add(o, "kind", json_object_new_string(d->column ? "column" : "table"));
        json_object_object_add(o, "table", ctl_json_string(d->table));
        if (d->column)
                json_object_object_add(o, "column", ctl_json_string(d->column));
        json_object_object_add(o, "rows", d->rows >= 0 ? json_object_new_int64(d->rows) : NULL);
        return o;
}

static int print_json(const Rollback *rb, const ProbeRollback *plan, char **warnings, char **cmds)
{
        json_object *doc = ctl_json_document("rollback"), *steps = json_object_new_array(),
                    *all_irr = json_object_new_array(), *a;
        int64_t tables = 0, columns = 0, rows = 0, values = 0;

        if (!doc || !steps || !all_irr)
                return oom();
        json_object_object_add(doc, "package", ctl_json_string(rb->package));
        json_object_object_add(doc, "app_label", ctl_json_string(rb->label));
        json_object_object_add(doc, "instance", ctl_json_string(rb->config->instance));
        json_object_object_add(doc, "installed_version", ctl_json_string(rb->installed));
        json_object_object_add(doc, "version", ctl_json_string(rb->version));
        json_object_object_add(doc, "target", ctl_json_string(plan ? plan->target : NULL));
        json_object_object_add(
                doc, "target_source",
                ctl_json_string(plan && plan->target_from ? plan->target_from : rb->target_source));
        json_object_object_add(doc, "error", ctl_json_string(rb->error));
        for (size_t i = 0; plan && i < plan->n_steps; i++) {
                const ProbeRollbackStep *st = &plan->steps[i];
                json_object *s = json_object_new_object(), *drops = json_object_new_array(),
                            *irr = json_object_new_array();

                json_object_object_add(s, "migration", ctl_json_string(st->migration));
                for (size_t j = 0; j < st->n_drops; j++) {
                        const ProbeDrop *d = &st->drops[j];

                        json_object_array_add(drops, drop_json(d));
                        if (d->column) {
                                columns++;
                                values += MAX(d->rows, 0);
                        } else {
                                tables++;
                                rows += MAX(d->rows, 0);
                        }
                }
                STRV_FOREACH (x, st->irreversible) {
                        _cleanup_free_ char *both = strjoin_printf("%s: %s", st->migration, *x);

                        json_object_array_add(irr, ctl_json_string(*x));
                        json_object_array_add(all_irr, ctl_json_string(both));
                }
                json_object_object_add(s, "drops", drops);
                json_object_object_add(s, "irreversible", irr);
                json_object_array_add(steps, s);
        }
        json_object_object_add(doc, "plan", steps);
        json_object_object_add(doc, "irreversible", all_irr);
        a = json_object_new_object();
        json_object_object_add(a, "tables", json_object_new_int64(tables));
        json_object_object_add(a, "rows", json_object_new_int64(rows));
        json_object_object_add(a, "columns", json_object_new_int64(columns));
        json_object_object_add(a, "values", json_object_new_int64(values));
        json_object_object_add(doc, "totals", a);
        a = json_object_new_array();
        STRV_FOREACH (w, warnings)
                json_object_array_add(a, ctl_json_string(*w));
        json_object_object_add(doc, "profile", a);
        a = json_object_new_array();
        STRV_FOREACH (c, cmds)
                json_object_array_add(a, ctl_json_string(*c));
        json_object_object_add(doc, "commands", a);
        return ctl_json_print(doc) < 0 ? EX_OSERR : 0;
}

static void print_text(const Rollback *rb, const ProbeRollback *plan, char **warnings, char **cmds)
{
        const CtlOptions *o = rb->o;
        _cleanup_free_ char *pkg = ctl_escape(rb->package), *target = ctl_escape(plan->target),
                            *label = ctl_escape(rb->label), *from = NULL;
        size_t n_irr = 0, n = 0;

        printf("%s%s%s: rollback %s → %s (read-only: nothing was changed)\n",
               ctl_color_on(o, COLOR_BOLD), pkg, ctl_color_off(o, COLOR_BOLD),
               rb->installed ?: "(not installed)", rb->version);
        from = ctl_escape(plan->target_from ?: rb->target_source);
        printf("Target: %s %s\n        (%s%s)\n", label, target,
               plan->target_from ? "the leaf migration in " : "", from);
        printf("Migrating back unapplies %zu migration(s), in this order:\n", plan->n_steps);
        for (size_t i = 0; i < plan->n_steps; i++) {
                const ProbeRollbackStep *st = &plan->steps[i];
                _cleanup_free_ char *m = ctl_escape(st->migration);

                printf("  %s\n", m);
                for (size_t j = 0; j < st->n_drops; j++) {
                        const ProbeDrop *d = &st->drops[j];
                        _cleanup_free_ char *t = ctl_escape(d->table),
                                            *c = d->column ? ctl_escape(d->column) : NULL;

                        n++;
                        if (d->rows < 0)
                                printf("    drops %s %s%s%s: not in this database\n",
                                       c ? "column" : "table", t, c ? "." : "", strempty(c));
                        else if (c)
                                printf("    drops column %s.%s: %" PRIi64 " row(s) with a value\n",
                                       t, c, d->rows);
                        else
                                printf("    drops table %s: %" PRIi64 " row(s)\n", t, d->rows);
                }
                STRV_FOREACH (x, st->irreversible) {
                        _cleanup_free_ char *e = ctl_escape(*x);

                        n_irr++;
                        printf("    %sirreversible: %s has no reverse: the migrate back stops here%s\n",
                               ctl_color_on(o, COLOR_RED), e, ctl_color_off(o, COLOR_RED));
                }
        }
        if (plan->n_steps > 0 && n == 0)
                printf("  (no table or column is dropped)\n");
        STRV_FOREACH (w, warnings) {
                _cleanup_free_ char *e = ctl_escape(*w);

                printf("%sThe app's profile: %s%s\n", ctl_color_on(o, COLOR_YELLOW), e,
                       ctl_color_off(o, COLOR_YELLOW));
        }
        if (n_irr > 0)
                printf("%s%zu operation(s) cannot be reversed: \"migrate %s %s\" would fail; see the app's release notes before rolling back.%s\n",
                       ctl_color_on(o, COLOR_RED), n_irr, label, target,
                       ctl_color_off(o, COLOR_RED));
        if (plan->n_steps == 0)
                printf("The database is at %s already: nothing to migrate back.\n", target);
        printf("Commands, in this order (the upgrade guide's \"Rolling back\"):\n");
        for (size_t i = 0; cmds && cmds[i]; i++) {
                _cleanup_free_ char *e = ctl_escape(cmds[i]);

                printf("  %zu. %s\n", i + 1, e);
        }
}

/*
 * VERSION is installed already and the database holds migrations it does not ship (pip came
 * first): Django's plan with this code cannot reach them. The recovery, with the newest
 * release the state knows above VERSION.
 */
static void print_wrong_order(const Rollback *rb, const char *target)
{
        _cleanup_free_ char *pip = pip_path(rb);
        const char *newer = NULL;
        int c;

        if (!rb->state || !rb->state->releases)
                return;
        json_object_object_foreach(rb->state->releases, v, release)
        {
                (void)release;
                if (version_compare(v, rb->version, &c) >= 0 && c > 0 &&
                    (!newer || (version_compare(v, newer, &c) >= 0 && c > 0)))
                        newer = v;
        }
        printf("%s is installed already. Had it been installed before \"migrate\" (pip first), the database check FAILs on migrations it does not ship; then recover with:\n"
               "  1. %s install %s==%s\n  2. %s migrate %s %s\n  3. %s install %s==%s\n"
               "  4. %s migrate; %s collectstatic --noinput\n"
               "  5. systemctl restart nautobot.service nautobot-worker.service nautobot-scheduler.service\n",
               rb->version, strempty(pip), rb->package, newer ?: "<the release installed before>",
               rb->config->server, rb->label, target, strempty(pip), rb->package, rb->version,
               rb->config->server, rb->config->server);
}

int ctl_rollback(const CtlOptions *o, const char *package, const char *version)
{
        _cleanup_(rollback_done) Rollback rb = {.o = o, .package = package, .version = version};
        _cleanup_strv_free_ char **warnings = NULL, **cmds = NULL;
        _cleanup_free_ char *problem = NULL;
        const ProbeRollback *plan;
        bool editable;
        int r;

        r = load_config(&rb);
        if (r != 0)
                return r;
        if (!rb.label) {
                fprintf(stderr,
                        "%s is not an app this configuration verifies (no [package], [app %s] or profile names its Django app label)\n",
                        package, package);
                return EX_USAGE;
        }
        r = pkg_probe(rb.config->site_packages ?: "/nonexistent", package, &rb.installed, &editable,
                      &problem);
        if (r == -ENOMEM)
                return oom();
        r = build_env(&rb);
        if (r == 0)
                r = find_target(&rb);
        if (r != 0)
                return r;
        if (!rb.target) {
                /* Not recorded, no files given: say how to find it. */
                _cleanup_free_ char *pip = pip_path(&rb);

                if (o->json) {
                        json_object *doc = ctl_json_document("rollback");

                        json_object_object_add(doc, "package", ctl_json_string(package));
                        json_object_object_add(doc, "app_label", ctl_json_string(rb.label));
                        json_object_object_add(doc, "installed_version",
                                               ctl_json_string(rb.installed));
                        json_object_object_add(doc, "version", ctl_json_string(version));
                        json_object_object_add(doc, "target", NULL);
                        json_object_object_add(
                                doc, "error",
                                ctl_json_string(
                                        "the target migration is unknown: no passing verification of this release is recorded here"));
                        (void)ctl_json_print(doc);
                } else
                        printf("%s %s: the target migration is unknown: no verification of %s passed on this host (instance %s).\n"
                               "Find it from the release's files: %s download --no-deps -d DIR %s==%s, then\n"
                               "  nautobot-verifyctl rollback %s %s --from=DIR/<the wheel>\n"
                               "(the leaf of %s/migrations/ in that release is the target).\n",
                               package, version, version, rb.config->instance, strempty(pip),
                               package, version, package, version, rb.label);
                return CTL_EXIT_INCOMPLETE;
        }
        r = run_probe(&rb);
        if (r != 0)
                return r;
        plan = rb.report ? &rb.report->rollback : NULL;
        if (plan) {
                cmds = commands(&rb, plan->target);
                warnings = profile_warnings(&rb, plan);
                if (!cmds)
                        return oom();
        }
        if (o->json)
                r = print_json(&rb, plan, warnings, cmds);
        else if (plan) {
                print_text(&rb, plan, warnings, cmds);
                if (rb.installed && streq(rb.installed, version) && plan->n_steps == 0)
                        print_wrong_order(&rb, plan->target);
        } else {
                _cleanup_free_ char *e = ctl_escape(rb.error);

                fprintf(stderr, "Django's backward plan to %s %s could not be made: %s\n", rb.label,
                        rb.target, e);
        }
        if (r != 0)
                return r;
        if (!plan)
                return CTL_EXIT_INCOMPLETE;
        for (size_t i = 0; i < plan->n_steps; i++)
                if (plan->steps[i].irreversible)
                        return CTL_EXIT_FAIL;
        return 0;
}
