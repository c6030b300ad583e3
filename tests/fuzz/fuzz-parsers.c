/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libFuzzer entry for every parser that reads what a server, a package or an
 * admin wrote: the first byte picks the parser, the rest is its input. Run by
 * tests/run for a bounded time on a clang build (-Dfuzz=true), seeded with
 * the fixtures saved from the live server.
 */
#include <stdint.h>

#include "envfile.h"
#include "metadata.h"
#include "parse-html.h"
#include "parse-jobs.h"
#include "parse-output.h"
#include "parse-status.h"
#include "version.h"

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

        switch (which % 9) {
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
        }
        return 0;
}
