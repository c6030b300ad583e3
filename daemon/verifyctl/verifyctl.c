/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl: asks what nautobot-verifyd verified, and starts a
 * verification. This file owns the command line and the exit code: argv is
 * parsed once (parse_argv() fills Args), the options are checked against each
 * other and the command (check_args()), and the command is looked up in one
 * table (verbs[]: name, how many arguments, function). The commands live in
 * ctl-status.c (through ctl-state.c: the state directory and systemd),
 * ctl-runs.c (the journal, through ctl-journal.c), ctl-verify.c and
 * ctl-verify-bus.c (starting the check unit and following it), ctl-setup.c and
 * ctl-setup-unit.c (the first configuration) and ctl-rollback.c (what a
 * rollback drops, read-only). Only verify (its request for a forced run) and
 * setup (the account, the configuration) write or start anything.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>

#include "check.h"
#include "config.h"
#include "ctl.h"
#include "instance-name.h"
#include "metadata.h"

#define LINES_MAX          1000
#define VERIFY_TIMEOUT     (15 * 60 * USEC_PER_SEC)
#define VERIFY_TIMEOUT_MAX (24 * 3600 * USEC_PER_SEC)

#ifndef NVD_DAEMON_PATH
#define NVD_DAEMON_PATH "/usr/bin/nautobot-verifyd"
#endif

/* What parse_argv() and its helpers return when the command is to run; any other value is the
 * exit status. */
#define ARGS_GO_ON (-1)

/*
 * --help's "Checks" block: a heading line, then exactly one line of every check
 * in the daemon's table (config.h's CheckId, in its order), two spaces, the
 * names separated by ", ":
 *   "  versions, system, migrations, database, static, restarts, running, jobs, panels"
 * Made from the table, so it cannot miss a check.
 */
static void help_checks(void)
{
        _cleanup_free_ char *names = check_names_join(", ");

        printf("Checks (each run's, in the order of its report):\n  %s\n\n", strempty(names));
}

