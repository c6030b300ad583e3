/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyd: verifies a Nautobot server after an app upgrade and
 * reports to the journal and sd_notify. This file owns the command line, the
 * exit code; manager.c the event loop and signals; lib/ owns the checks.
 */
#include <getopt.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sysexits.h>

#include "log.h"
#include "config.h"
#include "manager.h"
#include "privilege.h"
#include "runas.h"

static void help(void)
{
        _cleanup_free_ char *names = check_names_join(", ");

        printf("Usage: nautobot-verifyd [OPTIONS] --once|--if-changed|--watch\n"
               "\n"
               "Verifies a Nautobot server after an app upgrade, and follows an upgrade through\n"
               "the guide's steps first. Reports to the journal and sd_notify.\n"
               "\n"
               "Checks (each run's, in the order of its report):\n"
               "  %s\n"
               "\n"
               "  -c --config=PATH    configuration file (default " CONFIG_DEFAULT_PATH ")\n"
               "     --once           verify now, report, exit\n"
               "     --if-changed     verify only if a watched package changed since the\n"
               "                      last verification (for .path/.timer activation), exit\n"
               "     --force          with --if-changed: verify even when nothing changed\n"
               "     --watch          keep running; verify once per settled version change\n"
               "     --check-config   validate the configuration, print it, exit\n"
               "     --instance=NAME  which Nautobot of several on this host (overrides\n"
               "                      [nautobot] instance=; keys the state)\n"
               "  -q --quiet          no table on standard output\n"
               "  -h --help           this text\n"
               "     --version        the version\n"
               "\n"
               "Exit status: 0 all checks passed (or nothing changed), 1 a check failed,\n"
               "2 verification incomplete (a check could not run or was skipped),\n"
               "64 bad command line, 71 system error, 78 bad configuration.\n",
               strempty(names));
}

/*
 * Started as root: reads the secrets, makes the state directory ready and
 * becomes the account Nautobot runs as, for good (privilege.h), before the
 * manager touches anything that account controls. user=root keeps root, as
 * the admin said. Returns an exit status, or -1 to go on.
 */
static int drop_root(Config *c, SecretSet **ret_secrets, char **ret_state_refused)
{
        _cleanup_(run_as_freep) RunAs *ra = NULL;
        _cleanup_(secret_set_freep) SecretSet *secrets = NULL;
        _cleanup_free_ char *error = NULL;
        int r;

        r = run_as_resolve(c->server, c->user, 0, &ra, &error);
        if (r == -EPERM) {
                /* Nothing was verified: exit status 2, as for an incomplete run. */
                log_error("Not verified: %s\n", error);
                return verdict_exit_status(VERDICT_INCOMPLETE);
        }
        if (r < 0) {
                log_error("Failed to prepare to run as another account: %s\n", strerror(-r));
                return EX_OSERR;
        }
        /* A state directory that cannot be used is reported, and the server verified all the
         * same (the verdict matters more than its record); nothing is read or written there. */
        r = privilege_prepare_state_directory(c->state_directory, ra->user.uid, ra->user.gid,
                                              ret_state_refused);
        if (r < 0 && r != -EPERM) {
                log_error("Failed to prepare the state directory: %s\n", strerror(-r));
                return EX_OSERR;
        }
        if (ra->user.uid == 0)
                return -1;
        r = secret_set_read(c, &secrets);
        if (r >= 0)
                r = free_and_strdup(&c->dropped_note, ra->note);
        if (r < 0) {
                log_error("Out of memory\n");
                return EX_OSERR;
        }
        r = privilege_drop(ra->user.uid, ra->user.gid, ra->user.groups, ra->user.n_groups);
        if (r < 0) {
                log_error("Failed to become user %s: %s\n", ra->name, strerror(-r));
                return EX_OSERR;
        }
        c->secrets = secrets;
        *ret_secrets = TAKE_PTR(secrets);
        return -1;
}

/* The command line, as main() acts on it. */
typedef struct Args {
        const char *config_path;
        const char *instance; /* --instance=, or NULL */
        Mode mode;
        bool check_config;
        bool force;
        bool print;
} Args;

