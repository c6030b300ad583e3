/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl: asks what nautobot-verifyd verified, and starts a
 * verification. This file owns the command line and the exit code;
 * ctl-status.c (through ctl-state.c) the state directory and systemd,
 * ctl-runs.c the journal (through ctl-journal.c), ctl-verify.c starting the
 * check unit and following it, ctl-setup.c the first configuration,
 * ctl-rollback.c what a rollback drops (read-only). Only verify
 * (its request for a forced run) and setup (the account, the configuration) write
 * or start anything.
 */
#include <getopt.h>
#include <locale.h>
#include <stdio.h>

#include "ctl.h"
#include "metadata.h"

#define DEFAULT_CONFIG     "/etc/nautobot-verifyd/nautobot-verifyd.conf"
#define LINES_MAX          1000
#define VERIFY_TIMEOUT     (15 * 60 * USEC_PER_SEC)
#define VERIFY_TIMEOUT_MAX (24 * 3600 * USEC_PER_SEC)

#ifndef NVD_DAEMON_PATH
#define NVD_DAEMON_PATH "/usr/bin/nautobot-verifyd"
#endif

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
               "\n"
               "Options:\n"
               "  -c --config=PATH         configuration (default " DEFAULT_CONFIG ")\n"
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

static bool instance_name_ok(const char *name)
{
        size_t n = strlen(name);

        return n > 0 && n <= 64 && name[0] != '.' &&
               strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.") ==
                       n;
}

