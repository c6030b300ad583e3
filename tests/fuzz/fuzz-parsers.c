/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer entry for every parser that reads what a server, a package or an
 * admin wrote: the low four bits of the first byte pick the parser (the high
 * four are a parameter, e.g. an exit status), the rest is its input. Built
 * whenever the compiler is clang with libFuzzer (CC=clang; see
 * tests/fuzz/meson.build); tests/run drives it for a bounded time, seeded with
 * the fixtures saved from the live server. The configuration and the state
 * files are read from disk: their input is written to a scratch directory.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>

#include "config.h"
#include "envfile.h"
#include "metadata.h"
#include "parse-html.h"
#include "parse-jobs.h"
#include "parse-output.h"
#include "parse-probe.h"
#include "parse-status.h"
#include "profile.h"
#include "state.h"
#include "version.h"

static char scratch[] = "/tmp/nvd-fuzz-XXXXXX";
static char *scratch_config, *scratch_state;

static void scratch_remove(void)
{
        unlink(scratch_config);
        unlink(scratch_state);
        rmdir(scratch);
}

/* Writes the input to the scratch file 'path' (truncating); false when that is impossible. */
static bool write_input(char **path, const uint8_t *data, size_t size)
{
        int fd;
        bool ok;

        if (!scratch_config) {
                if (!mkdtemp(scratch))
                        abort();
                scratch_config = strjoin_printf("%s/nautobot-verifyd.conf", scratch);
                scratch_state = strjoin_printf("%s/nautobot-contract-models.json", scratch);
                if (!scratch_config || !scratch_state)
                        abort();
                atexit(scratch_remove);
        }
        fd = open(*path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return false;
        ok = write(fd, data, size) == (ssize_t)size;
        close(fd);
        return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = NULL;
        const char *half;
        uint8_t which;

        if (size < 1)
                return 0;
        which = data[0];
        text = strndup((const char *)data + 1, size - 1); /* stops at a NUL, like C callers */
        if (!text)
                return 0;

        switch (which & 0x0f) {
        case 0: {
                JobPage *p = NULL;
                char *error = NULL;

                if (job_page_parse(text, strlen(text), &p, &error) == 0)
                        job_page_free(p);
                free(error);
                break;
        }
        case 1: {
                HomePage *h = NULL;

                if (html_parse_home((const char *)data + 1, size - 1, &h) == 0) {
                        (void)home_page_find(h, "Contracts");
                        home_page_free(h);
                }
                break;
        }
        case 2: {
                LoginPage *l = NULL;

                if (html_parse_login((const char *)data + 1, size - 1, &l) == 0)
                        login_page_free(l);
                break;
        }
        case 3: {
                char *n = NULL, *v = NULL;

                if (metadata_parse(text, &n, &v) == 0)
                        free(n), free(v);
                break;
        }
        case 4: {
                char **env = NULL;
                unsigned line;

                (void)envfile_parse(text, &env, &line);
                strv_free(env);
                break;
        }
        case 5: {
                SystemCheckReport r = {};

                half = text + strlen(text) / 2;
                if (system_check_parse(which >> 4, text, half, &r) == 0)
                        system_check_report_done(&r);
                break;
        }
        case 6: {
                MigrationsReport r = {};

                if (migrations_parse(which >> 4, "nautobot_contract_models", text, text, &r) == 0)
                        migrations_report_done(&r);
                break;
        }
        case 8: {
                StatusReport *st = NULL;
                char *error = NULL;

                if (status_parse(text, strlen(text), &st, &error) == 0) {
                        (void)status_app_version(st, "nautobot_contract_models");
                        status_report_free(st);
                }
                free(error);
                break;
        }
        case 7: {
                char *sep = strchr(text, '\n');
                int r;

                if (sep) {
                        VersionRequirement req = {};

                        *sep = 0;
                        (void)version_compare(text, sep + 1, &r);
                        (void)version_change(text, sep + 1);
                        if (version_requirement_parse(text, &req) == 0) {
                                (void)version_requirement_met(&req, sep + 1);
                                version_requirement_done(&req);
                        }
                }
                break;
        }
        case 9: {
                Config *c = NULL;
                char *error = NULL;

                if (config_new(&c) < 0)
                        break;
                if (write_input(&scratch_config, data + 1, size - 1) &&
                    config_parse_file(c, scratch_config, &error) == 0) {
                        free(error);
                        error = NULL;
                        /* Not derived: that globs the file system with the input's path. */
                        if (!c->site_packages)
                                (void)free_and_strdup(&c->site_packages, "/nonexistent");
                        if (config_finalize(c, &error) == 0) {
                                FILE *f = fopen("/dev/null", "we");

                                if (f) {
                                        (void)config_dump(c, f);
                                        fclose(f);
                                }
                        }
                }
                free(error);
                config_free(c);
                break;
        }
        case 10: {
                PackageState *st = NULL;
                char *error = NULL;

                if (write_input(&scratch_state, data + 1, size - 1) &&
                    state_load(scratch, "nautobot-contract-models", &st, &error) == 0)
                        package_state_free(st);
                free(error);
                break;
        }
        case 11: {
                ProbeReport *p = NULL;
                char *error = NULL;

                if (probe_report_parse(text, strlen(text), &p, &error) == 0) {
                        (void)probe_report_has_job(p, "nautobot_contract_models.jobs",
                                                   "RenewalCheckJob");
                        /* Every app answered, found by its label. */
                        for (size_t i = 0; i < p->n_answers; i++)
                                if (probe_report_app(p, p->answers[i].label) != &p->answers[i])
                                        abort();
                        (void)probe_report_app(p, "nautobot_contract_models");
                        probe_report_free(p);
                }
                free(error);
                break;
        }
        case 12: {
                Profile *p = NULL;
                char *error = NULL, *rollback = NULL, *values[] = {text, NULL, text};

                if (profile_parse(text, "fuzz.conf", NULL, &p, &error) == 0) {
                        for (size_t i = 0; i < p->n_findings; i++)
                                free(profile_finding_format(&p->findings[i], values, 3));
                        if (profile_rollback_text(p, &rollback) == 0)
                                free(rollback);
                        profile_free(p);
                }
                free(error);
                break;
        }
        }
        return 0;
}