static void help(void)
{
        printf("Usage: nautobot-verifyctl [OPTIONS] COMMAND\n"
               "\n"
               "Shows what nautobot-verifyd verified: the state it keeps and its runs in the\n"
               "journal; starts a verification.\n"
               "\n"
               "Commands:\n"
               "  status               per instance and package: installed and verified release,\n"
               "                       the last verdict and when, the daemon's units\n"
               "  show [RUN-ID|--last] one run's report: each check, result, reason, findings\n"
               "                       (no run id: the newest)\n"
               "  history              runs and their verdicts, newest first\n"
               "  diff RUN-ID RUN-ID   what changed between two runs: versions, checks, findings,\n"
               "                       what the checks saw (Jobs, panels)\n"
               "  verify               verify now, even if nothing changed: systemd starts\n"
               "                       nautobot-verifyd-check[@NAME].service; without systemd\n"
               "                       the daemon verifies once, in this process (--json:\n"
               "                       its text on stderr, then one document on stdout)\n"
               "  setup                as root: finds Nautobot (nautobot.service), creates or\n"
               "                       updates the verifier's account there (not superuser,\n"
               "                       view only, an API token) and writes the configuration\n"
               "                       and secrets that are absent\n"
               "  rollback PACKAGE VERSION\n"
               "                       what rolling PACKAGE back to VERSION means here, read-only:\n"
               "                       the target migration, what migrating back drops (rows\n"
               "                       counted), and the upgrade guide's commands in order\n"
               "\n");
        help_checks();
        printf("Options:\n"
               "  -c --config=PATH         configuration (default " CONFIG_DEFAULT_PATH ")\n"
               "     --state-directory=DIR status: read the state here, not where the\n"
               "                           configuration says\n"
               "     --instance=NAME       only this Nautobot (status, show --last, history);\n"
               "                           verify: this instance's unit and configuration\n"
               "     --package=NAME        only this app (show --last, history; also --app)\n"
               "     --last                show: the newest finished run\n"
               "     --evidence            show, verify --json: each check's evidence too; diff:\n"
               "                           the lines of evidence (Jobs, panels, ...) added and\n"
               "                           removed\n"
               "     --since=TIME          history: runs since TIME (\"2026-05-20 14:00\", \"today\",\n"
               "                           \"yesterday\", \"-2h\", \"3d ago\", \"@1716200000\")\n"
               "  -n --lines=N             history: at most N runs (default and limit %d)\n"
               "     --nagios              status: one Monitoring Plugins line with perfdata;\n"
               "                           exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN\n"
               "     --json                JSON, schema \"" CTL_SCHEMA "\" (see README.md)\n"
               "  -D --directory=DIR       read the journal files in DIR\n"
               "     --file=PATH           read this journal file (may be repeated)\n"
               "  -l --full                do not cut lines to the terminal's width\n"
               "     --wait                verify: follow the run, each check as it ends, and\n"
               "                           exit with its verdict\n"
               "     --timeout=DURATION    verify --wait: give up waiting after DURATION\n"
               "                           (default 15min; \"90s\", \"30min\", \"1h\")\n"
               "     --daemon=PATH         verify without systemd: run this daemon (default\n"
               "                           " NVD_DAEMON_PATH ")\n"
               "     --server=PATH         setup: Nautobot's nautobot-server (default: from\n"
               "                           nautobot.service's ExecStart=)\n"
               "     --url=URL             setup: Nautobot's URL (default: from nautobot.service)\n"
               "     --force               setup: replace the configuration (its difference shown\n"
               "                           first) and the secrets\n"
               "     --from=PATH           rollback: VERSION's files (its wheel, or a directory\n"
               "                           holding <app>/migrations/), for its target migration\n"
               "                           when no verification of VERSION passed here\n"
               "  -h --help                this text\n"
               "     --version             the version\n"
               "\n"
               "Colour only on a terminal, and never with NO_COLOR set.\n"
               "Exit status: status, show, diff and verify --wait follow the (second, new)\n"
               "run's verdict as the daemon does: 0 passed, 1 a check failed, 2 incomplete,\n"
               "unknown or not verified yet (verify: no verdict, or not within --timeout);\n"
               "history and verify 0. 64 bad command line, 66 no such run in the journal,\n"
               "71 system error (verify: systemd refused to start the unit), 78 bad\n"
               "configuration.\n",
               LINES_MAX);
}

/* The Monitoring Plugins guidelines want UNKNOWN for a bad command line too. */
static int usage_error(bool nagios, const char *fmt, ...) _printf_(2, 3);
static int usage_error(bool nagios, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                msg = NULL;
        va_end(ap);
        fprintf(stderr, "%s; see --help.\n", strempty(msg));
        if (nagios) {
                printf("NAUTOBOT-VERIFYD UNKNOWN - %s\n", strempty(msg));
                return NAGIOS_UNKNOWN;
        }
        return EX_USAGE;
}

static int log_oom(void)
{
        fprintf(stderr, "Out of memory\n");
        return EX_OSERR;
}

/* The command line, parsed once: the command's CtlOptions, and what only checking it needs. */
typedef struct Args {
        CtlOptions o;
        bool nagios; /* --nagios anywhere on the line: an error before it answers so too */
        const char *since;
        bool timeout_given;
        bool daemon_given;
        char **files;          /* --file (o.journal_files) */
        char *instance_config; /* setup --instance: where that instance's units read it */
        const char *verb;
        char **args; /* the command's arguments */
        size_t n_args;
} Args;

static void args_done(Args *a)
{
        strv_free(a->files);
        free(a->instance_config);
}

enum {
        ARG_STATE_DIRECTORY = 0x100,
        ARG_INSTANCE,
        ARG_PACKAGE,
        ARG_LAST,
        ARG_EVIDENCE,
        ARG_SINCE,
        ARG_NAGIOS,
        ARG_JSON,
        ARG_FILE,
        ARG_VERSION,
        ARG_WAIT,
        ARG_TIMEOUT,
        ARG_DAEMON,
        ARG_SERVER,
        ARG_URL,
        ARG_FORCE,
        ARG_FROM,
};

