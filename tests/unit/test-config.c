/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration parsing: defaults, errors with file:line, secrets, golden dumps. */
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"
#include "config.h"
#include "instance-name.h"
#include "test.h"

static char *write_temp(const char *text)
{
        char *path = strdup("/tmp/nvd-test-config-XXXXXX");
        int fd = mkstemp(path);

        ASSERT(fd >= 0);
        ASSERT(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
        close(fd);
        return path;
}

/* Loads text, expects failure, returns the message (caller frees). */
static char *load_error(const char *text)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = write_temp(text);
        char *error = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, path, &error) < 0);
        ASSERT(error);
        ASSERT(strstr(error, path) == error); /* starts with the file name */
        unlink(path);
        return error;
}

static void test_defaults(void)
{
        _cleanup_(config_freep) Config *c = NULL;

        ASSERT(config_new(&c) == 0);
        /* No [package] name=: every app the server loads (all-apps mode). */
        ASSERT(!c->package && !c->app_label && !c->job_grouping && !c->job_module);
        ASSERT(config_all_apps(c));
        ASSERT(c->n_app_sections == 0 && !config_app_section(c, "nautobot-contract-models"));
        ASSERT(strv_length(c->watch_packages) == 1);
        ASSERT_STREQ(c->watch_packages[0], "nautobot");
        /* Expected Jobs and panels come from the installed code: no list to keep by hand. */
        ASSERT(strv_length(c->jobs) == 0);
        ASSERT(strv_length(c->panels) == 0);
        ASSERT(c->enabled[CHECK_ID_PANELS]);
        ASSERT(c->command_timeout_usec == 300 * USEC_PER_SEC);
        ASSERT(strv_length(c->expectations) == 2 &&
               strv_contains(c->expectations, "nautobot >= 3.1.0"));
        ASSERT(config_finalize(c, NULL) == 0);
        ASSERT(!c->job_module); /* no app label to derive it from */
        ASSERT(strv_length(c->watch_packages) == 1);
        ASSERT(strv_length(c->expectations) == 2 && strv_contains(c->expectations, "nautobot < 4"));
        for (CheckId i = 0; i < _CHECK_ID_MAX; i++) {
                ASSERT(check_id_to_string(i));
                ASSERT(check_id_from_string(check_id_to_string(i)) == (int)i);
                /* The check table is in CheckId order, each entry with its start function. */
                ASSERT(check_type(i)->id == i && check_type(i)->start);
        }
        ASSERT_STREQ(c->static_root, "/opt/nautobot/static");
        ASSERT(strv_contains(c->units, "nautobot-worker.service"));
        ASSERT(check_id_from_string("coffee") == -EINVAL);
}

static void test_errors(void)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL,
                            *e7 = NULL;

        e1 = load_error("[nautobot]\nurl = http://x\nbogus = 1\n");
        ASSERT(strstr(e1, ":3: unknown key 'bogus' in section [nautobot]"));
        e2 = load_error("# c\n[nope]\nx = 1\n");
        ASSERT(strstr(e2, ":3: unknown section [nope]"));
        e3 = load_error("[credentials]\npassword = hunter2\n");
        ASSERT(strstr(e3, ":2: [credentials] password=: secrets are not accepted"));
        ASSERT(!strstr(e3, "hunter2"));
        e4 = load_error("[nautobot]\ncommand-timeout = soon\n");
        ASSERT(strstr(e4, ":2: [nautobot] command-timeout=: 'soon' is not a duration"));
        e5 = load_error("[nautobot]\nserver = bin/nautobot-server\n");
        ASSERT(strstr(e5, ":2: [nautobot] server=: 'bin/nautobot-server' is not an absolute path"));
        e6 = load_error("[checks]\nenable = system, coffee\n");
        ASSERT(strstr(e6, "unknown check 'coffee'"));
        e7 = load_error("[nautobot]\nthis line has no equals sign\n");
        _cleanup_free_ char *e8 = load_error("[watch]\nexpect = nautobot >= 3.1, nautobot ~= 3\n");
        ASSERT(strstr(e8, ":2: [watch] expect=: 'nautobot ~= 3' is not a requirement"));
        ASSERT(strstr(e7, ":2: syntax error"));
        /* A line inih would cut in two is refused, not read as two. */
        _cleanup_free_ char *long_line =
                strjoin_printf("[package]\npanels = %0300d\njobs = A\n", 0);
        _cleanup_free_ char *e11 = load_error(long_line);
        ASSERT(strstr(e11, ":2: line longer than"));
        /* The instance names a folder and a unit instance: nothing that climbs out of either. */
        _cleanup_free_ char *e9 =
                load_error("[watch]\nquiet-period = 1\n[nautobot]\ninstance = ../etc\n");
        ASSERT(strstr(e9, ":4: [nautobot] instance=: '../etc' is not an instance name"));
        _cleanup_free_ char *e10 = load_error("[nautobot]\ninstance = a/b\n");
        ASSERT(strstr(e10, ":2: [nautobot] instance=: 'a/b' is not an instance name"));
        /* A file node_exporter's textfile collector would silently ignore is refused at load. */
        _cleanup_free_ char *e12 = load_error("[report]\nprometheus-textfile = /var/tmp/nvd.txt\n");
        ASSERT(strstr(e12,
                      ":2: [report] prometheus-textfile=: '/var/tmp/nvd.txt' does not end in"));
        _cleanup_free_ char *e13 = load_error("[report]\nprometheus-textfile = nvd.prom\n");
        ASSERT(strstr(e13,
                      ":2: [report] prometheus-textfile=: 'nvd.prom' is not an absolute path"));
}