int main(int argc, char *argv[])
{
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
        _cleanup_strv_free_ char **files = NULL;
        CtlOptions o = {
                .config_path = DEFAULT_CONFIG,
                .timeout_usec = VERIFY_TIMEOUT,
                .daemon_path = NVD_DAEMON_PATH,
        };
        const char *verb, *since = NULL;
        bool timeout_given = false, daemon_given = false;
        _cleanup_free_ char *instance_config = NULL;
        bool nagios = false;
        size_t n_args;
        int c, r;

        /* Names and escapes follow the locale's character set; numbers stay "6.2". */
        setlocale(LC_CTYPE, "");
        for (int i = 1; i < argc; i++)
                if (streq(argv[i], "--nagios"))
                        nagios = true;

        opterr = 0;
        while ((c = getopt_long(argc, argv, ":c:n:D:lh", options, NULL)) >= 0)
                switch (c) {
                case 'c':
                        o.config_path = optarg;
                        o.config_given = true;
                        break;
                case ARG_STATE_DIRECTORY:
                        o.state_directory = optarg;
                        break;
                case ARG_INSTANCE:
                        if (!instance_name_ok(optarg))
                                return usage_error(
                                        nagios,
                                        "'%s' is not an instance name (1-64 letters, digits, \"_\", \"-\" or \".\", not starting with \".\")",
                                        optarg);
                        o.instance = optarg;
                        break;
                case ARG_PACKAGE:
                        if (isempty(optarg) || strlen(optarg) > 256)
                                return usage_error(nagios, "'%s' is not a package name", optarg);
                        o.package = optarg;
                        break;
                case ARG_LAST:
                        o.last = true;
                        break;
                case ARG_EVIDENCE:
                        o.evidence = true;
                        break;
                case ARG_SINCE:
                        since = optarg;
                        break;
                case 'n': {
                        char *end;
                        unsigned long v;

                        errno = 0;
                        v = strtoul(optarg, &end, 10);
                        if (errno || end == optarg || *end || v == 0 || v > LINES_MAX)
                                return usage_error(nagios,
                                                   "--lines wants a number from 1 to %d, not '%s'",
                                                   LINES_MAX, optarg);
                        o.lines = (unsigned)v;
                        break;
                }
                case ARG_NAGIOS:
                        o.nagios = true;
                        break;
                case ARG_JSON:
                        o.json = true;
                        break;
                case 'D':
                        o.journal_directory = optarg;
                        break;
                case ARG_FILE:
                        if (strv_extend(&files, optarg) < 0) {
                                fprintf(stderr, "Out of memory\n");
                                return EX_OSERR;
                        }
                        break;
                case 'l':
                        o.full = true;
                        break;
                case ARG_WAIT:
                        o.wait = true;
                        break;
                case ARG_TIMEOUT:
                        if (parse_duration(optarg, &o.timeout_usec) < 0 || o.timeout_usec == 0 ||
                            o.timeout_usec > VERIFY_TIMEOUT_MAX)
                                return usage_error(
                                        nagios,
                                        "--timeout wants a duration from 1s to 24h (\"90s\", \"30min\", \"1h\"), not '%s'",
                                        optarg);
                        timeout_given = true;
                        break;
                case ARG_DAEMON:
                        if (optarg[0] != '/')
                                return usage_error(nagios,
                                                   "--daemon wants an absolute path, not '%s'",
                                                   optarg);
                        o.daemon_path = optarg;
                        daemon_given = true;
                        break;
                case ARG_SERVER:
                        if (optarg[0] != '/')
                                return usage_error(nagios,
                                                   "--server wants an absolute path, not '%s'",
                                                   optarg);
                        o.setup_server = optarg;
                        break;
                case ARG_URL:
                        o.setup_url = optarg;
                        break;
                case ARG_FORCE:
                        o.force = true;
                        break;
                case ARG_FROM:
                        o.from = optarg;
                        break;
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("nautobot-verifyctl %s\n", PROJECT_VERSION);
                        return 0;
                case ':':
                        return usage_error(nagios, "Option '%s' needs a value", argv[optind - 1]);
                default:
                        return usage_error(nagios, "Unknown option '%s'", argv[optind - 1]);
                }
        o.journal_files = files;

        if (optind >= argc)
                return usage_error(
                        nagios,
                        "Give a command: status, show, history, diff, verify, setup or rollback");
        verb = argv[optind];
        n_args = (size_t)(argc - optind - 1);
        if (o.journal_directory && o.journal_files)
                return usage_error(nagios, "--directory and --file exclude each other");
        if (o.json && o.nagios)
                return usage_error(nagios, "--json and --nagios exclude each other");
        if (o.nagios && !streq(verb, "status"))
                return usage_error(nagios, "--nagios goes with status");
        if (o.last && !streq(verb, "show"))
                return usage_error(nagios, "--last goes with show");
        if (o.evidence && !streq(verb, "show") && !streq(verb, "diff") &&
            !(streq(verb, "verify") && o.json))
                return usage_error(nagios, "--evidence goes with show, diff and verify --json");
        if ((since || o.lines) && !streq(verb, "history"))
                return usage_error(nagios, "--since and --lines go with history");
        if (o.state_directory && !streq(verb, "status"))
                return usage_error(nagios, "--state-directory goes with status");
        if ((o.wait || timeout_given || daemon_given) && !streq(verb, "verify"))
                return usage_error(nagios, "--wait, --timeout and --daemon go with verify");
        if ((o.setup_server || o.setup_url || o.force) && !streq(verb, "setup"))
                return usage_error(nagios, "--server, --url and --force go with setup");
        if (streq(verb, "setup") && (o.json || o.journal_directory || o.journal_files))
                return usage_error(nagios, "setup writes this host's configuration: not with "
                                           "--json, --directory or --file");
        if (timeout_given && !o.wait)
                return usage_error(nagios, "--timeout goes with verify --wait");
        if (streq(verb, "verify") && (o.journal_directory || o.journal_files))
                return usage_error(
                        nagios,
                        "verify follows this host's journal: not with --directory or --file");
        if (o.from && !streq(verb, "rollback"))
                return usage_error(nagios, "--from goes with rollback");
        if (since && ctl_parse_time(since, &o.since_usec) < 0)
                return usage_error(
                        nagios,
                        "'%s' is not a time (\"2026-05-20 14:00\", \"today\", \"-2h\", \"3d ago\", \"@SECONDS\")",
                        since);
        ctl_detect_terminal(&o);
        if (o.json || o.nagios)
                o.color = false, o.columns = 0;

        if (streq(verb, "status")) {
                if (n_args > 0)
                        return usage_error(nagios, "status takes no argument ('%s')",
                                           argv[optind + 1]);
                return ctl_status(&o);
        }
        if (streq(verb, "show")) {
                if (n_args > 1 || (o.last && n_args > 0))
                        return usage_error(nagios, "show wants one run id, or --last");
                /* No run id: the newest, as --last. */
                o.last = o.last || n_args == 0;
                return ctl_show(&o, o.last ? NULL : argv[optind + 1]);
        }
        if (streq(verb, "history")) {
                if (n_args > 0)
                        return usage_error(nagios, "history takes no argument ('%s')",
                                           argv[optind + 1]);
                return ctl_history(&o);
        }
        if (streq(verb, "diff")) {
                if (n_args != 2)
                        return usage_error(nagios, "diff wants two run ids");
                r = ctl_diff(&o, argv[optind + 1], argv[optind + 2]);
                return r;
        }
        if (streq(verb, "verify")) {
                if (n_args > 0)
                        return usage_error(nagios, "verify takes no argument ('%s')",
                                           argv[optind + 1]);
                return ctl_verify(&o);
        }
        if (streq(verb, "rollback")) {
                const char *version = n_args == 2 ? argv[optind + 2] : NULL;

                if (n_args != 2)
                        return usage_error(nagios, "rollback wants a package and a version");
                if (strlen(argv[optind + 1]) > 256 || !python_name_valid(argv[optind + 1]))
                        return usage_error(nagios, "'%s' is not a package name", argv[optind + 1]);
                /* A PEP 440 version's characters: it goes into the commands printed. */
                if (isempty(version) || strlen(version) > 64 ||
                    strspn(version,
                           "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-_!") !=
                            strlen(version))
                        return usage_error(nagios, "'%s' is not a version", version);
                return ctl_rollback(&o, argv[optind + 1], version);
        }
        if (streq(verb, "setup")) {
                if (n_args > 0)
                        return usage_error(nagios, "setup takes no argument ('%s')",
                                           argv[optind + 1]);
                /* An instance's configuration is where its units read it (as verify has it). */
                if (o.instance && !o.config_given) {
                        instance_config = strjoin_printf(
                                "/etc/nautobot-verifyd/%s/nautobot-verifyd.conf", o.instance);
                        if (!instance_config) {
                                fprintf(stderr, "Out of memory\n");
                                return EX_OSERR;
                        }
                        o.config_path = instance_config;
                }
                return ctl_setup(&o);
        }
        return usage_error(
                nagios,
                "Unknown command '%s' (status, show, history, diff, verify, setup, rollback)",
                verb);
}