static const struct option options[] = {
        {"config", required_argument, NULL, 'c'},
        {"state-directory", required_argument, NULL, ARG_STATE_DIRECTORY},
        {"instance", required_argument, NULL, ARG_INSTANCE},
        {"package", required_argument, NULL, ARG_PACKAGE},
        {"app", required_argument, NULL, ARG_PACKAGE},
        {"last", no_argument, NULL, ARG_LAST},
        {"evidence", no_argument, NULL, ARG_EVIDENCE},
        {"since", required_argument, NULL, ARG_SINCE},
        {"lines", required_argument, NULL, 'n'},
        {"nagios", no_argument, NULL, ARG_NAGIOS},
        {"json", no_argument, NULL, ARG_JSON},
        {"directory", required_argument, NULL, 'D'},
        {"file", required_argument, NULL, ARG_FILE},
        {"full", no_argument, NULL, 'l'},
        {"wait", no_argument, NULL, ARG_WAIT},
        {"timeout", required_argument, NULL, ARG_TIMEOUT},
        {"daemon", required_argument, NULL, ARG_DAEMON},
        {"server", required_argument, NULL, ARG_SERVER},
        {"url", required_argument, NULL, ARG_URL},
        {"force", no_argument, NULL, ARG_FORCE},
        {"from", required_argument, NULL, ARG_FROM},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, ARG_VERSION},
        {},
};

/* The options whose value is checked as it is read: ARGS_GO_ON, or the exit status. */
static int parse_value(Args *a, int c, const char *arg)
{
        CtlOptions *o = &a->o;
        unsigned long v;
        char *end;

        switch (c) {
        case ARG_INSTANCE:
                if (!instance_name_valid(arg))
                        return usage_error(a->nagios,
                                           "'%s' is not an instance name (" INSTANCE_NAME_RULE ")",
                                           arg);
                o->instance = arg;
                break;
        case ARG_PACKAGE:
                if (isempty(arg) || strlen(arg) > 256)
                        return usage_error(a->nagios, "'%s' is not a package name", arg);
                o->package = arg;
                break;
        case 'n':
                errno = 0;
                v = strtoul(arg, &end, 10);
                if (errno || end == arg || *end || v == 0 || v > LINES_MAX)
                        return usage_error(a->nagios,
                                           "--lines wants a number from 1 to %d, not '%s'",
                                           LINES_MAX, arg);
                o->lines = (unsigned)v;
                break;
        case ARG_FILE:
                if (strv_extend(&a->files, arg) < 0)
                        return log_oom();
                break;
        case ARG_TIMEOUT:
                if (parse_duration(arg, &o->timeout_usec) < 0 || o->timeout_usec == 0 ||
                    o->timeout_usec > VERIFY_TIMEOUT_MAX)
                        return usage_error(
                                a->nagios,
                                "--timeout wants a duration from 1s to 24h (\"90s\", \"30min\", \"1h\"), not '%s'",
                                arg);
                a->timeout_given = true;
                break;
        case ARG_DAEMON:
                if (arg[0] != '/')
                        return usage_error(a->nagios, "--daemon wants an absolute path, not '%s'",
                                           arg);
                o->daemon_path = arg;
                a->daemon_given = true;
                break;
        case ARG_SERVER:
                if (arg[0] != '/')
                        return usage_error(a->nagios, "--server wants an absolute path, not '%s'",
                                           arg);
                o->setup_server = arg;
                break;
        }
        return ARGS_GO_ON;
}