static void test_missing_file(void)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, "/nonexistent/nvd.conf", &error) == -ENOENT);
        ASSERT_STREQ(error, "/nonexistent/nvd.conf: cannot open: No such file or directory");
}

static void test_lists_and_values(void)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = NULL;

        path = write_temp(
                "[nautobot]\nurl = https://nb.example/nautobot/\ntls-verify = no\nhttp-timeout = 500ms\n"
                "[package]\njobs =\njobs = A, B ; inline comment\njobs = B, C\npanels = X\n"
                "[checks]\nenable = jobs,panels\n");
        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, path, NULL) == 0);
        ASSERT_STREQ(c->url, "https://nb.example/nautobot");
        ASSERT(!c->tls_verify);
        ASSERT(c->http_timeout_usec == 500 * USEC_PER_MSEC);
        ASSERT(strv_length(c->jobs) == 3);
        ASSERT_STREQ(c->jobs[2], "C");
        ASSERT(strv_length(c->panels) == 1); /* named in the file: replaces the defaults */
        ASSERT_STREQ(c->panels[0], "X");
        ASSERT(!c->enabled[CHECK_ID_SYSTEM] && c->enabled[CHECK_ID_JOBS] &&
               c->enabled[CHECK_ID_PANELS]);
        unlink(path);
}

/* Golden files: tests/fixtures/config/NAME.conf → NAME.expected (the --check-config output). */
static void test_golden(void)
{
        static const char *const names[] = {"minimal", "full", "apps"};

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *conf = NULL, *exp = NULL, *want = NULL, *got = NULL,
                                    *n1 = NULL, *n2 = NULL;
                size_t len = 0;
                FILE *f;

                n1 = strjoin_printf("config/%s.conf", names[i]);
                n2 = strjoin_printf("config/%s.expected", names[i]);
                conf = fixture(n1);
                exp = fixture(n2);
                ASSERT(config_new(&c) == 0);
                ASSERT(config_parse_file(c, conf, NULL) == 0);
                ASSERT(config_finalize(c, NULL) == 0);
                f = open_memstream(&got, &len);
                ASSERT(f);
                ASSERT(config_dump(c, f) == 0);
                fclose(f);
                ASSERT(read_file_bounded(exp, 65536, &want, NULL) == 0);
                ASSERT_STREQ(got, want);

                /* The dump is itself a valid configuration that dumps the same. */
                _cleanup_(config_freep) Config *again = NULL;
                _cleanup_free_ char *got2 = NULL;

                ASSERT(config_new(&again) == 0);
                ASSERT(config_parse_file(again, exp, NULL) == 0);
                ASSERT(config_finalize(again, NULL) == 0);
                f = open_memstream(&got2, &len);
                ASSERT(f);
                ASSERT(config_dump(again, f) == 0);
                fclose(f);
                ASSERT_STREQ(got2, want);
        }
}

static void test_secrets(void)
{
        _cleanup_free_ char *p1 = write_temp("s3cret\n"), *p2 = write_temp(""),
                            *p3 = write_temp("a\nb\n");
        char dir[] = "/tmp/nvd-test-cred-XXXXXX";
        _cleanup_free_ char *cred = NULL;
        char *v = NULL, *src = NULL;
        FILE *f;

        ASSERT(config_read_secret(p1, NULL, &v, NULL, NULL) == 0);
        ASSERT_STREQ(v, "s3cret");
        free(v);
        ASSERT(config_read_secret(p2, NULL, &v, NULL, NULL) == -ENODATA);
        ASSERT(config_read_secret(p3, NULL, &v, NULL, NULL) == -EBADMSG);
        ASSERT(config_read_secret(NULL, NULL, &v, NULL, NULL) == -ENOKEY);
        ASSERT(config_read_secret("/nonexistent", NULL, &v, NULL, NULL) == -ENOENT);

        /* $CREDENTIALS_DIRECTORY wins over the file when the credential exists. */
        ASSERT(mkdtemp(dir));
        cred = strjoin_printf("%s/api-token", dir);
        f = fopen(cred, "we");
        ASSERT(f);
        fputs("from-credential", f);
        fclose(f);
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        ASSERT(config_read_secret(p1, "api-token", &v, &src, NULL) == 0);
        ASSERT_STREQ(v, "from-credential");
        ASSERT_STREQ(src, cred);
        free(v), free(src);
        ASSERT(config_read_secret(p1, "web-password", &v, NULL, NULL) == 0);
        ASSERT_STREQ(v, "s3cret");
        free(v);
        unsetenv("CREDENTIALS_DIRECTORY");
        unlink(cred), rmdir(dir), unlink(p1), unlink(p2), unlink(p3);
}

/* Loads text, expects config_finalize() to refuse it with "path:line: ..." naming the key. */
static void finalize_refuses(const char *text, unsigned line, const char *key)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = write_temp(text), *error = NULL, *where = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, path, &error) == 0);
        if (config_finalize(c, &error) != -EINVAL) {
                fprintf(stderr, "config_finalize accepted an empty %s:\n%s\n", key, text);
                abort();
        }
        where = strjoin_printf("%s:%u: ", path, line);
        ASSERT(error && where);
        if (strstr(error, where) != error || !strstr(error, key)) {
                fprintf(stderr, "error \"%s\" does not start with \"%s\" or name %s\n", error,
                        where, key);
                abort();
        }
        unlink(path);
}