/* 1: go on with 'a'; 0: done (--help, --version); -EINVAL: a usage error, said. */
static int parse_argv(int argc, char *argv[], Args *a)
{
        enum {
                ARG_ONCE = 0x100,
                ARG_IF_CHANGED,
                ARG_FORCE,
                ARG_WATCH,
                ARG_CHECK_CONFIG,
                ARG_VERSION,
                ARG_INSTANCE,
        };
        static const struct option options[] = {
                {"config", required_argument, NULL, 'c'},
                {"once", no_argument, NULL, ARG_ONCE},
                {"if-changed", no_argument, NULL, ARG_IF_CHANGED},
                {"force", no_argument, NULL, ARG_FORCE},
                {"watch", no_argument, NULL, ARG_WATCH},
                {"check-config", no_argument, NULL, ARG_CHECK_CONFIG},
                {"instance", required_argument, NULL, ARG_INSTANCE},
                {"quiet", no_argument, NULL, 'q'},
                {"help", no_argument, NULL, 'h'},
                {"version", no_argument, NULL, ARG_VERSION},
                {},
        };
        int modes = 0, c;

        *a = (Args){.config_path = CONFIG_DEFAULT_PATH, .mode = MODE_ONCE, .print = true};
        while ((c = getopt_long(argc, argv, "c:qh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        a->config_path = optarg;
                        break;
                case ARG_ONCE:
                        a->mode = MODE_ONCE;
                        modes++;
                        break;
                case ARG_IF_CHANGED:
                        a->mode = MODE_IF_CHANGED;
                        modes++;
                        break;
                case ARG_WATCH:
                        a->mode = MODE_WATCH;
                        modes++;
                        break;
                case ARG_FORCE:
                        a->force = true;
                        break;
                case ARG_CHECK_CONFIG:
                        a->check_config = true;
                        break;
                case ARG_INSTANCE:
                        a->instance = optarg;
                        break;
                case 'q':
                        a->print = false;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("nautobot-verifyd %s\n", PROJECT_VERSION);
                        return 0;
                default:
                        return -EINVAL;
                }
        if (optind < argc) {
                log_error("Unexpected argument '%s'; see --help.\n", argv[optind]);
                return -EINVAL;
        }
        if (modes > 1 || (modes == 0 && !a->check_config)) {
                log_error(
                        "Give exactly one of --once, --if-changed, --watch (or --check-config); see --help.\n");
                return -EINVAL;
        }
        if (a->force && a->mode != MODE_IF_CHANGED) {
                log_error("--force goes with --if-changed; see --help.\n");
                return -EINVAL;
        }

        return 1;
}

/* A probe that is not there would only be found out as "Django said nothing". */
static int check_probe(const Config *config)
{
        struct stat st = {};
        int r;

        r = !config->use_probe             ? 0
            : stat(config->probe, &st) < 0 ? -errno
            : !S_ISREG(st.st_mode)         ? -EBADFD
                                           : 0;
        if (r < 0)
                log_error(
                        "Invalid configuration: [nautobot] probe=%s: %s: the Django probe nautobot-verifyd runs is missing (a packaging mistake, or a binary run from its build tree: set probe= to lib/checks/probe/nautobot-verifyd-probe.py of the source)\n",
                        config->probe, read_file_error_to_string(r));
        return r;
}

/* Hands the configuration (taken) and what root prepared to the manager, and runs it. */
static int run_manager(const Args *a, Config *config, SecretSet **secrets, char **state_refused)
{
        _cleanup_(manager_freep) Manager *m = NULL;
        int r;

        r = manager_new(&m, a->config_path, config, a->mode);
        if (r < 0) {
                log_error("Out of memory\n");
                return EX_OSERR;
        }
        m->secrets = TAKE_PTR(*secrets);
        m->state_refused = TAKE_PTR(*state_refused);
        if (a->instance && !(m->instance = strdup(a->instance))) {
                log_error("Out of memory\n");
                return EX_OSERR;
        }
        m->force = a->force;
        m->print = a->print && a->mode != MODE_WATCH;
        return manager_run(m);
}

int main(int argc, char *argv[])
{
        _cleanup_(secret_set_freep) SecretSet *secrets = NULL;
        _cleanup_free_ char *state_refused = NULL, *error = NULL;
        Config *config = NULL;
        Args a;
        int r;

        r = parse_argv(argc, argv, &a);
        if (r <= 0)
                return r < 0 ? EX_USAGE : 0;

        r = config_load(a.config_path, a.instance, 0, &config, &error);
        if (r < 0) {
                log_error("Invalid configuration: %s\n", error ?: strerror(-r));
                return r == -ENOMEM ? EX_OSERR : EX_CONFIG;
        }
        if (check_probe(config) < 0) {
                config_free(config);
                return EX_CONFIG;
        }
        if (a.check_config) {
                r = config_dump(config, stdout);
                config_free(config);
                return r < 0 ? EX_OSERR : 0;
        }
        if (geteuid() == 0) {
                r = drop_root(config, &secrets, &state_refused);
                if (r >= 0) {
                        config_free(config);
                        return r;
                }
        }
        return run_manager(&a, config, &secrets, &state_refused);
}