/* One option: ARGS_GO_ON, or the exit status (--help, --version, a bad option or value). */
static int parse_option(Args *a, int c, char *argv[])
{
        CtlOptions *o = &a->o;

        switch (c) {
        case 'c':
                o->config_path = optarg;
                o->config_given = true;
                break;
        case ARG_STATE_DIRECTORY:
                o->state_directory = optarg;
                break;
        case ARG_LAST:
                o->last = true;
                break;
        case ARG_EVIDENCE:
                o->evidence = true;
                break;
        case ARG_SINCE:
                a->since = optarg;
                break;
        case ARG_NAGIOS:
                o->nagios = true;
                break;
        case ARG_JSON:
                o->json = true;
                break;
        case 'D':
                o->journal_directory = optarg;
                break;
        case 'l':
                o->full = true;
                break;
        case ARG_WAIT:
                o->wait = true;
                break;
        case ARG_URL:
                o->setup_url = optarg;
                break;
        case ARG_FORCE:
                o->force = true;
                break;
        case ARG_FROM:
                o->from = optarg;
                break;
        case ARG_INSTANCE:
        case ARG_PACKAGE:
        case 'n':
        case ARG_FILE:
        case ARG_TIMEOUT:
        case ARG_DAEMON:
        case ARG_SERVER:
                return parse_value(a, c, optarg);
        case 'h':
                help();
                return 0;
        case ARG_VERSION:
                printf("nautobot-verifyctl %s\n", PROJECT_VERSION);
                return 0;
        case ':':
                return usage_error(a->nagios, "Option '%s' needs a value", argv[optind - 1]);
        default:
                return usage_error(a->nagios, "Unknown option '%s'", argv[optind - 1]);
        }
        return ARGS_GO_ON;
}

/* The options, then the command and its arguments: ARGS_GO_ON, or the exit status. */
static int parse_argv(Args *a, int argc, char *argv[])
{
        int c, r;

        /* Known before any option is read, so that an error in an earlier one answers as a
         * Monitoring Plugin too. */
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--nagios"))
                        a->nagios = true;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:n:D:lh", options, NULL)) >= 0) {
                r = parse_option(a, c, argv);
                if (r != ARGS_GO_ON)
                        return r;
        }
        a->o.journal_files = a->files;

        if (optind >= argc)
                return usage_error(
                        a->nagios,
                        "Give a command: status, show, history, diff, verify, setup or rollback");
        a->verb = argv[optind];
        a->args = argv + optind + 1;
        a->n_args = (size_t)(argc - optind - 1);
        return ARGS_GO_ON;
}

/* Which options go with which command, and with each other: ARGS_GO_ON, or the exit status. */
static int check_args(Args *a)
{
        CtlOptions *o = &a->o;
        const char *verb = a->verb;
        bool nagios = a->nagios;

        if (o->journal_directory && o->journal_files)
                return usage_error(nagios, "--directory and --file exclude each other");
        if (o->json && o->nagios)
                return usage_error(nagios, "--json and --nagios exclude each other");
        if (o->nagios && !streq(verb, "status"))
                return usage_error(nagios, "--nagios goes with status");
        if (o->last && !streq(verb, "show"))
                return usage_error(nagios, "--last goes with show");
        if (o->evidence && !streq(verb, "show") && !streq(verb, "diff") &&
            !(streq(verb, "verify") && o->json))
                return usage_error(nagios, "--evidence goes with show, diff and verify --json");
        if ((a->since || o->lines) && !streq(verb, "history"))
                return usage_error(nagios, "--since and --lines go with history");
        if (o->state_directory && !streq(verb, "status"))
                return usage_error(nagios, "--state-directory goes with status");
        if ((o->wait || a->timeout_given || a->daemon_given) && !streq(verb, "verify"))
                return usage_error(nagios, "--wait, --timeout and --daemon go with verify");
        if ((o->setup_server || o->setup_url || o->force) && !streq(verb, "setup"))
                return usage_error(nagios, "--server, --url and --force go with setup");
        if (streq(verb, "setup") && (o->json || o->journal_directory || o->journal_files))
                return usage_error(nagios, "setup writes this host's configuration: not with "
                                           "--json, --directory or --file");
        if (a->timeout_given && !o->wait)
                return usage_error(nagios, "--timeout goes with verify --wait");
        if (streq(verb, "verify") && (o->journal_directory || o->journal_files))
                return usage_error(
                        nagios,
                        "verify follows this host's journal: not with --directory or --file");
        if (o->from && !streq(verb, "rollback"))
                return usage_error(nagios, "--from goes with rollback");
        if (a->since && ctl_parse_time(a->since, &o->since_usec) < 0)
                return usage_error(
                        nagios,
                        "'%s' is not a time (\"2026-05-20 14:00\", \"today\", \"-2h\", \"3d ago\", \"@SECONDS\")",
                        a->since);
        return ARGS_GO_ON;
}