/* An empty value of a key a check needs is stored as NULL: it must not reach the checks. */
static void test_empty_required(void)
{
        finalize_refuses("[nautobot]\nserver =\n", 2, "server=");
        finalize_refuses("# c\n[credentials]\n\nusername =   \n", 4, "username=");
        finalize_refuses("[package]\nname = x\napp-label =\n", 3, "app-label=");
        finalize_refuses("[watch]\npackages =\n", 2, "packages=");
        /* Needed only by a disabled check: accepted. So are empty jobs= and panels= (the
         * installed code says what to expect). */
        {
                _cleanup_(config_freep) Config *c = NULL;
                _cleanup_free_ char *path =
                        write_temp("[credentials]\nusername =\n[package]\njobs =\npanels =\n"
                                   "[checks]\nenable = versions, jobs\n");
                char *error = NULL;

                ASSERT(config_new(&c) == 0);
                ASSERT(config_parse_file(c, path, &error) == 0);
                ASSERT(config_finalize(c, &error) == 0);
                unlink(path);
        }
}

/* Writes text to dir/name. */
static void write_at(const char *dir, const char *name, const char *text)
{
        _cleanup_free_ char *path = strjoin_printf("%s/%s", dir, name);
        FILE *f = fopen(path, "we");

        ASSERT(f);
        fputs(text, f);
        fclose(f);
}

/* Finalizes a configuration naming 'dirs'; returns the error, or NULL with *ret set. */
static char *finalize_with(const char *dirs, const char *extra, Config **ret)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *text = strjoin_printf("[checks]\nprofiles = %s\n%s", dirs, extra),
                            *path = write_temp(text);
        char *error = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, path, &error) == 0);
        unlink(path);
        if (config_finalize(c, &error) < 0) {
                ASSERT(error);
                return error;
        }
        *ret = TAKE_PTR(c);
        return NULL;
}

/* [checks] profiles=: the first directory holding <package>.conf wins; a broken one is refused. */
static void test_profiles(void)
{
        char etc[] = "/tmp/nvd-test-profiles-etc-XXXXXX", share[] = "/tmp/nvd-test-profiles-XXXXXX";
        _cleanup_free_ char *e1 = load_error("[checks]\nprofiles = /etc/x, profiles.d\n"),
                            *dirs = NULL, *out = NULL, *error = NULL, *want = NULL, *rm = NULL;
        const char *app =
                "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n";
        Config *c = NULL;
        size_t len = 0;
        FILE *f;

        ASSERT(strstr(e1, ":2: [checks] profiles=: 'profiles.d' is not an absolute path"));
        ASSERT(mkdtemp(etc) && mkdtemp(share));
        dirs = strjoin_printf("%s, %s", etc, share);

        /* None anywhere: no profile, no error. */
        ASSERT(!finalize_with(dirs, "", &c));
        ASSERT(c->n_profiles == 0 && !config_profile(c, "nautobot-contract-models"));
        c = config_free(c);

        /* The shipped one, found under the normalised name; the admin's wins over it. */
        write_at(share, "nautobot-contract-models.conf", app);
        write_at(share, "nautobot.conf",
                 "[app]\npackage = nautobot\nlabel = extras\n"
                 "[rollback x]\nbelow = 0001_initial\ndrops = everything\n");
        ASSERT(!finalize_with(
                dirs,
                "[package]\nname = Nautobot_Contract.Models\napp-label = nautobot_contract_models\n",
                &c));
        ASSERT(c->n_profiles == 2);
        ASSERT(config_profile(c, "nautobot_contract_models"));
        ASSERT(!config_profile(c, "nautobot_contract_models")->jobs_disabled);
        ASSERT(config_profile(c, "nautobot")->n_rollbacks == 1); /* a watched package's */
        f = open_memstream(&out, &len);
        ASSERT(f && config_dump(c, f) == 0);
        fclose(f);
        want = strjoin_printf(
                "; profile of nautobot-contract-models: %s/nautobot-contract-models.conf\n", share);
        ASSERT(strstr(out, want));
        c = config_free(c);
        write_at(etc, "nautobot-contract-models.conf",
                 "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"
                 "[jobs]\nwhen-disabled = the admin's advice\n");
        ASSERT(!finalize_with(dirs, "", &c));
        ASSERT_STREQ(config_profile(c, "nautobot-contract-models")->jobs_disabled,
                     "the admin's advice");
        c = config_free(c);

        /* The app's Jobs page group: its profile's [jobs] grouping=, unless job-grouping= says. */
        write_at(etc, "nautobot-contract-models.conf",
                 "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"
                 "[jobs]\ngrouping = Contracts\n");
        ASSERT(!finalize_with(
                dirs,
                "[package]\nname = nautobot-contract-models\napp-label = nautobot_contract_models\n",
                &c));
        ASSERT_STREQ(c->job_grouping, "Contracts");
        c = config_free(c);
        ASSERT(!finalize_with(dirs,
                              "[package]\nname = nautobot-contract-models\n"
                              "app-label = nautobot_contract_models\njob-grouping = Mine\n",
                              &c));
        ASSERT_STREQ(c->job_grouping, "Mine");
        c = config_free(c);

        /* An empty list: no profiles at all. */
        ASSERT(!finalize_with("", "", &c));
        ASSERT(c->n_profiles == 0);
        c = config_free(c);

        /* A broken profile stops the configuration, naming its file and line. */
        write_at(etc, "nautobot-contract-models.conf",
                 "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n"
                 "[jobs]\nwhen-disabled = x\nbogus = y\n");
        error = finalize_with(dirs, "", &c);
        free(want);
        want = strjoin_printf(
                "%s/nautobot-contract-models.conf:6: unknown key 'bogus' in section [jobs]", etc);
        ASSERT_STREQ(error, want);
        error = mfree(error);

        /* The app's profile is about the configured app label's migrations. */
        write_at(etc, "nautobot-contract-models.conf", app);
        error = finalize_with(
                dirs, "[package]\nname = nautobot-contract-models\napp-label = other_label\n", &c);
        free(want);
        want = strjoin_printf(
                "%s/nautobot-contract-models.conf:3: [app] label= is 'nautobot_contract_models', but [package] app-label= is 'other_label'",
                etc);
        ASSERT_STREQ(error, want);

        rm = strjoin_printf("rm -rf '%s' '%s'", etc, share);
        ASSERT(system(rm) == 0);
}

