/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Units restarted after the install: the upgrade guide's "systemctl restart
 * nautobot nautobot-worker". A process keeps the code it imported at start, so
 * a web server, worker or scheduler whose main process started before the
 * installed release was written still runs the release before it: new Jobs
 * are missing from the worker ("Job class not found"), changed ones run old
 * code. The web server shows its version in /api/status/ (the running check);
 * the worker and the scheduler show it nowhere, so systemd is asked: each
 * configured unit's ExecMainStartTimestamp, over the system bus, against the
 * time the newest watched dist-info was written. Asynchronous, on the shared
 * event loop; every call has a timeout.
 */
#include <systemd/sd-bus.h>

#include "check.h"

#define BUS_CALL_TIMEOUT_USEC (10 * USEC_PER_SEC)

typedef struct RestartsState RestartsState;

typedef struct UnitProbe {
        RestartsState *owner;
        char *name;
        char *load_state;
        char *active_state;
        uint64_t main_start_usec;   /* ExecMainStartTimestamp */
        uint64_t active_enter_usec; /* ActiveEnterTimestamp */
        char *error;
        sd_bus_slot *slots[2];
} UnitProbe;

struct RestartsState {
        Check *check;
        UnitProbe *units;
        size_t n_units;
        size_t outstanding;
};

static void restarts_state_free(void *p)
{
        RestartsState *s = p;

        for (size_t i = 0; i < s->n_units; i++) {
                UnitProbe *u = &s->units[i];

                for (size_t j = 0; j < ELEMENTSOF(u->slots); j++)
                        sd_bus_slot_unref(u->slots[j]);
                free(u->name);
                free(u->load_state);
                free(u->active_state);
                free(u->error);
        }
        free(s->units);
        free(s);
}

/* "nautobot-worker" for "nautobot-worker.service": what an admin types. */
static char *short_name(const char *unit)
{
        const char *dot = endswith(unit, ".service") ? strrchr(unit, '.') : NULL;

        return dot ? strndup(unit, (size_t)(dot - unit)) : strdup(unit);
}

static void judge(Check *c)
{
        RestartsState *s = c->state;
        const CheckEnv *env = c->env;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **stale = NULL, **ok = NULL, **absent = NULL, **errors = NULL,
                                 **pending = NULL;
        char installed_at[32] = "";
        Buf ev;
        int r = 0;

        if (env->install_usec)
                format_clock(env->install_usec, installed_at, sizeof(installed_at));
        buf_init(&ev, RESULT_EVIDENCE_MAX);
        buf_printf(&ev, "installed: %s at %s\n", strempty(env->install_what),
                   env->install_usec ? installed_at : "(unknown)");
        for (size_t i = 0; i < s->n_units && r >= 0; i++) {
                UnitProbe *u = &s->units[i];
                uint64_t started = u->main_start_usec ?: u->active_enter_usec;
                _cleanup_free_ char *line = NULL, *cmd = short_name(u->name);
                char at[32] = "";

                if (started)
                        format_clock(started, at, sizeof(at));
                buf_printf(&ev, "%s: %s, %s, main process started %s\n", u->name,
                           strempty(u->load_state), strempty(u->active_state),
                           started ? at : "never");
                if (u->error)
                        r = strv_extend(&errors, u->error);
                else if (streq_ptr(u->load_state, "not-found"))
                        r = strv_extend(&absent, u->name);
                else if (!streq_ptr(u->active_state, "active")) {
                        line = strjoin_printf("%s is %s: systemctl start %s", u->name,
                                              strempty(u->active_state), strempty(cmd));
                        r = line ? strv_push(&stale, TAKE_PTR(line)) : -ENOMEM;
                        if (r >= 0)
                                r = strv_extend(&pending, u->name);
                } else if (env->install_usec && started < env->install_usec) {
                        line = strjoin_printf(
                                "%s started %s, before %s was installed at %s: it still runs %s — systemctl restart %s",
                                u->name, at, strempty(env->install_what), installed_at,
                                env->previous_what ?: "the code from before that install",
                                strempty(cmd));
                        r = line ? strv_push(&stale, TAKE_PTR(line)) : -ENOMEM;
                        if (r >= 0)
                                r = strv_extend(&pending, u->name);
                } else
                        r = strv_extend(&ok, u->name);
        }
        check_result_set_evidence(res, strempty(ev.data));
        buf_done(&ev);
        if (r < 0) {
                check_result_set(res, CHECK_ERROR, "out of memory");
                return;
        }

        STRV_FOREACH (a, absent)
                check_result_add_finding(res, "%s: no such unit here (not used)", *a);
        if (stale) {
                _cleanup_free_ char *why = strv_join(stale, "; "), *p = strv_join(pending, ", ");

                if (!why) { /* the list is the reason: a fail without one says nothing */
                        check_result_set(res, CHECK_ERROR, "out of memory");
                        return;
                }
                check_result_set(res, CHECK_FAIL, "%s", why);
                (void)check_result_set_pending(res, "restart of %s", strempty(p));
        } else if (errors) {
                _cleanup_free_ char *why = strv_join(errors, "; ");

                check_result_set(res, CHECK_ERROR, "cannot ask systemd: %s", strempty(why));
        } else if (!ok) {
                _cleanup_free_ char *names = strv_join(absent, ", ");

                check_result_set(res, CHECK_SKIPPED, "not applicable here: none of %s exists",
                                 strempty(names));
                res->disabled = true;
        } else {
                _cleanup_free_ char *names = strv_join(ok, ", ");

                if (env->install_usec)
                        check_result_set(res, CHECK_PASS, "%s started after %s was installed at %s",
                                         strempty(names), strempty(env->install_what),
                                         installed_at);
                else
                        check_result_set(
                                res, CHECK_PASS,
                                "%s are running; when the installed release was written is unknown, so their start was not compared",
                                strempty(names));
        }
}

