/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The static check with allocations failing (oom-sweep.h): a release's static
 * files, one of them not collected into STATIC_ROOT. The check reads only
 * files, so it runs whole, started as verify_start() starts it.
 */
#include <sys/stat.h>

#include "oom-sweep.h"
#include "test.h"

static void run(Check *c, const OomPlan *p, void *userdata)
{
        (void)userdata;
        oom_arm(p);
        oom_start(c, check_static_start);
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        char dir[] = "/tmp/test-oom-static.XXXXXX";
        CheckEnv env = {};

        ASSERT(mkdtemp(dir));
        sh("cd '%s' && mkdir -p sp/nautobot_contract_models/static/contracts/js"
           " sp/nautobot/project-static/css static/contracts/js static/css"
           " && echo 'x' > sp/nautobot_contract_models/static/contracts/js/renewals.js"
           " && echo 'yy' > sp/nautobot_contract_models/static/contracts/js/costs.js"
           " && echo 'z' > sp/nautobot/project-static/css/base.css"
           " && cp sp/nautobot_contract_models/static/contracts/js/renewals.js static/contracts/js/"
           " && cp sp/nautobot/project-static/css/base.css static/css/",
           dir);
        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "nautobot_contract_models") == 0);
        ASSERT(free_and_strdup(&cfg->package, "nautobot-contract-models") == 0);
        cfg->site_packages = strjoin_printf("%s/sp", dir);
        cfg->static_root = strjoin_printf("%s/static", dir);
        ASSERT(cfg->site_packages && cfg->static_root);
        env = (CheckEnv){.config = cfg};

        /* costs.js is new in the release: "collectstatic" forgotten. */
        oom_sweep("static, a file not collected", &env, CHECK_ID_STATIC, run, NULL,
                  "are missing from STATIC_ROOT");
        sh("rm -rf '%s'", dir);
        printf("ok - static\n");
        return 0;
}