/* Loads text and finalizes it; returns the configuration (the file is removed). */
static Config *load_finalized(const char *text)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *path = write_temp(text);
        char *error = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, path, &error) == 0);
        if (config_finalize(c, &error) < 0) {
                fprintf(stderr, "config_finalize: %s\n", error);
                abort();
        }
        unlink(path);
        return TAKE_PTR(c);
}

/* [package] name= set: one app, as before all-apps mode. */
static void test_single_app(void)
{
        Config *c;

        c = load_finalized(
                "[package]\nname = nautobot-dns-models\napp-label = nautobot_dns_models\n");
        ASSERT(!config_all_apps(c));
        ASSERT_STREQ(c->job_module, "nautobot_dns_models.jobs");
        ASSERT(!c->job_grouping);
        ASSERT(strv_length(c->watch_packages) == 2); /* the package first */
        ASSERT_STREQ(c->watch_packages[0], "nautobot-dns-models");
        ASSERT_STREQ(c->watch_packages[1], "nautobot");
        /* Finalizing again changes nothing. */
        ASSERT(config_finalize(c, NULL) == 0);
        ASSERT(strv_length(c->watch_packages) == 2);
        c = config_free(c);

        /* [watch] packages= in the file is taken as written. */
        c = load_finalized("[package]\nname = nautobot-dns-models\napp-label = dns\n"
                           "[watch]\npackages = nautobot\n");
        ASSERT(strv_length(c->watch_packages) == 1);
        ASSERT_STREQ(c->watch_packages[0], "nautobot");
        c = config_free(c);

        /* Already watched (under another spelling): not added twice, the order kept. */
        c = load_finalized("[package]\nname = Nautobot_DNS.models\napp-label = dns\n");
        ASSERT_STREQ(c->watch_packages[0], "Nautobot_DNS.models");
        c = config_free(c);

        /* Its [app NAME] section adds jobs= and panels=; one of another app is ignored. */
        c = load_finalized("[app nautobot_dns_models]\njobs = B, C\npanels = P\n"
                           "[package]\nname = nautobot-dns-models\napp-label = dns\njobs = A, B\n"
                           "[app nautobot-other]\nverify = no\njobs = X\n");
        ASSERT(strv_length(c->jobs) == 3);
        ASSERT_STREQ(c->jobs[0], "A");
        ASSERT_STREQ(c->jobs[2], "C");
        ASSERT(strv_length(c->panels) == 1);
        ASSERT(config_finalize(c, NULL) == 0); /* merging again adds nothing */
        ASSERT(strv_length(c->jobs) == 3);
        c = config_free(c);

        /* name= without app-label=: the error points at name=. */
        finalize_refuses("# c\n[package]\nname = nautobot-dns-models\n", 3,
                         "[package] app-label= must not be empty when [package] name= is set");
        /* Without name=, the keys about the one app have no app. */
        finalize_refuses("[package]\n\njob-grouping = DNS\n", 3,
                         "[package] job-grouping= describes the app of [package] name=");
        finalize_refuses("[package]\njobs = A\n", 2, "[package] jobs= describes the app");
}

/* [checks] django=command runs one nautobot-server per check, for one app. */
static void test_django_command(void)
{
        Config *c;

        finalize_refuses(
                "[checks]\n# one per check\ndjango = command\n", 3,
                "django=command verifies one app: set [package] name=, or use django=probe");
        c = load_finalized("[checks]\ndjango = command\n[package]\nname = x\napp-label = x\n");
        ASSERT(!c->use_probe);
        config_free(c);
}

