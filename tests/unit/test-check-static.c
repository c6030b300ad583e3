/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The static check and symbolic links: the daemon may run as root while the account
 * Nautobot runs as owns site-packages and STATIC_ROOT, and what the check saw lands in a
 * state file that account reads. No link below site-packages or in STATIC_ROOT is followed;
 * "collectstatic --link" trees still pass.
 */
#include <sys/stat.h>

#include "check.h"
#include "test.h"

static char dir[] = "/tmp/test-check-static.XXXXXX";

static void told(Check *c, void *userdata)
{
        (void)c;
        (*(unsigned *)userdata)++;
}

/* Runs the check on <dir>/sp and <dir>/static (or static_root); the caller frees the result. */
static CheckResult *run(const char *static_root)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        unsigned completions = 0;
        CheckEnv env;
        Check c;

        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "nautobot_contract_models") == 0);
        ASSERT(free_and_strdup(&cfg->package, "nautobot-contract-models") == 0);
        cfg->site_packages = strjoin_printf("%s/sp", dir);
        cfg->static_root = strjoin_printf("%s/%s", dir, static_root ?: "static");
        ASSERT(cfg->site_packages && cfg->static_root);
        env = (CheckEnv){.config = cfg};
        c = (Check){.id = CHECK_ID_STATIC, .env = &env, .done = told, .userdata = &completions};
        ASSERT(check_result_new(&c.result, "static") == 0);
        ASSERT(check_static_start(&c) == 0);
        ASSERT(c.completed && completions == 1);
        return c.result;
}

static bool mentions(const CheckResult *r, const char *what)
{
        if (strstr(strempty(r->reason), what) || strstr(strempty(r->evidence), what))
                return true;
        STRV_FOREACH (f, r->findings)
                if (strstr(*f, what))
                        return true;
        return false;
}

/* The installed release, collected: a pass, as before. */
static void setup(void)
{
        sh("cd '%s' && rm -rf sp static secret static-elsewhere"
           " && mkdir -p sp/nautobot_contract_models/static/contracts/js sp/nautobot/project-static/css"
           " static/contracts/js static/css secret/sub"
           " && echo x > sp/nautobot_contract_models/static/contracts/js/renewals.js"
           " && echo z > sp/nautobot/project-static/css/base.css"
           " && cp sp/nautobot_contract_models/static/contracts/js/renewals.js static/contracts/js/"
           " && cp sp/nautobot/project-static/css/base.css static/css/"
           " && head -c 31337 /dev/zero > secret/secret-name && touch secret/sub/secret-too"
           " && chmod 700 secret",
           dir);
}

static void test_collected(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;

        setup();
        r = run(NULL);
        ASSERT(r->state == CHECK_PASS);
        ASSERT(strstr(r->reason, "all 2 static files"));
}

/* The app's static/ replaced by a link to a directory only root may read: not followed. */
static void test_source_dir_link(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL, *r2 = NULL;

        setup();
        sh("cd '%s/sp/nautobot_contract_models' && rm -rf static && ln -s '%s/secret' static", dir,
           dir);
        r = run(NULL);
        ASSERT(r->state == CHECK_ERROR);
        ASSERT(strstr(r->reason, "nautobot_contract_models/static: a symbolic link, not followed"));
        ASSERT(!mentions(r, "secret-name") && !mentions(r, "secret-too") && !mentions(r, "31337"));
        /* The app's directory itself a link: the same. */
        setup();
        sh("cd '%s/sp' && rm -rf nautobot_contract_models && mkdir -p '%s/secret/static'"
           " && touch '%s/secret/static/secret-name' && ln -s '%s/secret' nautobot_contract_models",
           dir, dir, dir, dir);
        r2 = run(NULL);
        ASSERT(r2->state == CHECK_ERROR);
        ASSERT(!mentions(r2, "secret-name"));
}

/* Links inside the installed static/ (to a directory, to a file): said, never followed. */
static void test_source_links(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;

        setup();
        sh("cd '%s/sp/nautobot_contract_models/static' && ln -s '%s/secret' leak"
           " && ln -s '%s/secret/secret-name' contracts/leak-file && ln -s ../../../../.. up",
           dir, dir, dir);
        r = run(NULL);
        ASSERT(r->state == CHECK_PASS);
        ASSERT(strstr(r->reason, "all 2 static files"));
        ASSERT(r->findings && strstr(r->findings[0], "3 symbolic link(s) in the installed static "
                                                     "files were not followed"));
        ASSERT(!mentions(r, "secret-name") && !mentions(r, "secret-too"));
}

