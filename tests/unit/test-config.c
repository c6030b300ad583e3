/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Configuration parsing: defaults, errors with file:line, secrets, golden dumps. */
#include <fcntl.h>
#include <sys/stat.h>

#include "check.h"
#include "config.h"
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
        ASSERT(config_load(c, path, &error) < 0);
        ASSERT(error);
        ASSERT(strstr(error, path) == error); /* starts with the file name */
        unlink(path);
        return error;
}

static void test_defaults(void)
{
        _cleanup_(config_freep) Config *c = NULL;

        ASSERT(config_new(&c) == 0);
        ASSERT_STREQ(c->package, "nautobot-contract-models");
        ASSERT_STREQ(c->app_label, "nautobot_contract_models");
        /* Expected Jobs and panels come from the installed code: no list to keep by hand. */
        ASSERT(strv_length(c->jobs) == 0);
        ASSERT(strv_length(c->panels) == 0);
        ASSERT(c->enabled[CHECK_ID_PANELS]);
        ASSERT(c->command_timeout_usec == 300 * USEC_PER_SEC);
        ASSERT(strv_length(c->expectations) == 2 &&
               strv_contains(c->expectations, "nautobot >= 3.1.0"));
        ASSERT(config_finalize(c, NULL) == 0);
        ASSERT_STREQ(c->job_module, "nautobot_contract_models.jobs");
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
        ASSERT(config_load(c, "/nonexistent/nvd.conf", &error) == -ENOENT);
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
        ASSERT(config_load(c, path, NULL) == 0);
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
        static const char *const names[] = {"minimal", "full"};

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
                ASSERT(config_load(c, conf, NULL) == 0);
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
                ASSERT(config_load(again, exp, NULL) == 0);
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

        ASSERT(config_read_secret(p1, NULL, &v, NULL) == 0);
        ASSERT_STREQ(v, "s3cret");
        free(v);
        ASSERT(config_read_secret(p2, NULL, &v, NULL) == -ENODATA);
        ASSERT(config_read_secret(p3, NULL, &v, NULL) == -EBADMSG);
        ASSERT(config_read_secret(NULL, NULL, &v, NULL) == -ENOKEY);
        ASSERT(config_read_secret("/nonexistent", NULL, &v, NULL) == -ENOENT);

        /* $CREDENTIALS_DIRECTORY wins over the file when the credential exists. */
        ASSERT(mkdtemp(dir));
        cred = strjoin_printf("%s/api-token", dir);
        f = fopen(cred, "we");
        ASSERT(f);
        fputs("from-credential", f);
        fclose(f);
        setenv("CREDENTIALS_DIRECTORY", dir, 1);
        ASSERT(config_read_secret(p1, "api-token", &v, &src) == 0);
        ASSERT_STREQ(v, "from-credential");
        ASSERT_STREQ(src, cred);
        free(v), free(src);
        ASSERT(config_read_secret(p1, "web-password", &v, NULL) == 0);
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
        ASSERT(config_load(c, path, &error) == 0);
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
                ASSERT(config_load(c, path, &error) == 0);
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
        ASSERT(config_load(c, path, &error) == 0);
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
        ASSERT(!finalize_with(dirs, "[package]\nname = Nautobot_Contract.Models\n", &c));
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
        error = finalize_with(dirs, "[package]\napp-label = other_label\n", &c);
        free(want);
        want = strjoin_printf(
                "%s/nautobot-contract-models.conf:3: [app] label= is 'nautobot_contract_models', but [package] app-label= is 'other_label'",
                etc);
        ASSERT_STREQ(error, want);

        rm = strjoin_printf("rm -rf '%s' '%s'", etc, share);
        ASSERT(system(rm) == 0);
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
        return 0;
}