static void test_app_sections(void)
{
        _cleanup_free_ char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL, *e6 = NULL,
                            *e7 = NULL, *long_name = NULL, *many = NULL;
        const AppSection *a, *b;
        Config *c;
        Buf text;

        c = load_finalized("; all apps\n"
                           "[app nautobot-dns-models]\n"
                           "verify = no\n"
                           "app-label = dns\n"
                           "job-module = dns.jobs\n"
                           "job-grouping = DNS\n"
                           "jobs = A, B\n"
                           "jobs = C\n"
                           "panels = P\n"
                           "[app nautobot-empty]\n"
                           "[nautobot]\n"
                           "url = http://x\n"
                           "[app Nautobot_DNS.Models]\n"
                           "panels = Q\n"
                           "app-label = dns2\n");
        ASSERT(config_all_apps(c));
        ASSERT(c->n_app_sections == 2);
        a = &c->app_sections[0];
        ASSERT_STREQ(a->package, "nautobot-dns-models"); /* as first written */
        ASSERT(!a->verify && a->line == 2);
        ASSERT_STREQ(a->app_label, "dns2"); /* the later one wins */
        ASSERT_STREQ(a->job_module, "dns.jobs");
        ASSERT_STREQ(a->job_grouping, "DNS");
        ASSERT(strv_length(a->jobs) == 3 && streq(a->jobs[2], "C"));
        ASSERT(strv_length(a->panels) == 2 && streq(a->panels[1], "Q")); /* lists append */
        b = &c->app_sections[1];
        ASSERT_STREQ(b->package, "nautobot-empty");
        ASSERT(b->verify && b->line == 10 && !b->app_label && !b->jobs && !b->panels);
        ASSERT(config_app_section(c, "NAUTOBOT.dns__models") == a);
        ASSERT(config_app_section(c, "nautobot-empty") == b);
        ASSERT(!config_app_section(c, "nautobot-dns"));
        ASSERT(!c->job_module); /* nothing derived for the apps: that is config_for_app() */
        config_free(c);

        e1 = load_error("[app x]\nverify = no\nbogus = 1\n");
        ASSERT(strstr(e1, ":3: unknown key 'bogus' in section [app x]"));
        e2 = load_error("[nautobot]\nurl = http://x\n\n[app bad/name]\nverify = no\n");
        ASSERT(strstr(e2, ":4: [app bad/name]: 'bad/name' is not a Python distribution name"));
        e3 = load_error("# nothing\n[app]\n");
        ASSERT(strstr(e3, ":2: [app] needs the name of a Python distribution"));
        e4 = load_error("[app x]\nverify = maybe\n");
        ASSERT(strstr(e4, ":2: [app x] verify=: 'maybe' is not a boolean"));
        e5 = load_error("[app x]\npassword = hunter2\n");
        ASSERT(strstr(e5, ":2: [app x] password=: secrets are not accepted"));
        long_name = strjoin_printf("[app a%0128d]\n", 0);
        e6 = load_error(long_name);
        ASSERT(strstr(e6, ":1: [app a000") && strstr(e6, "is not a Python distribution name"));
        ASSERT(strstr(e6, "at most 128"));
        buf_init(&text, 65536);
        for (int i = 0; i <= CONFIG_APP_SECTIONS_MAX; i++)
                ASSERT(buf_printf(&text, "[app app%d]\nverify = yes\n", i) == 0);
        many = TAKE_PTR(text.data);
        e7 = load_error(many);
        ASSERT(strstr(e7, ":513: more than 256 [app NAME] sections"));
        /* Not an [app NAME]: an unknown section, as before. */
        _cleanup_free_ char *e8 = load_error("[apps x]\nverify = no\n");
        ASSERT(strstr(e8, ":2: unknown section [apps x]"));
        /* An indented line after a key continues its value, even one like a header. */
        c = load_finalized("[app x]\njobs = A,\n  [app y]\n");
        ASSERT(c->n_app_sections == 1 && strv_length(c->app_sections[0].jobs) == 2);
        config_free(c);
}

/* Compares what the dump does not show. */
static void assert_copy_equal(const Config *c, const Config *n)
{
        ASSERT(streq_ptr(c->source, n->source) && (!c->source || c->source != n->source));
        ASSERT(memcmp(c->key_line, n->key_line, sizeof(c->key_line)) == 0);
        ASSERT(streq_ptr(c->instance_state_directory, n->instance_state_directory));
        ASSERT(strv_length(c->other_app_labels) == strv_length(n->other_app_labels));
        for (size_t i = 0; i < strv_length(c->other_app_labels); i++)
                ASSERT_STREQ(c->other_app_labels[i], n->other_app_labels[i]);
        ASSERT(memcmp(c->enabled, n->enabled, sizeof(c->enabled)) == 0);
        ASSERT(c->n_app_sections == n->n_app_sections);
        for (size_t i = 0; i < c->n_app_sections; i++) {
                ASSERT(c->app_sections[i].line == n->app_sections[i].line);
                ASSERT(c->app_sections[i].package != n->app_sections[i].package);
        }
}

static char *dump(const Config *c)
{
        char *out = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&out, &len);

        ASSERT(f && config_dump(c, f) == 0);
        fclose(f);
        return out;
}

