/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The restarts check's judging with allocations failing (oom-sweep.h). It
 * includes check-restarts.c to reach its static judging and private state;
 * the units' properties are set as systemd's answers would have set them, and
 * the judging runs as the last answer runs it.
 */
#include "check-restarts.c"
#include "oom-sweep.h"
#include "test.h"

#define INSTALLED ((uint64_t)1780000000 * USEC_PER_SEC)

typedef struct Unit {
        const char *name, *load_state, *active_state;
        int64_t started; /* seconds after the install; 0: never */
} Unit;

static void run(Check *c, const OomPlan *p, void *userdata)
{
        const Unit *units = userdata;
        RestartsState *s = calloc(1, sizeof(*s));

        ASSERT(s);
        c->state = s;
        c->state_free = restarts_state_free;
        s->check = c;
        while (units[s->n_units].name)
                s->n_units++;
        s->units = calloc(s->n_units, sizeof(UnitProbe));
        ASSERT(s->units);
        for (size_t i = 0; i < s->n_units; i++) {
                UnitProbe *u = &s->units[i];

                u->owner = s;
                u->name = strdup(units[i].name);
                u->load_state = strdup(units[i].load_state);
                u->active_state = strdup(units[i].active_state);
                ASSERT(u->name && u->load_state && u->active_state);
                if (units[i].started)
                        u->main_start_usec = INSTALLED + units[i].started * (int64_t)USEC_PER_SEC;
        }

        oom_arm(p);
        /* What on_properties() does when the last answer is in. */
        judge(c);
        check_complete(c);
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        CheckEnv env = {};

        ASSERT(config_new(&cfg) == 0);
        env = (CheckEnv){
                .config = cfg,
                .install_usec = INSTALLED,
                .install_what = "nautobot-contract-models 2026.5.17",
                .previous_what = "2026.5.12",
        };

        oom_sweep("restarts, the worker not restarted", &env, CHECK_ID_RESTARTS, run,
                  (Unit[]){{"nautobot.service", "loaded", "active", 60},
                           {"nautobot-worker.service", "loaded", "active", -3600},
                           {"nautobot-scheduler.service", "not-found", "inactive", 0},
                           {}},
                  "before nautobot-contract-models 2026.5.17 was installed");
        oom_sweep("restarts, the worker not running", &env, CHECK_ID_RESTARTS, run,
                  (Unit[]){{"nautobot.service", "loaded", "active", 60},
                           {"nautobot-worker.service", "loaded", "failed", -3600},
                           {}},
                  "nautobot-worker.service is failed");
        printf("ok - restarts\n");
        return 0;
}