static int read_properties(sd_bus_message *m, UnitProbe *u)
{
        int r;

        r = sd_bus_message_enter_container(m, 'a', "{sv}");
        if (r < 0)
                return r;
        while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
                const char *key, *str;
                uint64_t t;

                r = sd_bus_message_read(m, "s", &key);
                if (r < 0)
                        return r;
                if (streq(key, "LoadState") || streq(key, "ActiveState")) {
                        r = sd_bus_message_read(m, "v", "s", &str);
                        if (r >= 0)
                                r = free_and_strdup(streq(key, "LoadState") ? &u->load_state
                                                                            : &u->active_state,
                                                    str);
                } else if (streq(key, "ExecMainStartTimestamp") ||
                           streq(key, "ActiveEnterTimestamp")) {
                        r = sd_bus_message_read(m, "v", "t", &t);
                        if (r >= 0)
                                *(streq(key, "ActiveEnterTimestamp") ? &u->active_enter_usec
                                                                     : &u->main_start_usec) = t;
                } else
                        r = sd_bus_message_skip(m, "v");
                if (r < 0)
                        return r;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int on_properties(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        UnitProbe *u = userdata;
        RestartsState *s = u->owner;
        int r;

        (void)ret_error;
        if (sd_bus_message_is_method_error(m, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(m);

                if (!u->error)
                        u->error = strjoin_printf("%s: %s", u->name,
                                                  e && e->message ? e->message : "error");
        } else if ((r = read_properties(m, u)) < 0 && !u->error)
                u->error =
                        strjoin_printf("%s: cannot read its properties: %s", u->name, strerror(-r));
        if (--s->outstanding == 0) {
                judge(s->check);
                check_complete(s->check); /* frees s and u: sd-bus holds the slot */
        }
        return 0;
}

static int get_all(RestartsState *s, UnitProbe *u, size_t slot, const char *path,
                   const char *interface)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        sd_bus *bus = s->check->env->bus;
        int r;

        r = sd_bus_message_new_method_call(bus, &m, "org.freedesktop.systemd1", path,
                                           "org.freedesktop.DBus.Properties", "GetAll");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", interface);
        if (r >= 0)
                r = sd_bus_call_async(bus, &u->slots[slot], m, on_properties, u,
                                      BUS_CALL_TIMEOUT_USEC);
        if (r >= 0)
                s->outstanding++;
        return r;
}

int check_restarts_start(Check *c)
{
        const Config *cfg = c->env->config;
        RestartsState *s;
        int r;

        if (!c->env->bus) {
                check_not_applicable(
                        c, "no systemd on the system bus, so unit restarts cannot be asked");
                return 0;
        }
        if (!cfg->units) {
                check_not_applicable(c, "no units configured ([nautobot] units=)");
                return 0;
        }
        s = calloc(1, sizeof(*s));
        if (!s)
                return -ENOMEM;
        c->state = s;
        c->state_free = restarts_state_free;
        s->check = c;
        s->units = calloc(strv_length(cfg->units), sizeof(UnitProbe));
        if (!s->units)
                return -ENOMEM;
        STRV_FOREACH (name, cfg->units) {
                UnitProbe *u = &s->units[s->n_units++];
                _cleanup_free_ char *path = NULL;

                u->owner = s;
                u->name = strdup(*name);
                if (!u->name)
                        return -ENOMEM;
                r = sd_bus_path_encode("/org/freedesktop/systemd1/unit", *name, &path);
                if (r < 0)
                        return r;
                /* Asking for a unit's properties loads it: LoadState=not-found if absent. */
                r = get_all(s, u, 0, path, "org.freedesktop.systemd1.Unit");
                if (r >= 0 && endswith(*name, ".service"))
                        r = get_all(s, u, 1, path, "org.freedesktop.systemd1.Service");
                if (r < 0) {
                        check_result_set(c->result, CHECK_ERROR, "cannot ask systemd about %s: %s",
                                         *name, strerror(-r));
                        check_complete(c);
                        return 0;
                }
        }
        return 0;
}