static void test_copy(void)
{
        _cleanup_(config_freep) Config *c = NULL, *n = NULL, *empty = NULL, *empty_copy = NULL;
        _cleanup_free_ char *full = fixture("config/full.conf"), *text = NULL, *path = NULL,
                            *d1 = NULL, *d2 = NULL, *d3 = NULL, *d4 = NULL, *rm = NULL;
        char dir[] = "/tmp/nvd-test-copy-XXXXXX";

        ASSERT(mkdtemp(dir));
        write_at(dir, "nautobot-contract-models.conf",
                 "[app]\npackage = nautobot-contract-models\nlabel = nautobot_contract_models\n");
        text = strjoin_printf("[checks]\nprofiles = %s\n"
                              "[app nautobot-dns-models]\nverify = no\napp-label = dns\n"
                              "job-module = dns.jobs\njob-grouping = DNS\njobs = A, B\npanels = P\n"
                              "[app nautobot-contract-models]\njobs = X\n",
                              dir);
        path = write_temp(text);
        ASSERT(config_new(&c) == 0);
        ASSERT(config_parse_file(c, full, NULL) == 0);
        ASSERT(config_parse_file(c, path, NULL) == 0); /* a second file: its sections and lines */
        unlink(path);
        ASSERT(strv_extend(&c->other_app_labels, "nautobot_dns_models") == 0);
        ASSERT(strv_extend(&c->other_app_labels, "nautobot_golden_config") == 0);
        ASSERT(config_finalize(c, NULL) == 0);
        ASSERT(c->n_profiles == 1 && c->n_app_sections == 2);

        ASSERT(config_copy(c, &n) == 0);
        ASSERT(n->n_profiles == 0 && !n->profiles); /* finalize loads them */
        assert_copy_equal(c, n);
        ASSERT(c->package != n->package && c->jobs != n->jobs && c->units != n->units);
        ASSERT(c->app_sections[0].jobs != n->app_sections[0].jobs);
        ASSERT(config_finalize(n, NULL) == 0);
        ASSERT(n->n_profiles == 1 && config_profile(n, "nautobot-contract-models"));
        d1 = dump(c);
        d2 = dump(n);
        ASSERT_STREQ(d1, d2); /* every key of the table, and the [app NAME] sections */
        ASSERT(strstr(d2, "\n[app nautobot-dns-models]\nverify = no ; "));
        ASSERT(strstr(d2, "\njobs = A ; Job classes expected"));
        ASSERT(strstr(d2, "\njobs = B\npanels = P ; "));

        /* The defaults, never loaded nor finalized: nothing the original lacks. */
        ASSERT(config_new(&empty) == 0);
        ASSERT(config_copy(empty, &empty_copy) == 0);
        assert_copy_equal(empty, empty_copy);
        d3 = dump(empty);
        d4 = dump(empty_copy);
        ASSERT_STREQ(d3, d4);
        rm = strjoin_printf("rm -rf '%s'", dir);
        ASSERT(system(rm) == 0);
}

/* The line of "label =" in a profile file. */
static unsigned label_line(const char *path)
{
        _cleanup_free_ char *text = NULL;
        unsigned line = 1;

        ASSERT(read_file_bounded(path, 65536, &text, NULL) == 0);
        for (const char *p = text; *p; p++) {
                if ((p == text || p[-1] == '\n') && startswith(p, "label"))
                        return line;
                if (*p == '\n')
                        line++;
        }
        abort();
}

static void test_for_app(void)
{
        _cleanup_free_ char *fixtures = fixture(""), *ref = NULL, *ref_file = NULL, *text = NULL,
                            *error = NULL, *want = NULL;
        Config *base, *c = NULL;

        /* The reference profile, shipped beside the checks. */
        ref = strjoin_printf("%s/../../lib/checks/profiles", fixtures);
        ref_file = strjoin_printf("%s/nautobot-contract-models.conf", ref);
        text = strjoin_printf("[checks]\nprofiles = %s\n"
                              "[watch]\npackages = nautobot, nautobot-dns-models\n"
                              "[app nautobot-dns-models]\napp-label = dns_from_section\n"
                              "jobs = A\npanels = P\njob-grouping = DNS\n",
                              ref);
        base = load_finalized(text);
        /* All-apps mode loads every profile, so a broken one stops the start. */
        ASSERT(config_profile(base, "nautobot-contract-models"));
        ASSERT(strv_extend(&base->other_app_labels, "nautobot_contract_models") == 0);

        /* The section's label wins over the server's. */
        ASSERT(config_for_app(base, "nautobot-dns-models", "from_server", &c, &error) == 0);
        ASSERT(!config_all_apps(c));
        ASSERT_STREQ(c->package, "nautobot-dns-models");
        ASSERT_STREQ(c->app_label, "dns_from_section");
        ASSERT_STREQ(c->job_module, "dns_from_section.jobs");
        ASSERT_STREQ(c->job_grouping, "DNS");
        ASSERT(strv_length(c->jobs) == 1 && strv_length(c->panels) == 1);
        ASSERT(strv_length(c->watch_packages) == 2);
        ASSERT_STREQ(c->watch_packages[0], "nautobot-dns-models"); /* first, once */
        ASSERT_STREQ(c->watch_packages[1], "nautobot");
        ASSERT(strv_length(c->other_app_labels) == 1);
        ASSERT(!config_profile(c, "nautobot-contract-models")); /* this app's, the watched' */
        c = config_free(c);

        /* No section: the server's label, nothing else; the reference profile agrees. */
        ASSERT(config_for_app(base, "nautobot-contract-models", "nautobot_contract_models", &c,
                              &error) == 0);
        ASSERT_STREQ(c->app_label, "nautobot_contract_models");
        ASSERT_STREQ(c->job_module, "nautobot_contract_models.jobs");
        ASSERT(!c->jobs && !c->panels);
        /* The Jobs page group of its upgrade guide, from its profile ([jobs] grouping=). */
        ASSERT_STREQ(c->job_grouping, "Contracts");
        ASSERT(config_profile(c, "nautobot-contract-models"));
        ASSERT_STREQ(config_profile(c, "nautobot-contract-models")->path, ref_file);
        ASSERT_STREQ(c->watch_packages[0], "nautobot-contract-models");
        c = config_free(c);

        /* The profile is about another label's migrations. */
        ASSERT(config_for_app(base, "nautobot-contract-models", "contracts", &c, &error) ==
               -EINVAL);
        ASSERT(!c);
        want = strjoin_printf(
                "%s:%u: [app] label= is 'nautobot_contract_models', but [package] app-label= is 'contracts'",
                ref_file, label_line(ref_file));
        ASSERT_STREQ(error, want);
        error = mfree(error);

        /* No label from the server and none in a section. */
        ASSERT(config_for_app(base, "nautobot-x", NULL, &c, &error) == -EINVAL);
        ASSERT(strstr(error, "nautobot-x: no Django app label") &&
               strstr(error, "[app nautobot-x]"));
        error = mfree(error);
        ASSERT(config_for_app(base, "not/a/name", "x", &c, &error) == -EINVAL);
        error = mfree(error);
        config_free(base);

        /* Single-app mode, for its own package: [package] says everything. */
        base = load_finalized("[package]\nname = nautobot-dns-models\napp-label = dns\n"
                              "job-grouping = G\njobs = A\n[app nautobot-dns-models]\njobs = B\n"
                              "app-label = ignored\n");
        ASSERT(config_for_app(base, "Nautobot_DNS_Models", NULL, &c, &error) == 0);
        ASSERT_STREQ(c->app_label, "dns");
        ASSERT_STREQ(c->job_grouping, "G");
        ASSERT(strv_length(c->jobs) == 2);
        ASSERT(strv_length(c->watch_packages) == 2);
        ASSERT_STREQ(c->watch_packages[0], "Nautobot_DNS_Models");
        c = config_free(c);
        config_free(base);

        /* At start, an [app NAME] app-label= the app's profile disagrees with is refused. */
        error = finalize_with(ref, "[app nautobot_contract_models]\napp-label = contracts\n", &c);
        free(want);
        want = strjoin_printf(
                "%s:%u: [app] label= is 'nautobot_contract_models', but [app nautobot_contract_models] app-label= is 'contracts'",
                ref_file, label_line(ref_file));
        ASSERT_STREQ(error, want);
}