/* ---- the commands ---- */

static int verb_status(Args *a)
{
        return ctl_status(&a->o);
}

static int verb_show(Args *a)
{
        if (a->o.last && a->n_args > 0)
                return usage_error(a->nagios, "show wants one run id, or --last");
        /* No run id: the newest, as --last. */
        a->o.last = a->o.last || a->n_args == 0;
        return ctl_show(&a->o, a->o.last ? NULL : a->args[0]);
}

static int verb_history(Args *a)
{
        return ctl_history(&a->o);
}

static int verb_diff(Args *a)
{
        return ctl_diff(&a->o, a->args[0], a->args[1]);
}

static int verb_verify(Args *a)
{
        return ctl_verify(&a->o);
}

static int verb_rollback(Args *a)
{
        const char *package = a->args[0], *version = a->args[1];

        if (strlen(package) > 256 || !python_name_valid(package))
                return usage_error(a->nagios, "'%s' is not a package name", package);
        /* A PEP 440 version's characters: it goes into the commands printed. */
        if (isempty(version) || strlen(version) > 64 ||
            strspn(version,
                   "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-_!") !=
                    strlen(version))
                return usage_error(a->nagios, "'%s' is not a version", version);
        return ctl_rollback(&a->o, package, version);
}

static int verb_setup(Args *a)
{
        CtlOptions *o = &a->o;

        /* An instance's configuration is where its units read it (as verify has it). */
        if (o->instance && !o->config_given) {
                a->instance_config = config_default_path(o->instance);
                if (!a->instance_config)
                        return log_oom();
                o->config_path = a->instance_config;
        }
        return ctl_setup(o);
}

typedef struct Verb {
        const char *name;
        size_t min_args;
        size_t max_args;
        /* Said when the arguments are too few or too many; NULL: "<name> takes no argument". */
        const char *wrong_args;
        int (*run)(Args *a);
} Verb;

static const Verb verbs[] = {
        {"status", 0, 0, NULL, verb_status},
        {"show", 0, 1, "show wants one run id, or --last", verb_show},
        {"history", 0, 0, NULL, verb_history},
        {"diff", 2, 2, "diff wants two run ids", verb_diff},
        {"verify", 0, 0, NULL, verb_verify},
        {"rollback", 2, 2, "rollback wants a package and a version", verb_rollback},
        {"setup", 0, 0, NULL, verb_setup},
};

static int dispatch_verb(Args *a)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const Verb *v = &verbs[i];

                if (!streq(a->verb, v->name))
                        continue;
                if (a->n_args >= v->min_args && a->n_args <= v->max_args)
                        return v->run(a);
                if (v->wrong_args)
                        return usage_error(a->nagios, "%s", v->wrong_args);
                return usage_error(a->nagios, "%s takes no argument ('%s')", v->name, a->args[0]);
        }
        return usage_error(
                a->nagios,
                "Unknown command '%s' (status, show, history, diff, verify, setup, rollback)",
                a->verb);
}

int main(int argc, char *argv[])
{
        _cleanup_(args_done) Args a = {
                .o.config_path = CONFIG_DEFAULT_PATH,
                .o.timeout_usec = VERIFY_TIMEOUT,
                .o.daemon_path = NVD_DAEMON_PATH,
        };
        int r;

        /* Names and escapes follow the locale's character set; numbers stay "6.2". */
        setlocale(LC_CTYPE, "");
        r = parse_argv(&a, argc, argv);
        if (r == ARGS_GO_ON)
                r = check_args(&a);
        if (r != ARGS_GO_ON)
                return r;
        ctl_detect_terminal(&a.o);
        if (a.o.json || a.o.nagios)
                a.o.color = false, a.o.columns = 0;
        return dispatch_verb(&a);
}
