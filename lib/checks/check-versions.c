/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Per-package expectations: every watched package must meet the version
 * requirements configured for it ([watch] expect=). The default is what the
 * reference app needs of Nautobot itself ("nautobot >= 3.1.0, nautobot < 4":
 * its migrations depend on 3.1.0's), so an upgrade or rollback of Nautobot that
 * leaves the app unsupported is a failure, not a surprise at the next restart.
 */
#include "check.h"
#include "pkgwatch.h"
#include "version.h"

int check_versions_start(Check *c)
{
        const Config *cfg = c->env->config;
        CheckResult *res = c->result;
        _cleanup_strv_free_ char **broken = NULL;
        Buf ev;
        int r;

        if (!cfg->expectations) {
                check_result_set(res, CHECK_SKIPPED,
                                 "no version requirements configured ([watch] expect=)");
                check_complete(c);
                return 0;
        }
        buf_init(&ev, RESULT_EVIDENCE_MAX);
        buf_printf(&ev, "in %s:\n", strempty(cfg->site_packages));
        STRV_FOREACH (e, cfg->expectations) {
                _cleanup_free_ char *version = NULL, *problem = NULL, *line = NULL;
                VersionRequirement req = {};
                bool editable, met = false;

                r = version_requirement_parse(*e, &req);
                if (r < 0) { /* the configuration parser let it through: cannot happen */
                        buf_done(&ev);
                        return r;
                }
                r = pkg_probe(cfg->site_packages ?: "/nonexistent", req.package, &version,
                              &editable, &problem);
                if (r == -ENOMEM) { /* not the dist-info's fault: the check could not run */
                        version_requirement_done(&req);
                        buf_done(&ev);
                        return r;
                }
                if (r < 0)
                        line = strjoin_printf("%s: cannot read its dist-info: %s", *e,
                                              read_file_error_to_string(r));
                else if (problem)
                        line = strjoin_printf("%s: %s", *e, problem);
                else if (!version)
                        line = strjoin_printf("%s: not installed", *e);
                else if ((r = version_requirement_met(&req, version)) <= 0)
                        line = strjoin_printf("%s: %s %s%s", *e, req.package, version,
                                              r < 0 ? " is not a PEP 440 version"
                                                    : " does not meet it");
                else
                        met = true;
                buf_printf(&ev, "  %s: %s %s\n", *e, req.package, version ?: "(not installed)");
                version_requirement_done(&req);
                /* An unmet one whose line could not be written is -ENOMEM, never dropped. */
                if (!met && (r = strv_push(&broken, TAKE_PTR(line))) < 0) {
                        buf_done(&ev);
                        return r;
                }
        }
        check_result_set_evidence(res, strempty(ev.data));
        buf_done(&ev);

        if (broken) {
                _cleanup_free_ char *b = strv_join(broken, "; ");

                check_result_set(res, CHECK_FAIL, "%zu of %zu version requirements are not met: %s",
                                 strv_length(broken), strv_length(cfg->expectations), strempty(b));
        } else
                check_result_set(res, CHECK_PASS, "all %zu version requirements are met",
                                 strv_length(cfg->expectations));
        check_complete(c);
        return 0;
}