/*
 * Names that end up in a path (the state file, <site-packages>/<label>/static): refused at
 * load with file:line, the key and the reason, control bytes escaped. Each
 * tests/fixtures/config/bad-NAME.conf fails with bad-NAME.error after its path.
 */
static void test_bad_names(void)
{
        static const char *const names[] = {"package-dotdot",  "package-slash",
                                            "package-esc",     "label-dotdot",
                                            "app-label-slash", "app-section-dotdot"};
        Config *c = NULL, *n = NULL;
        char *error = NULL;

        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_(config_freep) Config *cfg = NULL;
                _cleanup_free_ char *n1 = strjoin_printf("config/bad-%s.conf", names[i]),
                                    *n2 = strjoin_printf("config/bad-%s.error", names[i]),
                                    *conf = fixture(n1), *exp = fixture(n2), *want = NULL,
                                    *got = NULL, *full = NULL;

                ASSERT(config_new(&cfg) == 0);
                ASSERT(config_parse_file(cfg, conf, &got) == -EINVAL);
                ASSERT(read_file_bounded(exp, 65536, &want, NULL) == 0);
                want[strcspn(want, "\n")] = 0;
                full = strjoin_printf("%s%s", conf, want);
                ASSERT_STREQ(got, full);
                ASSERT(!strchr(got, '\033')); /* escaped: nothing for a terminal to act on */
        }

        /* Real names and labels load. */
        c = load_finalized("[package]\nname = nautobot-contract-models\n"
                           "app-label = nautobot_contract_models\n"
                           "[app Nautobot_DNS.Models]\napp-label = nautobot_dns_models\n");
        ASSERT_STREQ(c->package, "nautobot-contract-models");
        ASSERT_STREQ(c->app_sections[0].app_label, "nautobot_dns_models");
        config_free(c);

        /* Empty: every app the server loads, as before. */
        c = load_finalized("[package]\nname =\n");
        ASSERT(config_all_apps(c));
        config_free(c);

        /* A label or distribution the server reported: refused before any path is made of it. */
        c = load_finalized("[nautobot]\nurl = http://x\n");
        ASSERT(config_for_app(c, "nautobot-dns-models", "../../etc", &n, &error) == -EINVAL);
        ASSERT(!n);
        ASSERT(strstr(error, "nautobot-dns-models: '../../etc' is not a Django app label"));
        error = mfree(error);
        ASSERT(config_for_app(c, "nautobot-dns-models", "dns\033]0;x\a", &n, &error) == -EINVAL);
        ASSERT(strstr(error, "'dns\\x1b]0;x\\x07' is not a Django app label"));
        error = mfree(error);
        ASSERT(config_for_app(c, "../x", "x", &n, &error) == -EINVAL);
        ASSERT_STREQ(error, "'../x' is not a Python distribution name");
        error = mfree(error);
        ASSERT(config_for_app(c, "a\033b", "x", &n, &error) == -EINVAL);
        ASSERT_STREQ(error, "'a\\x1bb' is not a Python distribution name");
        error = mfree(error);
        ASSERT(config_for_app(c, "nautobot-dns-models", "nautobot_dns_models", &n, &error) == 0);
        ASSERT_STREQ(n->app_label, "nautobot_dns_models");
        config_free(n);
        config_free(c);
}

