/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The versions check with allocations failing (oom-sweep.h): the watched
 * packages' dist-infos against [watch] expect=, one requirement unmet. The
 * check reads only files, so it runs whole, started as verify_start() starts it.
 */
#include "oom-sweep.h"
#include "test.h"

static void run(Check *c, const OomPlan *p, void *userdata)
{
        (void)userdata;
        oom_arm(p);
        oom_start(c, check_versions_start);
}

static void expect(Config *cfg, const char *a, const char *b)
{
        cfg->expectations = strv_free(cfg->expectations);
        ASSERT(strv_extend(&cfg->expectations, a) == 0);
        ASSERT(!b || strv_extend(&cfg->expectations, b) == 0);
}

int main(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        char dir[] = "/tmp/test-oom-versions.XXXXXX";
        CheckEnv env = {};

        ASSERT(mkdtemp(dir));
        sh("mkdir '%s/nautobot-3.1.6.dist-info' && printf 'Metadata-Version: 2.1\\nName: nautobot\\nVersion: 3.1.6\\n\\n' > '%s/nautobot-3.1.6.dist-info/METADATA' && touch '%s/nautobot-3.1.6.dist-info/RECORD'",
           dir, dir, dir);
        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->site_packages, dir) == 0);
        env = (CheckEnv){.config = cfg};

        expect(cfg, "nautobot >= 3.1.0", "nautobot-contract-models >= 2026.5.17");
        oom_sweep("versions, a watched package not installed", &env, CHECK_ID_VERSIONS, run, NULL,
                  "version requirements are not met");
        expect(cfg, "nautobot >= 3.1.0", "nautobot >= 3.2");
        oom_sweep("versions, a version below the requirement", &env, CHECK_ID_VERSIONS, run, NULL,
                  "version requirements are not met");
        /* pip mid-install: the old release's dist-info not yet removed. */
        sh("cp -r '%s/nautobot-3.1.6.dist-info' '%s/nautobot-3.1.5.dist-info'", dir, dir);
        expect(cfg, "nautobot >= 3.1.0", NULL);
        oom_sweep("versions, two dist-infos of a package", &env, CHECK_ID_VERSIONS, run, NULL,
                  "version requirements are not met");
        sh("rm -rf '%s'", dir);
        printf("ok - versions\n");
        return 0;
}
