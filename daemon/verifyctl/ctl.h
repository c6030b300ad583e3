/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * nautobot-verifyctl: the admin's side of nautobot-verifyd. What every
 * command shares: the parsed command line, the exit codes, and the output
 * helpers (colour on a terminal only, JSON documents of one versioned schema,
 * times, strings that are safe to print). The commands live in ctl-status.c
 * (status, --nagios; ctl-state.c reads what it says), ctl-runs.c (show,
 * history, diff; ctl-journal.c reads the runs back from the journal, ctl-run.c
 * turns one into a verdict and JSON), ctl-verify.c (verify: the command and
 * the way without systemd; ctl-verify-bus.c starts the check unit and follows
 * it), ctl-setup.c (setup: the account in Nautobot, the configuration and
 * secrets; ctl-setup-unit.c reads nautobot.service) and ctl-rollback.c
 * (rollback: what a rollback to a release drops, its commands).
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sysexits.h>

#include "util.h"

#ifndef MAX
#define MAX(a, b) ((a) > (b) ? (a) : (b))
#endif

/* The JSON documents' "schema"; bump the number on an incompatible change (README.md). */
#define CTL_SCHEMA "nautobot-verifyctl/1"

/* The daemon's exit codes for a verdict, and the errors of the command line. */
enum {
        CTL_EXIT_PASS = 0,
        CTL_EXIT_FAIL = 1,
        CTL_EXIT_INCOMPLETE = 2,         /* incomplete, unknown, not verified yet */
        CTL_EXIT_NOT_FOUND = EX_NOINPUT, /* no such run in the journal */
};

/* Monitoring Plugins' return codes (--nagios). */
enum {
        NAGIOS_OK = 0,
        NAGIOS_WARNING = 1,
        NAGIOS_CRITICAL = 2,
        NAGIOS_UNKNOWN = 3,
};

typedef struct CtlOptions {
        const char *config_path;
        bool config_given; /* -c named it: a missing file is then an error */
        const char *state_directory;
        const char *instance; /* filter (status, show --last, history) */
        const char *package;  /* filter (show --last, history) */
        const char *journal_directory;
        char **journal_files;
        uint64_t since_usec; /* CLOCK_REALTIME; 0: no limit */
        unsigned lines;      /* history: at most this many runs */
        bool json;
        bool nagios;
        bool evidence;
        bool last;
        bool full;                /* do not cut lines to the terminal's width */
        bool wait;                /* verify: follow the run to its verdict */
        uint64_t timeout_usec;    /* verify --wait: give up waiting after this long */
        const char *daemon_path;  /* verify without systemd: the daemon to run */
        const char *setup_server; /* setup: nautobot-server, instead of nautobot.service's */
        const char *setup_url;    /* setup: Nautobot's URL, instead of nautobot.service's */
        bool force;               /* setup: replace the configuration and secrets */
        const char *from;         /* rollback: VERSION's files (a wheel, a directory) */
        bool color;
        unsigned columns; /* the terminal's width; 0: not a terminal, nothing is cut */
} CtlOptions;

int ctl_status(const CtlOptions *o);
int ctl_show(const CtlOptions *o, const char *run_id);
int ctl_history(const CtlOptions *o);
int ctl_diff(const CtlOptions *o, const char *a, const char *b);
/* Starts a verification (systemd's check unit, forced; or the daemon in this process). */
int ctl_verify(const CtlOptions *o);
/*
 * What rolling 'package' back to 'version' means here, read-only (ctl-rollback.c): the
 * target migration, Django's backward plan and what it drops, counted; the guide's commands.
 */
int ctl_rollback(const CtlOptions *o, const char *package, const char *version);
/* Creates the verifier's account in Nautobot and writes what is absent of its configuration
 * (ctl-setup.c). */
int ctl_setup(const CtlOptions *o);

/* ---- output (ctl-output.c) ---- */

typedef enum CtlColor {
        COLOR_NONE,
        COLOR_BOLD,
        COLOR_RED,
        COLOR_GREEN,
        COLOR_YELLOW,
        COLOR_GREY,
} CtlColor;

/* The escape sequence that starts colour 'c' and the one that ends it; "" without colour. */
const char *ctl_color_on(const CtlOptions *o, CtlColor c);
const char *ctl_color_off(const CtlOptions *o, CtlColor c);
/* The colour a result or verdict word is shown in ("pass" green, "fail" red, ...). */
CtlColor ctl_result_color(const char *result);
/*
 * The word shown for a result: "pass", "FAIL", "error", "skipped", "incomplete"; another
 * word of letters, digits, '-' and '_' as it is; anything else (escape sequences, bytes that
 * are not text) "invalid". Safe to print unescaped.
 */
const char *ctl_result_word(const char *result);

/* Fills in colour and columns from stdout, NO_COLOR and TERM. */
void ctl_detect_terminal(CtlOptions *o);

/*
 * Prints one line, cut to the terminal's width with "…" when o->columns is set
 * (escape sequences do not count). 'line' is printed as it is: escape what came
 * from elsewhere first (ctl_escape()).
 */
void ctl_print_line(const CtlOptions *o, const char *line);

/*
 * Prints 'prefix' (of 'prefix_cells' visible cells), then 'text' word-wrapped
 * to the terminal's width, continuation lines indented by 'indent' cells. Not
 * a terminal: one line.
 */
void ctl_print_wrapped(const CtlOptions *o, const char *prefix, size_t prefix_cells, size_t indent,
                       const char *text);

/*
 * utf8_escape_control() that never returns NULL ("?" when out of memory); caller frees.
 * Every string read from the journal or the state goes through it before it is printed.
 */
char *ctl_escape(const char *s);

/* A JSON string of s with bytes that are not UTF-8 replaced by U+FFFD; NULL gives JSON null. */
json_object *ctl_json_string(const char *s);
/* A JSON document of CTL_SCHEMA for 'command' (caller adds the rest). */
json_object *ctl_json_document(const char *command);
/* Prints it (pretty, one trailing newline), takes it; -ENOMEM or -EIO. */
int ctl_json_print(json_object *doc);
/* Adds "<key>_usec" and "<key>" (RFC 3339, UTC) for a CLOCK_REALTIME time; 0 gives nulls. */
void ctl_json_add_time(json_object *o, const char *key, uint64_t usec);

/* "2026-05-20 14:02:11" (local time) */
void ctl_format_time(uint64_t usec, char *buf, size_t size);
/* "12 s ago", "5 min ago", "3 h ago", "2 days ago" (the future: "in the future") */
void ctl_format_ago(uint64_t usec, uint64_t now, char *buf, size_t size);
/* "6.2 s", "120 ms" */
void ctl_format_duration(uint64_t usec, char *buf, size_t size);

/*
 * --since: "@SECONDS", "YYYY-MM-DD", "YYYY-MM-DD HH:MM[:SS]", "today",
 * "yesterday", "now", "-DURATION" or "DURATION ago" (parse_duration()'s units).
 */
int ctl_parse_time(const char *s, uint64_t *ret);

uint64_t ctl_now_realtime(void);