/* A label that climbs out of site-packages never gets this far, but is refused here too. */
static void test_bad_label(void)
{
        _cleanup_(config_freep) Config *cfg = NULL;
        unsigned completions = 0;
        CheckEnv env;
        Check c;

        setup();
        ASSERT(config_new(&cfg) == 0);
        ASSERT(free_and_strdup(&cfg->app_label, "../secret") == 0);
        cfg->site_packages = strjoin_printf("%s/sp", dir);
        cfg->static_root = strjoin_printf("%s/static", dir);
        env = (CheckEnv){.config = cfg};
        c = (Check){.id = CHECK_ID_STATIC, .env = &env, .done = told, .userdata = &completions};
        ASSERT(check_result_new(&c.result, "static") == 0);
        ASSERT(check_static_start(&c) == 0);
        ASSERT(c.result->state == CHECK_ERROR);
        ASSERT(!mentions(c.result, "secret-name"));
        check_result_free(c.result);
}

/* STATIC_ROOT a link: refused with the fix; nothing behind it looked up. */
static void test_static_root_link(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;

        setup();
        sh("cd '%s' && mv static static-elsewhere && ln -s static-elsewhere static", dir);
        r = run(NULL);
        ASSERT(r->state == CHECK_ERROR);
        ASSERT(strstr(r->reason, "is a symbolic link, which is not followed"));
        ASSERT(strstr(r->reason, "set [nautobot] static-root="));
        /* Where it leads, configured: a pass. */
        check_result_free(TAKE_PTR(r));
        r = run("static-elsewhere");
        ASSERT(r->state == CHECK_PASS);
}

/*
 * "collectstatic --link": STATIC_ROOT's files are links to the installed ones. Compared by
 * name, never followed: a link naming the file's own path passes, one naming another fails.
 */
static void test_collectstatic_link(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL, *r2 = NULL;

        setup();
        sh("cd '%s' && rm static/contracts/js/renewals.js static/css/base.css"
           " && ln -s '%s/sp/nautobot_contract_models/static/contracts/js/renewals.js'"
           " static/contracts/js/renewals.js"
           " && ln -s '%s/sp/nautobot/project-static/css/base.css' static/css/base.css",
           dir, dir, dir);
        r = run(NULL);
        ASSERT(r->state == CHECK_PASS);
        ASSERT(strstr(r->reason, "all 2 static files"));
        /* A link to something else (here a root-only file of another name): not collected. */
        sh("cd '%s' && rm static/css/base.css && ln -s '%s/secret/secret-name' static/css/base.css",
           dir, dir);
        r2 = run(NULL);
        ASSERT(r2->state == CHECK_FAIL);
        ASSERT(strstr(r2->reason, "1 of the 2 static files"));
        ASSERT(strstr(r2->reason, "first: css/base.css"));
        ASSERT(!mentions(r2, "secret-name"));
}

/* A directory of STATIC_ROOT that is a link: not entered, its files not compared, said. */
static void test_static_subdir_link(void)
{
        _cleanup_(check_result_freep) CheckResult *r = NULL;

        setup();
        sh("cd '%s' && mkdir -p secret/js && cp static/contracts/js/renewals.js secret/js/"
           " && rm -rf static/contracts && mkdir static/contracts && ln -s '%s/secret/js' static/contracts/js",
           dir, dir);
        r = run(NULL);
        ASSERT(r->state == CHECK_PASS);
        ASSERT(r->findings && strstr(r->findings[0], "1 static file(s) are in a directory of "
                                                     "STATIC_ROOT that is a symbolic link"));
        ASSERT(strstr(r->findings[0], "first: contracts/js/renewals.js"));
}

int main(void)
{
        ASSERT(mkdtemp(dir));
        RUN(test_collected);
        RUN(test_source_dir_link);
        RUN(test_source_links);
        RUN(test_bad_label);
        RUN(test_static_root_link);
        RUN(test_collectstatic_link);
        RUN(test_static_subdir_link);
        sh("chmod -R u+rwx '%s' && rm -rf '%s'", dir, dir);
        return 0;
}