/* All-apps mode reads every profile at start: a broken or misnamed one is refused then. */
static void test_every_profile(void)
{
        char dir[] = "/tmp/nvd-test-every-XXXXXX";
        _cleanup_free_ char *error = NULL, *want = NULL, *rm = NULL;
        Config *c = NULL;

        ASSERT(mkdtemp(dir));
        write_at(dir, "nautobot-a.conf", "[app]\npackage = nautobot-a\nlabel = a\n");
        write_at(dir, "README", "not a profile\n");
        ASSERT(!finalize_with(dir, "", &c));
        ASSERT(c->n_profiles == 1 && config_profile(c, "nautobot_a"));
        c = config_free(c);
        /* Single-app mode reads only its own and the watched packages'. */
        write_at(dir, "nautobot-b.conf", "[app]\npackage = nautobot-b\nlabel = b\nbogus = 1\n");
        ASSERT(!finalize_with(dir, "[package]\nname = nautobot-a\napp-label = a\n", &c));
        ASSERT(c->n_profiles == 1);
        c = config_free(c);
        error = finalize_with(dir, "", &c);
        want = strjoin_printf("%s/nautobot-b.conf:4: unknown key 'bogus' in section [app]", dir);
        ASSERT_STREQ(error, want);
        error = mfree(error);
        write_at(dir, "nautobot-b.conf", "[app]\npackage = nautobot-b\nlabel = b\n");
        write_at(dir, "Nautobot_C.conf", "[app]\npackage = nautobot-c\nlabel = c\n");
        error = finalize_with(dir, "", &c);
        free(want);
        want = strjoin_printf("%s/Nautobot_C.conf: not named after a package", dir);
        ASSERT(strstr(error, want) == error);
        rm = strjoin_printf("rm -rf '%s'", dir);
        ASSERT(system(rm) == 0);
}

/* config_load(): the one path from a file name to a configuration, its flags, the instance. */
static void test_load(void)
{
        _cleanup_(config_freep) Config *c = NULL;
        _cleanup_free_ char *error = NULL, *path = NULL, *refused = NULL, *p = NULL, *q = NULL;

        /* Where it is read unless said otherwise: lib/meson.build's directory, once. */
        p = config_default_path(NULL);
        ASSERT_STREQ(p, CONFIG_DIR "/nautobot-verifyd.conf");
        ASSERT_STREQ(p, CONFIG_DEFAULT_PATH);
        q = config_default_path("blue");
        ASSERT_STREQ(q, CONFIG_DIR "/blue/nautobot-verifyd.conf");
        ASSERT_STREQ(PROFILE_DIR_ETC, CONFIG_DIR "/profiles.d");

        /* A file that is not there: an error, unless nobody named it (MISSING_OK). */
        ASSERT(config_load("/nonexistent/nvd.conf", NULL, 0, &c, &error) == -ENOENT && !c);
        ASSERT_STREQ(error, "/nonexistent/nvd.conf: cannot open: No such file or directory");
        error = mfree(error);
        ASSERT(config_load("/nonexistent/nvd.conf", "blue", CONFIG_LOAD_MISSING_OK, &c, &error) ==
               0);
        ASSERT(!error && c && !c->source);
        ASSERT_STREQ(c->instance, "blue");
        ASSERT(endswith(c->instance_state_directory, "/blue"));
        c = config_free(c);

        /* The command line's instance wins over the file's, under the same rule. */
        path = write_temp("[nautobot]\ninstance = red\n");
        ASSERT(config_load(path, "../etc", 0, &c, &error) == -EINVAL && !c);
        ASSERT(strstr(error, "'../etc' is not an instance name (" INSTANCE_NAME_RULE ")"));
        error = mfree(error);
        ASSERT(config_load(path, NULL, 0, &c, &error) == 0 && !error);
        ASSERT_STREQ(c->instance, "red");
        c = config_free(c);
        ASSERT(config_load(path, "green", 0, &c, &error) == 0 && !error);
        ASSERT_STREQ(c->instance, "green");
        c = config_free(c);
        unlink(path);

        /* Refused by config_finalize(): an error, or (REFUSED_OK) the configuration and 1. */
        refused = write_temp("[nautobot]\nserver =\n");
        ASSERT(config_load(refused, NULL, 0, &c, &error) == -EINVAL && !c);
        ASSERT(strstr(error, ":2: [nautobot] server= must not be empty"));
        error = mfree(error);
        ASSERT(config_load(refused, NULL, CONFIG_LOAD_REFUSED_OK, &c, &error) == 1);
        ASSERT(c && c->source && c->instance_state_directory);
        ASSERT(strstr(error, ":2: [nautobot] server= must not be empty"));
        unlink(refused);

        /* The rule itself (instance-name.h), as --instance and [nautobot] instance= have it. */
        ASSERT(instance_name_valid("default") && instance_name_valid("nb-2.prod_x"));
        ASSERT(instance_name_valid(
                "a234567890123456789012345678901234567890123456789012345678901234"));
        ASSERT(!instance_name_valid(
                "a2345678901234567890123456789012345678901234567890123456789012345"));
        ASSERT(!instance_name_valid("") && !instance_name_valid(NULL));
        ASSERT(!instance_name_valid(".hidden") && !instance_name_valid("a/b"));
        ASSERT(!instance_name_valid("a b") && !instance_name_valid("caf\xc3\xa9"));
}

int main(void)
{
        RUN(test_defaults);
        RUN(test_errors);
        RUN(test_missing_file);
        RUN(test_lists_and_values);
        RUN(test_golden);
        RUN(test_secrets);
        RUN(test_empty_required);
        RUN(test_profiles);
        RUN(test_single_app);
        RUN(test_django_command);
        RUN(test_app_sections);
        RUN(test_copy);
        RUN(test_for_app);
        RUN(test_every_profile);
        RUN(test_bad_names);
        RUN(test_load);
        return 0;
}
